//! tonic (hyperium/tonic, now grpc/grpc-rust) issue #76 ("Decoding
//! occasionally fails when streaming"),
//! fixed by PR #83 ("Properly decode partial DATA frames"): the decoder
//! checked that the buffer held `length` bytes rather than `5 + length`,
//! advanced past the 5-byte header, and handed prost fewer bytes than the
//! message needed: "buffer underflow" whenever a read ended within the last
//! five bytes of a message.
//!
//! ```text
//! +----------------+-------------------+-----------------+
//! | compressed: u8 | length: u32 BE    | message         |
//! | 0              | 4 bytes           | length bytes    |
//! +----------------+-------------------+-----------------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

const HEADER: usize = 5;
/// tonic's default maximum message size (4 MiB).
pub const MAX: usize = 4 << 20;

/// The gRPC message decoder before (`buggy`) and after (`fixed`) PR #83.
#[derive(Debug, Clone)]
pub struct GrpcCodec {
    fixed: bool,
}

impl GrpcCodec {
    /// Compares the buffer with the message length alone.
    pub fn buggy() -> Self {
        GrpcCodec { fixed: false }
    }
    /// Compares it with header plus message.
    pub fn fixed() -> Self {
        GrpcCodec { fixed: true }
    }
}

impl Decoder for GrpcCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        if src.len() < HEADER {
            return Ok(None);
        }
        if src[0] != 0 {
            return Err(Error::Malformed("compressed flag set"));
        }
        let len = u32::from_be_bytes(src[1..HEADER].try_into().expect("4 bytes")) as usize;
        if len > MAX {
            return Err(Error::TooLong {
                len: len as u64,
                max: MAX as u64,
            });
        }
        let need = if self.fixed { HEADER + len } else { len };
        if src.len() < need {
            return Ok(None);
        }
        src.advance(HEADER);
        if src.len() < len {
            // What prost said when handed the short buffer.
            return Err(Error::Underflow {
                need: len,
                have: src.len(),
            });
        }
        Ok(Some(src.split_to(len).freeze()))
    }
}

impl Encoder<Bytes> for GrpcCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        dst.reserve(HEADER + item.len());
        dst.put_u8(0);
        dst.put_u32(item.len() as u32);
        dst.put_slice(&item);
        Ok(())
    }
}
