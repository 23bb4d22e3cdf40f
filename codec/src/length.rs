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
//! tokio-util's `LengthDelimitedCodec` (0.7.20) ends cleanly when a stream
//! stops right after a complete length field with nothing buffered, and
//! reports an over-limit length as an untyped `io::Error` ("frame size too
//! big"). [`StrictLengthCodec`] wraps it: it checks the length field itself
//! first, with a typed [`FrameError::BodyTooLong`] carrying both numbers,
//! and reports any end of stream inside a frame as
//! [`FrameError::Truncated`]. The inner codec also reserves the declared
//! length as soon as it reads a length field; [`StrictLengthCodec`] hands
//! it only complete frames and grows the buffer with the bytes that arrive
//! instead. The splitting itself stays tokio-util's.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

use crate::{
    error::{CodecError, FrameError, FramePart},
    growth,
};

/// Size of the length field.
const FIELD_LEN: usize = 4;

/// tokio-util's `LengthDelimitedCodec` with its default wire format (4-byte
/// big-endian length) and a maximum frame length, plus typed errors and an
/// end-of-stream check that the inner codec lacks.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use framecheck_codec::{CodecError, FramePart, FrameError, StrictLengthCodec};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = StrictLengthCodec::new(1024);
/// let mut buf = BytesMut::from(&b"\0\0\0\x02hi"[..]);
/// assert_eq!(&codec.decode_eof(&mut buf).unwrap().unwrap()[..], b"hi");
///
/// // The stream stops right after a length field.
/// let mut buf = BytesMut::from(&b"\0\0\0\x02"[..]);
/// assert_eq!(codec.decode(&mut buf).unwrap(), None);
/// match codec.decode_eof(&mut buf) {
///     Err(CodecError::Frame(FrameError::Truncated { part: FramePart::Body, received: 0, expected: 2 })) => {}
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct StrictLengthCodec {
    inner: LengthDelimitedCodec,
    max_frame_len: usize,
    /// The body length of the frame whose length field has arrived (it
    /// stays in the buffer until the whole frame has); `None` between
    /// frames.
    body_len: Option<usize>,
    /// How the buffer grows, and the largest frame received in full (room
    /// up to that size is reserved at once for the next one).
    room: growth::Room,
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
            max_frame_len,
            body_len: None,
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

    /// The maximum frame length.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// The length field for a body of `len` bytes, to write before the body
    /// itself (vectored, without a copy); the format the inner codec reads.
    ///
    /// # Errors
    ///
    /// [`FrameError::BodyTooLong`] when `len` exceeds the maximum frame
    /// length.
    pub fn length_field(&self, len: usize) -> Result<[u8; FIELD_LEN], FrameError> {
        match u32::try_from(len) {
            Ok(n) if len <= self.max_frame_len => Ok(n.to_be_bytes()),
            _ => Err(FrameError::BodyTooLong {
                declared: len as u64,
                limit: self.max_frame_len,
            }),
        }
    }
}

impl StrictLengthCodec {
    /// The body length the frame being decoded declares, once its length
    /// field has arrived and passed the limit; `None` between frames.
    ///
    /// A claim, not memory: the buffer grows only with the bytes that
    /// arrive.
    pub fn declared_body_len(&self) -> Option<usize> {
        self.body_len
    }
}

impl Decoder for StrictLengthCodec {
    type Item = BytesMut;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
        let body_len = match self.body_len {
            Some(n) => n,
            None => {
                let Some(field) = src.get(..FIELD_LEN) else {
                    return Ok(None);
                };
                let declared = u32::from_be_bytes(field.try_into().expect("slice of length 4"));
                match usize::try_from(declared) {
                    Ok(n) if n <= self.max_frame_len => {
                        self.body_len = Some(n);
                        n
                    }
                    _ => {
                        return Err(FrameError::BodyTooLong {
                            declared: u64::from(declared),
                            limit: self.max_frame_len,
                        }
                        .into())
                    }
                }
            }
        };
        // The length field stays in `src` until the whole frame is there:
        // the inner codec only ever sees complete frames, so it never
        // reserves the declared length up front.
        let frame_len = FIELD_LEN + body_len;
        if src.len() < frame_len {
            // Room past the frame for the next length field, which the inner
            // codec reserves as soon as it splits a frame off.
            self.room.reserve_toward(src, frame_len, 0, FIELD_LEN);
            return Ok(None);
        }
        let frame = self.inner.decode(src)?;
        debug_assert!(frame.is_some(), "a complete frame is buffered");
        if frame.is_some() {
            self.body_len = None;
            self.room.earn(frame_len);
        }
        Ok(frame)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        let (part, received, expected) = match self.body_len {
            Some(n) => (FramePart::Body, buf.len().saturating_sub(FIELD_LEN), n),
            None if buf.is_empty() => return Ok(None),
            None => (FramePart::HeaderLength, buf.len(), FIELD_LEN),
        };
        Err(FrameError::Truncated {
            part,
            received,
            expected,
        }
        .into())
    }
}

impl Encoder<Bytes> for StrictLengthCodec {
    type Error = CodecError;

    /// Appends the length field and the body; refuses a body over the
    /// limit with [`FrameError::BodyTooLong`], leaving `dst` untouched.
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.length_field(item.len())?;
        Ok(self.inner.encode(item, dst)?)
    }
}
