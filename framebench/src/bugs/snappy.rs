//! BurntSushi/rust-snappy issue #42 ("FrameDecoder returns EOF for any
//! input < 4 bytes"): when the reader could not fill a whole 4-byte chunk
//! header, the frame decoder reported a clean end of stream, so a stream
//! cut one to three bytes into a chunk header looked complete (the
//! maintainer: "Sounds like a bug").
//!
//! ```text
//! +-----------+-------------------+---------------+
//! | type: u8  | length: u24 LE    | data          |
//! | 0x01      | 3 bytes           | length bytes  |
//! +-----------+-------------------+---------------+
//! ```
//!
//! (Chunk type 0x01 is snappy's uncompressed chunk; its CRC is left out.)

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

const HEADER: usize = 4;
const UNCOMPRESSED: u8 = 0x01;
/// The largest chunk data snappy allows (65 536 bytes).
pub const MAX: usize = 1 << 16;

/// The chunk reader before (`buggy`) and after (`fixed`) the fix of
/// issue #42.
#[derive(Debug, Clone)]
pub struct ChunkCodec {
    fixed: bool,
}

impl ChunkCodec {
    /// A partial chunk header at the end of the stream is a clean end.
    pub fn buggy() -> Self {
        ChunkCodec { fixed: false }
    }
    /// It is a truncated stream.
    pub fn fixed() -> Self {
        ChunkCodec { fixed: true }
    }
}

impl Decoder for ChunkCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        if src.len() < HEADER {
            return Ok(None);
        }
        if src[0] != UNCOMPRESSED {
            return Err(Error::Malformed("not an uncompressed chunk"));
        }
        let len = usize::from(src[1]) | usize::from(src[2]) << 8 | usize::from(src[3]) << 16;
        if len > MAX {
            return Err(Error::TooLong {
                len: len as u64,
                max: MAX as u64,
            });
        }
        if src.len() < HEADER + len {
            return Ok(None);
        }
        src.advance(HEADER);
        Ok(Some(src.split_to(len).freeze()))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        if let Some(chunk) = self.decode(src)? {
            return Ok(Some(chunk));
        }
        match src.len() {
            0 => Ok(None),
            // The bug: fewer bytes than a chunk header read as end of stream.
            n if n < HEADER && !self.fixed => {
                src.clear();
                Ok(None)
            }
            n => Err(Error::Truncated { left: n }),
        }
    }
}

impl Encoder<Bytes> for ChunkCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        dst.reserve(HEADER + item.len());
        dst.put_u8(UNCOMPRESSED);
        let n = item.len() as u32;
        dst.put_slice(&n.to_le_bytes()[..3]);
        dst.put_slice(&item);
        Ok(())
    }
}
