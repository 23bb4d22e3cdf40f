//! matthunz/futures-codec PR #34 ("Fix len delimited codec"): the length
//! delimited decoder advanced `src` past the 8-byte length before it knew
//! the frame was complete. With fewer than 8 bytes after the length it then
//! computed `src.len() - 8` and panicked on the underflow (problem 1); with
//! an incomplete body it returned `Ok(None)` having consumed the length, so
//! the next call read body bytes as a length (problem 2).
//!
//! ```text
//! +----------------------+-----------------+
//! | length: u64 BE       | payload         |
//! | 8 bytes              | length bytes    |
//! +----------------------+-----------------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

const U64_LENGTH: usize = 8;
/// Payloads longer than this are refused.
pub const MAX: usize = 1 << 20;

/// The futures-codec `LengthCodec` before (`buggy`) and after (`fixed`)
/// PR #34.
#[derive(Debug, Clone)]
pub struct LengthCodec {
    fixed: bool,
}

impl LengthCodec {
    /// The decoder as it was before the fix.
    pub fn buggy() -> Self {
        LengthCodec { fixed: false }
    }
    /// The decoder as the PR fixed it.
    pub fn fixed() -> Self {
        LengthCodec { fixed: true }
    }
}

impl Decoder for LengthCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        if src.len() < U64_LENGTH {
            return Ok(None);
        }
        let len = u64::from_be_bytes(src[..U64_LENGTH].try_into().expect("8 bytes"));
        if len > MAX as u64 {
            return Err(Error::TooLong {
                len,
                max: MAX as u64,
            });
        }
        let len = len as usize;
        if self.fixed {
            if src.len() < U64_LENGTH + len {
                return Ok(None);
            }
            src.advance(U64_LENGTH);
            return Ok(Some(src.split_to(len).freeze()));
        }
        // The bug: the length is consumed before the frame is known to be
        // complete, and the comparison subtracts the length's size again.
        src.advance(U64_LENGTH);
        let after = src
            .len()
            .checked_sub(U64_LENGTH)
            .expect("attempt to subtract with overflow");
        if after >= len {
            Ok(Some(src.split_to(len).freeze()))
        } else {
            Ok(None)
        }
    }
}

impl Encoder<Bytes> for LengthCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        dst.reserve(U64_LENGTH + item.len());
        dst.put_u64(item.len() as u64);
        dst.put_slice(&item);
        Ok(())
    }
}
