//! 00imvj00/mqttrs issue #8 ("Decoding an incomplete packet can still
//! consume some bytes of the buffer"): the decoder advanced past the fixed
//! header as soon as the header was complete, then returned `Ok(None)` when
//! the rest of the packet had not arrived, so the next call parsed payload
//! bytes as a fixed header.
//!
//! ```text
//! +-------------+------------------------------+------------------+
//! | type: 0x30  | remaining length: varint     | payload          |
//! | 1 byte      | 1-4 bytes, 7 bits each, LE   | remaining bytes  |
//! +-------------+------------------------------+------------------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

const PUBLISH: u8 = 0x30;
/// The largest remaining length four varint bytes can carry.
pub const MAX: usize = 268_435_455;

/// An MQTT fixed-header decoder before (`buggy`) and after (`fixed`) the
/// fix of issue #8.
#[derive(Debug, Clone)]
pub struct PacketCodec {
    fixed: bool,
}

impl PacketCodec {
    /// Consumes the header of an incomplete packet.
    pub fn buggy() -> Self {
        PacketCodec { fixed: false }
    }
    /// Leaves the buffer untouched until the packet is complete.
    pub fn fixed() -> Self {
        PacketCodec { fixed: true }
    }
}

/// The remaining length and the header's size, `None` if the header is
/// not complete yet.
fn header(src: &[u8]) -> Result<Option<(usize, usize)>, Error> {
    let Some((&kind, rest)) = src.split_first() else {
        return Ok(None);
    };
    if kind != PUBLISH {
        return Err(Error::Malformed("not a PUBLISH packet"));
    }
    let mut len = 0usize;
    for (i, &b) in rest.iter().enumerate().take(4) {
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((len, 2 + i)));
        }
    }
    if rest.len() >= 4 {
        return Err(Error::Malformed("remaining length longer than 4 bytes"));
    }
    Ok(None)
}

impl Decoder for PacketCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let Some((len, head)) = header(src)? else {
            return Ok(None);
        };
        if self.fixed {
            if src.len() < head + len {
                return Ok(None);
            }
            src.advance(head);
            return Ok(Some(src.split_to(len).freeze()));
        }
        // The bug: the header goes before the body is known to be there.
        src.advance(head);
        if src.len() < len {
            return Ok(None);
        }
        Ok(Some(src.split_to(len).freeze()))
    }
}

impl Encoder<Bytes> for PacketCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        dst.reserve(5 + item.len());
        dst.put_u8(PUBLISH);
        let mut n = item.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                dst.put_u8(b);
                break;
            }
            dst.put_u8(b | 0x80);
        }
        dst.put_slice(&item);
        Ok(())
    }
}
