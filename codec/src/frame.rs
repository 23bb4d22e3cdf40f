//! The item [`HeaderCodec`](crate::HeaderCodec) decodes and encodes.

use bytes::Bytes;

use crate::header::Header;

/// One header-prefixed frame: its JSON header and its body.
///
/// The body is `Bytes`: decoding splits it off the read buffer without a
/// copy, and encoding can hand it to a vectored write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    /// The header; its `data_size` must equal `body.len()` to be encoded.
    pub header: Header,
    /// The body.
    pub body: Bytes,
}

impl Frame {
    /// A frame with a minimal header (`{"data_size": N}`) for `body`.
    ///
    /// ```
    /// let frame = framecheck_codec::Frame::new(&b"hello"[..]);
    /// assert_eq!(frame.header.data_size, 5);
    /// ```
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        Frame {
            header: Header::new(body.len() as u64),
            body,
        }
    }

    /// A frame with `header`, whose `data_size` is set to the body's length.
    pub fn with_header(mut header: Header, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        header.data_size = body.len() as u64;
        Frame { header, body }
    }
}
