//! The codec frameworks the harness drives, and the end-of-stream rule of
//! each one's `FramedRead`.
//!
//! | framework | decoder trait | at end of stream |
//! |---|---|---|
//! | tokio-util 0.7 | `tokio_util::codec::Decoder` | `decode_eof` until `Ok(None)`, whatever is buffered; bytes left over are the decoder's business (the default `decode_eof` errs on them) |
//! | asynchronous-codec 0.7 (feature `asynchronous-codec`) | `asynchronous_codec::Decoder`, wrapped in [`Async`] | `decode` once more; an empty buffer then ends the stream **without** `decode_eof`; otherwise `decode_eof`, and `Ok(None)` with bytes still buffered is an `UnexpectedEof` error made by `FramedRead` itself |
//!
//! Reads: tokio-util's `FramedRead` reads into its buffer's spare capacity
//! (8 KiB at first, `reserve(1)` before each read, the buffer growing as
//! `BytesMut` grows); asynchronous-codec's reads at most 8 KiB at a time
//! into a stack buffer. See [`ReadLimit`](crate::ReadLimit).

use std::fmt::Debug;

use bytes::BytesMut;

/// How a framework's `FramedRead` ends a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EofRule {
    /// tokio-util 0.7: `decode_eof` until `Ok(None)`.
    TokioUtil,
    /// asynchronous-codec 0.7: `decode`; an empty buffer is a clean end;
    /// else `decode_eof`, and `Ok(None)` with bytes left is an error.
    AsynchronousCodec,
}

/// A decoder the harness can drive: every tokio-util `Decoder`, and
/// asynchronous-codec decoders wrapped in [`Async`]. Implemented for you.
pub trait FrameDecoder {
    /// The decoded item.
    type Item;
    /// The decoder's error.
    type Error;
    /// The end-of-stream rule of this decoder's framework.
    const EOF_RULE: EofRule;
    /// One `decode` call.
    ///
    /// # Errors
    ///
    /// The decoder's.
    fn decode_frame(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error>;
    /// One `decode_eof` call.
    ///
    /// # Errors
    ///
    /// The decoder's.
    fn decode_frame_eof(&mut self, src: &mut BytesMut)
        -> Result<Option<Self::Item>, Self::Error>;
    /// The error the framework's `FramedRead` makes itself when a stream
    /// ends with bytes left over (asynchronous-codec only).
    fn leftover_error() -> Option<Self::Error> {
        None
    }
}

impl<D: tokio_util::codec::Decoder> FrameDecoder for D {
    type Item = D::Item;
    type Error = D::Error;
    const EOF_RULE: EofRule = EofRule::TokioUtil;

    fn decode_frame(&mut self, src: &mut BytesMut) -> Result<Option<D::Item>, D::Error> {
        self.decode(src)
    }

    fn decode_frame_eof(&mut self, src: &mut BytesMut) -> Result<Option<D::Item>, D::Error> {
        self.decode_eof(src)
    }
}

/// An encoder the harness can drive for items of type `I`: every
/// tokio-util `Encoder<I>`, and asynchronous-codec encoders wrapped in
/// [`Async`]. Implemented for you.
pub trait FrameEncoder<I> {
    /// The encoder's error.
    type Error: Debug;
    /// One `encode` call.
    ///
    /// # Errors
    ///
    /// The encoder's.
    fn encode_frame(&mut self, item: I, dst: &mut BytesMut) -> Result<(), Self::Error>;
}

impl<C: tokio_util::codec::Encoder<I>, I> FrameEncoder<I> for C
where
    C::Error: Debug,
{
    type Error = C::Error;

    fn encode_frame(&mut self, item: I, dst: &mut BytesMut) -> Result<(), C::Error> {
        self.encode(item, dst)
    }
}

/// An asynchronous-codec (futures-codec) codec, driven with that crate's
/// `FramedRead` rules: wrap the codec your factory returns,
/// `|| Async(MyCodec::new())`.
#[cfg(feature = "asynchronous-codec")]
#[derive(Debug, Clone, Default)]
pub struct Async<C>(pub C);

#[cfg(feature = "asynchronous-codec")]
impl<C: asynchronous_codec::Decoder> FrameDecoder for Async<C> {
    type Item = C::Item;
    type Error = C::Error;
    const EOF_RULE: EofRule = EofRule::AsynchronousCodec;

    fn decode_frame(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>, C::Error> {
        self.0.decode(src)
    }

    fn decode_frame_eof(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>, C::Error> {
        self.0.decode_eof(src)
    }

    fn leftover_error() -> Option<C::Error> {
        Some(
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "bytes remaining in stream",
            )
            .into(),
        )
    }
}

// The encoder side goes through tokio-util's trait: encoding has no
// end-of-stream rule to differ on.
#[cfg(feature = "asynchronous-codec")]
impl<C, I> tokio_util::codec::Encoder<I> for Async<C>
where
    C: for<'a> asynchronous_codec::Encoder<Item<'a> = I>,
{
    type Error = <C as asynchronous_codec::Encoder>::Error;

    fn encode(&mut self, item: I, dst: &mut BytesMut) -> Result<(), Self::Error> {
        self.0.encode(item, dst)
    }
}
