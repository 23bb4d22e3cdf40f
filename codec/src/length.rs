//! The binary length-prefixed form, through tokio-util's
//! `LengthDelimitedCodec`, with a strict end of stream.
//!
//! ```text
//! +--------------------+------------------+
//! | body length        | body             |
//! | 4 bytes, u32 BE    | exactly N bytes  |
//! +--------------------+------------------+
//! ```
//!
//! `LengthDelimitedCodec` (0.7.20) ends cleanly when a stream stops right
//! after a complete length field with nothing buffered; [`StrictLengthCodec`]
//! wraps it and reports that as `UnexpectedEof`.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// tokio-util's `LengthDelimitedCodec` with its default wire format (4-byte
/// big-endian length) and a maximum frame length, plus an end-of-stream check
/// that the inner codec lacks.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use framecheck_codec::StrictLengthCodec;
/// use tokio_util::codec::Decoder;
///
/// let mut codec = StrictLengthCodec::new(1024);
/// let mut buf = BytesMut::from(&b"\0\0\0\x02hi"[..]);
/// assert_eq!(&codec.decode_eof(&mut buf).unwrap().unwrap()[..], b"hi");
///
/// // The stream stops right after a length field.
/// let mut buf = BytesMut::from(&b"\0\0\0\x02"[..]);
/// assert_eq!(codec.decode(&mut buf).unwrap(), None);
/// assert!(codec.decode_eof(&mut buf).is_err());
/// ```
#[derive(Debug)]
pub struct StrictLengthCodec {
    inner: LengthDelimitedCodec,
    in_frame: bool,
}

impl StrictLengthCodec {
    /// A codec refusing frames longer than `max_frame_len` bytes.
    pub fn new(max_frame_len: usize) -> Self {
        StrictLengthCodec {
            inner: LengthDelimitedCodec::builder()
                .length_field_type::<u32>()
                .big_endian()
                .max_frame_length(max_frame_len)
                .new_codec(),
            in_frame: false,
        }
    }

    /// The length field for a body of `len` bytes, to write before the body
    /// itself (vectored, without a copy); the format the inner codec reads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `len` exceeds the maximum frame length.
    pub fn length_field(&self, len: usize) -> io::Result<[u8; 4]> {
        match u32::try_from(len) {
            Ok(n) if len <= self.inner.max_frame_length() => Ok(n.to_be_bytes()),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {len} bytes exceeds the limit of {} bytes",
                    self.inner.max_frame_length()
                ),
            )),
        }
    }
}

impl Decoder for StrictLengthCodec {
    type Item = BytesMut;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        let before = src.len();
        let frame = self.inner.decode(src)?;
        // The inner codec consumes a length field when it has one and then
        // waits for the body: that is the only way `src` shrinks without a
        // frame coming out.
        self.in_frame = frame.is_none() && (self.in_frame || src.len() < before);
        Ok(frame)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if self.in_frame || !buf.is_empty() {
            let at = if self.in_frame {
                "body"
            } else {
                "length field"
            };
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "stream ended inside a length-delimited frame's {at} ({} bytes buffered)",
                    buf.len()
                ),
            ));
        }
        Ok(None)
    }
}

impl Encoder<Bytes> for StrictLengthCodec {
    type Error = io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
        self.inner.encode(item, dst)
    }
}
