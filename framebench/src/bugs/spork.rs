//! janet-lang/spork PR #71 ("http: Detect end-of-header in read-header even
//! when not on a packet boundary"): the HTTP reader looked for `\r\n\r\n`
//! only in the bytes each read brought, so a terminator split over two
//! reads was missed and the header ran on into the next message.
//!
//! ```text
//! +----------------------------------------------+----------+
//! | header lines "Name: value", \r\n between     | \r\n\r\n |
//! +----------------------------------------------+----------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Longest header block accepted.
pub const MAX: usize = 64 * 1024;
const END: &[u8] = b"\r\n\r\n";

/// The header-block reader before (`buggy`) and after (`fixed`) PR #71.
#[derive(Debug, Clone)]
pub struct HeaderBlockCodec {
    fixed: bool,
    /// Bytes already searched.
    searched: usize,
}

impl HeaderBlockCodec {
    /// Searches only the bytes that arrived since the last call.
    pub fn buggy() -> Self {
        HeaderBlockCodec {
            fixed: false,
            searched: 0,
        }
    }
    /// Searches from three bytes before them.
    pub fn fixed() -> Self {
        HeaderBlockCodec {
            fixed: true,
            searched: 0,
        }
    }
}

impl Decoder for HeaderBlockCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let from = if self.fixed {
            self.searched.saturating_sub(END.len() - 1)
        } else {
            self.searched
        };
        let Some(at) = src[from.min(src.len())..]
            .windows(END.len())
            .position(|w| w == END)
        else {
            if src.len() > MAX {
                return Err(Error::TooLong {
                    len: src.len() as u64,
                    max: MAX as u64,
                });
            }
            self.searched = src.len();
            return Ok(None);
        };
        self.searched = 0;
        let block = src.split_to(from + at).freeze();
        src.advance(END.len());
        Ok(Some(block))
    }
}

impl Encoder<Bytes> for HeaderBlockCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        if item.windows(END.len()).any(|w| w == END) || item.ends_with(b"\r\n") {
            return Err(Error::Malformed("an empty line inside a header block"));
        }
        dst.reserve(item.len() + END.len());
        dst.put_slice(&item);
        dst.put_slice(END);
        Ok(())
    }
}
