//! [`HeaderCodec`]: tokio-util `Decoder` and `Encoder` for header-prefixed
//! frames.
//!
//! ```text
//! +--------------------+---------------------------------------------+------------------+
//! | header length      | header: UTF-8 JSON object                   | body             |
//! | 4 bytes, i32 LE    | {"data_size": N, ...any other fields...}    | exactly N bytes  |
//! +--------------------+---------------------------------------------+------------------+
//!   checked against      parsed and checked (data_size against          split off without
//!   Limits::header()     Limits::body()) before the body is awaited     a copy
//! ```
//!
//! The read buffer grows with the bytes that arrive, never with the
//! lengths a peer declares: while a header or body is awaited, the decoder
//! gives the buffer at most twice what it holds of the frame (or that plus
//! 8 KiB, one read's worth, when it holds less), and room for a whole frame
//! at once only when the peer has already sent one at least that large; so
//! a header claiming 8 MiB and then nothing costs a few kilobytes.

use std::mem;

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::{
    error::{CodecError, FrameError, FramePart},
    frame::Frame,
    growth,
    header::Header,
    limits::Limits,
    wire::{self, LENGTH_FIELD_LEN},
};

/// Decodes and encodes [`Frame`]s in the header-prefixed wire format.
///
/// The decoder's contract is tokio-util's: `Ok(Some(frame))` is a frame,
/// `Ok(None)` means more bytes are needed, and `Err` means the stream is
/// corrupt and the connection should be closed (calling again returns the
/// same error; nothing is skipped to resynchronise). At end of stream,
/// [`Decoder::decode_eof`] reports a stream that stops anywhere inside a
/// frame, even right after a complete length field or header with nothing
/// buffered, as [`FrameError::Truncated`].
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use framecheck_codec::{CodecError, Frame, FrameError, HeaderCodec};
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = HeaderCodec::new();
/// let mut buf = BytesMut::new();
/// codec.encode(Frame::new(&b"hi"[..]), &mut buf).unwrap();
/// assert_eq!(&buf[..], b"\x0f\0\0\0{\"data_size\":2}hi");
/// assert_eq!(codec.decode(&mut buf).unwrap().unwrap().body, &b"hi"[..]);
///
/// // A header length of -1: the stream is corrupt.
/// let mut bad = BytesMut::from(&b"\xff\xff\xff\xff"[..]);
/// match codec.decode(&mut bad) {
///     Err(CodecError::Frame(FrameError::NegativeHeaderLength { declared: -1 })) => {}
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct HeaderCodec {
    limits: Limits,
    state: DecodeState,
    /// How the read buffer grows, and the largest frame received in full
    /// (a frame up to that size gets its room at once).
    room: growth::Room,
}

#[derive(Debug, Clone, Default)]
enum DecodeState {
    /// Waiting for the 4-byte header length.
    #[default]
    Length,
    /// Length read and checked; waiting for this many header bytes.
    Header(usize),
    /// Header parsed and checked; waiting for `len` body bytes.
    Body {
        header: Header,
        /// The header's bytes as received, when the caller keeps them.
        raw: Option<Bytes>,
        /// Bytes of the frame before the body (length field and header).
        prefix: usize,
        len: usize,
    },
}

/// A decoded frame's parts: the header, its bytes as received (when asked
/// for), the body.
pub(crate) type Parts = (Header, Option<Bytes>, Bytes);

impl HeaderCodec {
    /// A codec with the default [`Limits`] (64 KiB header, 8 MiB body).
    pub fn new() -> Self {
        HeaderCodec::default()
    }

