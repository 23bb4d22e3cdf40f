//! rustls/rustls issue #2159 ("Unbuffered API: `DecryptError` is reported
//! by TLS client when server uses large-sized certificates"): when a
//! record had been processed but not yet discarded from the buffer and the
//! next record was incomplete, processing resumed, once the rest arrived,
//! from the already-processed bytes instead of after them. The maintainer
//! reproduced it with records split over reads.
//!
//! The decoder works on records in place, as the deframer does: it yields
//! each complete record without discarding it, and discards the processed
//! bytes once it runs out of complete records.
//!
//! ```text
//! +----------+-----------------+----------------+-----------------+
//! | type: 23 | version: 0x0303 | length: u16 BE | payload         |
//! +----------+-----------------+----------------+-----------------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

const HEADER: usize = 5;
const APPLICATION_DATA: u8 = 23;
/// The largest plaintext record (2^14 bytes).
pub const MAX: usize = 1 << 14;

/// The in-place deframer before (`buggy`) and after (`fixed`) the fix of
/// issue #2159.
#[derive(Debug, Clone)]
pub struct DeframerCodec {
    fixed: bool,
    /// Bytes at the front of the buffer already yielded.
    processed: usize,
}

impl DeframerCodec {
    /// Forgets to discard the processed records when the next is
    /// incomplete.
    pub fn buggy() -> Self {
        DeframerCodec {
            fixed: false,
            processed: 0,
        }
    }
    /// Discards them.
    pub fn fixed() -> Self {
        DeframerCodec {
            fixed: true,
            processed: 0,
        }
    }
}

impl Decoder for DeframerCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let rest = &src[self.processed.min(src.len())..];
        if rest.len() >= HEADER {
            if rest[0] != APPLICATION_DATA || rest[1..3] != [3, 3] {
                return Err(Error::Malformed("not a TLS 1.2 application data record"));
            }
            let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
            if len > MAX {
                return Err(Error::TooLong {
                    len: len as u64,
                    max: MAX as u64,
                });
            }
            if rest.len() >= HEADER + len {
                let payload = Bytes::copy_from_slice(&rest[HEADER..HEADER + len]);
                self.processed += HEADER + len;
                return Ok(Some(payload));
            }
        }
        if self.processed >= src.len() || self.fixed {
            src.advance(self.processed.min(src.len()));
        }
        // The bug: with an incomplete record after the processed ones, the
        // processed bytes stay and the cursor goes back to them.
        self.processed = 0;
        Ok(None)
    }
}

impl Encoder<Bytes> for DeframerCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        dst.reserve(HEADER + item.len());
        dst.put_u8(APPLICATION_DATA);
        dst.put_slice(&[3, 3]);
        dst.put_u16(item.len() as u16);
        dst.put_slice(&item);
        Ok(())
    }
}
