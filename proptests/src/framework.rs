//! The codec frameworks the harness drives, and the end-of-stream rule of
//! each one's `FramedRead`.
//!
//! | framework | decoder trait | at end of stream |
//! |---|---|---|
//! | tokio-util 0.7 | `tokio_util::codec::Decoder` | `decode_eof` until `Ok(None)`, whatever is buffered; bytes left over are the decoder's business (the default `decode_eof` errs on them) |
//! | asynchronous-codec 0.7 (feature `asynchronous-codec`) | `asynchronous_codec::Decoder`, wrapped in `Async` | `decode` once more; an empty buffer then ends the stream **without** `decode_eof`; otherwise `decode_eof`, and `Ok(None)` with bytes still buffered is an `UnexpectedEof` error made by `FramedRead` itself |
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
/// asynchronous-codec decoders wrapped in `Async` (feature
/// `asynchronous-codec`). Implemented for you.
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
    fn decode_frame_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error>;
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
/// `Async` (feature `asynchronous-codec`). Implemented for you.
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

#[cfg(all(test, feature = "asynchronous-codec"))]
mod tests {
    use std::{
        io,
        pin::Pin,
        task::{Context, Poll},
    };

    use bytes::Buf;
    use futures_util::{io::AsyncRead, StreamExt};
    use proptest::{collection::vec, prelude::*};

    use super::*;
    use crate::drive::{feed, ReadLimit, Stop};

    /// A one-byte length, then the body; the length is taken into state
    /// as soon as it arrives. `decode_eof` errs when a frame is pending;
    /// with `leave`, it leaves a lone trailing byte in the buffer and
    /// returns `Ok(None)`.
    #[derive(Default)]
    struct Pending {
        body: Option<usize>,
        leave: bool,
    }

    impl asynchronous_codec::Decoder for Pending {
        type Item = Vec<u8>;
        type Error = io::Error;

        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
            if self.body.is_none() {
                if src.is_empty() {
                    return Ok(None);
                }
                self.body = Some(usize::from(src.get_u8()));
            }
            let n = self.body.expect("set above");
            if src.len() < n {
                return Ok(None);
            }
            self.body = None;
            Ok(Some(src.split_to(n).to_vec()))
        }

        fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
            if let Some(item) = self.decode(src)? {
                return Ok(Some(item));
            }
            if self.leave && src.len() <= 1 {
                return Ok(None);
            }
            if self.body.is_some() || !src.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "inside a frame",
                ));
            }
            Ok(None)
        }
    }

    /// Serves `data` in reads ending at `ends`, then end of stream.
    struct Reads {
        data: Vec<u8>,
        ends: Vec<usize>,
        at: usize,
    }

    impl AsyncRead for Reads {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let this = &mut *self;
            let end = this
                .ends
                .iter()
                .copied()
                .find(|&e| e > this.at)
                .unwrap_or(this.data.len());
            let n = (end - this.at).min(buf.len());
            buf[..n].copy_from_slice(&this.data[this.at..this.at + n]);
            this.at += n;
            Poll::Ready(Ok(n))
        }
    }

    /// What the real `asynchronous_codec::FramedRead` makes of the reads:
    /// the items, and whether it ended with an error.
    fn real(leave: bool, data: &[u8], ends: &[usize]) -> (Vec<Vec<u8>>, bool) {
        let reads = Reads {
            data: data.to_vec(),
            ends: ends.to_vec(),
            at: 0,
        };
        let codec = Pending { body: None, leave };
        let mut framed = asynchronous_codec::FramedRead::new(reads, codec);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut items = Vec::new();
            // asynchronous-codec's FramedRead keeps polling after the end;
            // the first `None` or error ends the stream, as for a user.
            while items.len() <= data.len() {
                match framed.next().await {
                    Some(Ok(item)) => items.push(item),
                    Some(Err(_)) => return (items, true),
                    None => return (items, false),
                }
            }
            (items, false)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// The harness's model of asynchronous-codec's end-of-stream rule
        /// is the real `FramedRead`'s, read by read.
        #[test]
        fn async_model_matches_the_real_framed_read(
            data in vec(0u8..6, 0..24),
            mut ends in vec(0usize..24, 0..6),
            leave in any::<bool>(),
        ) {
            ends.retain(|&e| e > 0 && e < data.len());
            ends.sort_unstable();
            ends.dedup();
            let mut model = Async(Pending { body: None, leave });
            let run = feed(&mut model, &data, &ends, ReadLimit::Fixed(8192), data.len() + 1);
            let errored = match run.stop {
                Stop::Clean => false,
                Stop::Error { .. } => true,
                other => panic!("{other:?}"),
            };
            prop_assert_eq!((run.items, errored), real(leave, &data, &ends));
        }
    }

    #[test]
    fn the_rules_differ_where_the_buffer_is_empty_at_the_end() {
        // A length byte taken into state, then the end: tokio-util calls
        // decode_eof (an error here), asynchronous-codec ends cleanly.
        let mut tokio_rule = crate::decode_in_reads(&mut TokioPending::default(), b"\x03", &[]);
        assert!(tokio_rule.1.is_err());
        tokio_rule.0.clear();
        let run = feed(
            &mut Async(Pending::default()),
            b"\x03",
            &[],
            ReadLimit::Unlimited,
            2,
        );
        assert!(matches!(run.stop, Stop::Clean));
        assert_eq!(real(false, b"\x03", &[]), (vec![], false));
    }

    /// `Pending` as a tokio-util decoder.
    #[derive(Default)]
    struct TokioPending(Pending);

    impl tokio_util::codec::Decoder for TokioPending {
        type Item = Vec<u8>;
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
            asynchronous_codec::Decoder::decode(&mut self.0, src)
        }
        fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
            asynchronous_codec::Decoder::decode_eof(&mut self.0, src)
        }
    }
}