    /// A codec with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        HeaderCodec {
            limits,
            state: DecodeState::Length,
            room: growth::Room::default(),
        }
    }

    /// The codec with another growth rule; for the codec benches, which
    /// measure [`Growth::Received`](growth::Growth) (the default) against
    /// reserving each declared length up front.
    #[doc(hidden)]
    pub fn with_growth(mut self, growth: growth::Growth) -> Self {
        self.room = growth::Room::new(growth);
        self
    }

    /// The codec's limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the decoder is between frames (no partial frame consumed).
    pub fn is_between_frames(&self) -> bool {
        matches!(self.state, DecodeState::Length)
    }

    /// The body length the frame being decoded declares, once its header
    /// has been parsed and checked; `None` before that and between frames.
    ///
    /// This is a claim, not memory: the decoder's buffer grows only with
    /// the body bytes that arrive. A server with a memory budget can weigh
    /// the claim against what it has left.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use framecheck_codec::HeaderCodec;
    /// use tokio_util::codec::Decoder;
    ///
    /// let mut codec = HeaderCodec::new();
    /// let mut buf = BytesMut::from(&b"\x16\0\0\0{\"data_size\": 8000000}"[..]);
    /// assert_eq!(codec.decode(&mut buf).unwrap(), None);
    /// assert_eq!(codec.declared_body_len(), Some(8_000_000));
    /// // Nothing near 8 MB was reserved for it.
    /// assert!(buf.capacity() < 64 * 1024);
    /// ```
    pub fn declared_body_len(&self) -> Option<usize> {
        match self.state {
            DecodeState::Body { len, .. } => Some(len),
            _ => None,
        }
    }

    /// Appends a borrowed frame to `dst`: what [`Encoder<Frame>`] runs
    /// (the same bytes, the same errors), for a caller that keeps its
    /// frames (a test comparing the decoded frames with the ones sent,
    /// without cloning them for the encoder).
    ///
    /// # Errors
    ///
    /// As [`Encoder<Frame>`]: a frame whose header's `data_size` disagrees
    /// with its body or that exceeds the limits, `dst` left as it was.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use framecheck_codec::{Frame, HeaderCodec};
    /// use tokio_util::codec::Encoder;
    ///
    /// let frame = Frame::new(&b"hi"[..]);
    /// let (mut borrowed, mut owned) = (BytesMut::new(), BytesMut::new());
    /// HeaderCodec::new().encode_borrowed(&frame, &mut borrowed).unwrap();
    /// HeaderCodec::new().encode(frame, &mut owned).unwrap();
    /// assert_eq!(borrowed, owned);
    /// ```
    pub fn encode_borrowed(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        wire::encode_prefix(&frame.header, frame.body.len(), &self.limits, dst)?;
        dst.extend_from_slice(&frame.body);
        Ok(())
    }

    /// The decoder proper; `keep_header` keeps the header's bytes as
    /// received (split off the buffer without a copy).
    pub(crate) fn decode_parts(
        &mut self,
        src: &mut BytesMut,
        keep_header: bool,
    ) -> Result<Option<Parts>, CodecError> {
        if let DecodeState::Length = self.state {
            let Some(field) = src.get(..LENGTH_FIELD_LEN) else {
                return Ok(None);
            };
            let field: [u8; LENGTH_FIELD_LEN] = field.try_into().expect("slice of length 4");
            let header_len = wire::decode_header_len(field, &self.limits)?;
            src.advance(LENGTH_FIELD_LEN);
            self.state = DecodeState::Header(header_len);
        }
        if let DecodeState::Header(header_len) = self.state {
            let Some(bytes) = src.get(..header_len) else {
                // Grown with what arrives, within Limits::header().
                self.room
                    .reserve_toward(src, header_len, LENGTH_FIELD_LEN, 0);
                return Ok(None);
            };
            let prefix = LENGTH_FIELD_LEN + header_len;
            self.room.earn(prefix);
            let header = wire::decode_header(bytes, &self.limits)?;
            let len = wire::body_len(&header, &self.limits)?;
            let raw = if keep_header {
                Some(src.split_to(header_len).freeze())
            } else {
                src.advance(header_len);
                None
            };
            self.state = DecodeState::Body {
                header,
                raw,
                prefix,
                len,
            };
        }
        match self.state {
            DecodeState::Body { len, prefix, .. } if src.len() >= len => {
                let DecodeState::Body { header, raw, .. } = mem::take(&mut self.state) else {
                    unreachable!("matched Body above");
                };
                let body = src.split_to(len).freeze();
                self.room.earn(prefix + len);
                Ok(Some((header, raw, body)))
            }
            DecodeState::Body { len, prefix, .. } => {
                // Never the declared size up front: grown with what arrives.
                // The next frame's prefix is given room past this one's end.
                self.room.reserve_toward(src, len, prefix, prefix);
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// The end-of-stream rule of [`Decoder::decode_eof`], after `decode`
    /// returned `Ok(None)`.
    pub(crate) fn check_eof(&self, buf: &BytesMut) -> Result<(), CodecError> {
        let (part, expected) = match self.state {
            DecodeState::Length if buf.is_empty() => return Ok(()),
            DecodeState::Length => (FramePart::HeaderLength, LENGTH_FIELD_LEN),
            DecodeState::Header(n) => (FramePart::Header, n),
            DecodeState::Body { len, .. } => (FramePart::Body, len),
        };
        Err(FrameError::Truncated {
            part,
            received: buf.len(),
            expected,
        }
        .into())
    }
}

impl Decoder for HeaderCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        Ok(self
            .decode_parts(src, false)?
            .map(|(header, _, body)| Frame { header, body }))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        self.check_eof(buf)?;
        Ok(None)
    }
}

impl Encoder<Frame> for HeaderCodec {
    type Error = CodecError;

    /// Appends the frame to `dst`.
    ///
    /// Refuses, leaving `dst` as it was, a frame whose header's `data_size`
    /// disagrees with its body or that exceeds the limits.
    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode_borrowed(&frame, dst)
    }
}
