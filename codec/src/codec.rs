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

use std::mem;

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::{
    error::{CodecError, FrameError, FramePart},
    frame::Frame,
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
}

#[derive(Debug, Clone, Default)]
enum DecodeState {
    /// Waiting for the 4-byte header length.
    #[default]
    Length,
    /// Length read and checked; waiting for this many header bytes.
    Header(usize),
    /// Header parsed and checked; waiting for this many body bytes.
    Body(Header, usize),
}

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
        }
    }

    /// The codec's limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the decoder is between frames (no partial frame consumed).
    pub fn is_between_frames(&self) -> bool {
        matches!(self.state, DecodeState::Length)
    }
}

impl Decoder for HeaderCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if let DecodeState::Length = self.state {
            let Some(field) = src.get(..LENGTH_FIELD_LEN) else {
                return Ok(None);
            };
            let field: [u8; LENGTH_FIELD_LEN] = field.try_into().expect("slice of length 4");
            let header_len = wire::decode_header_len(field, &self.limits)?;
            src.advance(LENGTH_FIELD_LEN);
            // Bounded by Limits::header().
            src.reserve(header_len.saturating_sub(src.len()));
            self.state = DecodeState::Header(header_len);
        }
        if let DecodeState::Header(header_len) = self.state {
            let Some(bytes) = src.get(..header_len) else {
                return Ok(None);
            };
            let header = wire::decode_header(bytes, &self.limits)?;
            let body_len = wire::body_len(&header, &self.limits)?;
            src.advance(header_len);
            // Bounded by Limits::body().
            src.reserve(body_len.saturating_sub(src.len()));
            self.state = DecodeState::Body(header, body_len);
        }
        match self.state {
            DecodeState::Body(_, body_len) if src.len() >= body_len => {
                let DecodeState::Body(header, _) = mem::take(&mut self.state) else {
                    unreachable!("matched Body above");
                };
                let body = src.split_to(body_len).freeze();
                Ok(Some(Frame { header, body }))
            }
            _ => Ok(None),
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        let (part, expected) = match self.state {
            DecodeState::Length if buf.is_empty() => return Ok(None),
            DecodeState::Length => (FramePart::HeaderLength, LENGTH_FIELD_LEN),
            DecodeState::Header(n) => (FramePart::Header, n),
            DecodeState::Body(_, n) => (FramePart::Body, n),
        };
        Err(FrameError::Truncated {
            part,
            received: buf.len(),
            expected,
        }
        .into())
    }
}

impl Encoder<Frame> for HeaderCodec {
    type Error = CodecError;

    /// Appends the frame to `dst`.
    ///
    /// Refuses, leaving `dst` as it was, a frame whose header's `data_size`
    /// disagrees with its body or that exceeds the limits.
    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        wire::encode_prefix(&frame.header, frame.body.len(), &self.limits, dst)?;
        dst.extend_from_slice(&frame.body);
        Ok(())
    }
}
