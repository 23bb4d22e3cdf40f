//! [`VerbatimCodec`]: the header-prefixed format, with each frame's header
//! kept byte for byte as the peer sent it.
//!
//! ```text
//! +--------------------+---------------------------------------------+------------------+
//! | header length      | header: UTF-8 JSON object                   | body             |
//! | 4 bytes, i32 LE    | {"data_size": N, ...any other fields...}    | exactly N bytes  |
//! +--------------------+---------------------------------------------+------------------+
//!                       parsed and checked as by HeaderCodec, and
//!                       kept as received (split off, no copy)
//! ```
//!
//! Parsing a header and writing it out again need not give the same bytes,
//! nor the same length: JSON has many spellings of one value (`1e15` is
//! read as a float and written back as `1000000000000000.0`, four bytes
//! become eighteen). A server that answers with the request's header (an
//! echo, a proxy) can send the original bytes instead, and a header that
//! was within the limit on the way in is within it on the way out.

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::{
    codec::HeaderCodec,
    error::{CodecError, FrameError},
    frame::Frame,
    header::Header,
    limits::Limits,
    wire::LENGTH_FIELD_LEN,
};

/// A frame with its header's bytes as received.
///
/// The parsed header, the header bytes and the body always agree: the
/// header's `data_size` is the body's length and the bytes are the JSON the
/// header was parsed from (or, for [`VerbatimFrame::new`], written from).
///
/// ```
/// use framecheck_codec::{Frame, FrameError, VerbatimFrame};
///
/// let frame = VerbatimFrame::new(Frame::new(&b"hi"[..])).unwrap();
/// assert_eq!(&frame.header_json()[..], br#"{"data_size":2}"#);
/// let upper = frame.with_body(&b"HI"[..]).unwrap();
/// assert_eq!(&upper.body()[..], b"HI");
/// // Another length would contradict the header's bytes.
/// let err = upper.with_body(&b"HIS"[..]).unwrap_err();
/// assert_eq!(err, FrameError::DataSizeMismatch { data_size: 2, body_len: 3 });
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VerbatimFrame {
    header: Header,
    header_json: Bytes,
    body: Bytes,
}

impl VerbatimFrame {
    /// A frame whose header bytes are `frame.header` written as compact JSON.
    ///
    /// # Errors
    ///
    /// [`FrameError::DataSizeMismatch`] when the header's `data_size` is not
    /// the body's length, [`FrameError::ReservedField`] as
    /// [`Header::to_json`].
    pub fn new(frame: Frame) -> Result<Self, FrameError> {
        check_len(&frame.header, frame.body.len())?;
        let header_json = Bytes::from(frame.header.to_json()?);
        Ok(VerbatimFrame {
            header: frame.header,
            header_json,
            body: frame.body,
        })
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header's JSON bytes, as received.
    pub fn header_json(&self) -> &Bytes {
        &self.header_json
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The same header (bytes and all) with another body of the same length.
    ///
    /// # Errors
    ///
    /// [`FrameError::DataSizeMismatch`] when `body` has another length.
    pub fn with_body(self, body: impl Into<Bytes>) -> Result<Self, FrameError> {
        let body = body.into();
        check_len(&self.header, body.len())?;
        Ok(VerbatimFrame { body, ..self })
    }

    /// The header, its bytes and the body.
    pub fn into_parts(self) -> (Header, Bytes, Bytes) {
        (self.header, self.header_json, self.body)
    }

    /// The frame without its header bytes.
    pub fn into_frame(self) -> Frame {
        Frame {
            header: self.header,
            body: self.body,
        }
    }

    /// The 4-byte header length field that goes before
    /// [`VerbatimFrame::header_json`] on the wire, for a vectored write of
    /// field, header and body.
    ///
    /// # Errors
    ///
    /// [`FrameError::HeaderTooLong`] when the header bytes exceed `limits`.
    pub fn length_field(&self, limits: &Limits) -> Result<[u8; LENGTH_FIELD_LEN], FrameError> {
        let n = self.header_json.len();
        if n > limits.header() {
            return Err(FrameError::HeaderTooLong {
                declared: n as u64,
                limit: limits.header(),
            });
        }
        // n <= limits.header() <= i32::MAX: the cast is lossless.
        Ok((n as u32).to_le_bytes())
    }
}

impl From<VerbatimFrame> for Frame {
    fn from(f: VerbatimFrame) -> Frame {
        f.into_frame()
    }
}

fn check_len(header: &Header, body_len: usize) -> Result<(), FrameError> {
    if u64::try_from(body_len).ok() == Some(header.data_size) {
        Ok(())
    } else {
        Err(FrameError::DataSizeMismatch {
            data_size: header.data_size,
            body_len,
        })
    }
}

/// [`HeaderCodec`] with [`VerbatimFrame`] as the item: the same checks, the
/// same errors, the same memory bound, and each header's bytes kept.
///
/// ```
/// use bytes::BytesMut;
/// use framecheck_codec::VerbatimCodec;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = VerbatimCodec::new();
/// let wire = b"\x15\0\0\0{\"data_size\": 2     }hi";
/// let mut buf = BytesMut::from(&wire[..]);
/// let frame = codec.decode(&mut buf).unwrap().unwrap();
/// assert_eq!(frame.header().data_size, 2);
/// let mut out = BytesMut::new();
/// codec.encode(frame, &mut out).unwrap();
/// assert_eq!(&out[..], &wire[..], "spaces and all");
/// ```
#[derive(Debug, Clone, Default)]
pub struct VerbatimCodec {
    inner: HeaderCodec,
}

impl VerbatimCodec {
    /// A codec with the default [`Limits`].
    pub fn new() -> Self {
        VerbatimCodec::default()
    }

    /// A codec with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        VerbatimCodec {
            inner: HeaderCodec::with_limits(limits),
        }
    }

    /// The codec's limits.
    pub fn limits(&self) -> &Limits {
        self.inner.limits()
    }

    /// As [`HeaderCodec::is_between_frames`].
    pub fn is_between_frames(&self) -> bool {
        self.inner.is_between_frames()
    }

    /// As [`HeaderCodec::declared_body_len`].
    pub fn declared_body_len(&self) -> Option<usize> {
        self.inner.declared_body_len()
    }
}

impl Decoder for VerbatimCodec {
    type Item = VerbatimFrame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<VerbatimFrame>, CodecError> {
        Ok(self
            .inner
            .decode_parts(src, true)?
            .map(|(header, raw, body)| VerbatimFrame {
                header,
                header_json: raw.expect("decode_parts keeps the header when asked"),
                body,
            }))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<VerbatimFrame>, CodecError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        self.inner.check_eof(buf)?;
        Ok(None)
    }
}

impl Encoder<VerbatimFrame> for VerbatimCodec {
    type Error = CodecError;

    /// Appends the length field, the header bytes and the body.
    ///
    /// Refuses, leaving `dst` as it was, a header or body over the limits.
    fn encode(&mut self, frame: VerbatimFrame, dst: &mut BytesMut) -> Result<(), CodecError> {
        let limits = *self.inner.limits();
        let field = frame.length_field(&limits)?;
        crate::wire::body_len(&frame.header, &limits)?;
        dst.reserve(LENGTH_FIELD_LEN + frame.header_json.len() + frame.body.len());
        dst.put_slice(&field);
        dst.put_slice(&frame.header_json);
        dst.put_slice(&frame.body);
        Ok(())
    }
}
