//! hyperium/h2 PR #589 ("Not to consume buf when decoding non_huff header
//! name ... succeeded but header value failed (DecoderError::NeedMore)"):
//! when a header block was split across CONTINUATION frames between a
//! header's name and its value, the HPACK decoder had already consumed the
//! name when the value said "need more", so decoding resumed at the value
//! and read it as a new representation.
//!
//! One frame here is one literal header field without indexing, new name
//! (RFC 7541 section 6.2.2), strings without Huffman coding and shorter than
//! 127 bytes (a one-byte length):
//!
//! ```text
//! +------+-------------+--------+--------------+---------+
//! | 0x00 | name length | name   | value length | value   |
//! |      | 1 byte, H=0 |        | 1 byte, H=0  |         |
//! +------+-------------+--------+--------------+---------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Longest name or value (a one-byte HPACK length).
pub const MAX: usize = 126;

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name's bytes.
    pub name: Bytes,
    /// The value's bytes.
    pub value: Bytes,
}

/// The literal-field decoder before (`buggy`) and after (`fixed`) PR #589.
#[derive(Debug, Clone)]
pub struct HpackCodec {
    fixed: bool,
    /// The buggy decoder's name, consumed before its value arrived.
    name: Option<Bytes>,
}

impl HpackCodec {
    /// Consumes the name before the value is complete.
    pub fn buggy() -> Self {
        HpackCodec {
            fixed: false,
            name: None,
        }
    }
    /// Consumes nothing until name and value are both there.
    pub fn fixed() -> Self {
        HpackCodec {
            fixed: true,
            name: None,
        }
    }
}

/// The length of the string at `src[at..]` (length byte first), `None`
/// if its length byte is not there yet.
fn string_len(src: &[u8], at: usize) -> Result<Option<usize>, Error> {
    match src.get(at) {
        None => Ok(None),
        Some(&b) if b & 0x80 != 0 => Err(Error::Malformed("Huffman-coded string")),
        Some(&b) if usize::from(b) > MAX => Err(Error::Malformed("multi-byte string length")),
        Some(&b) => Ok(Some(usize::from(b))),
    }
}

impl Decoder for HpackCodec {
    type Item = Field;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Field>, Error> {
        if self.name.is_none() {
            let Some(&kind) = src.first() else {
                return Ok(None);
            };
            if kind != 0x00 {
                return Err(Error::Malformed("not a literal without indexing, new name"));
            }
            let Some(name_len) = string_len(src, 1)? else {
                return Ok(None);
            };
            if src.len() < 2 + name_len {
                return Ok(None);
            }
            if self.fixed {
                let Some(value_len) = string_len(src, 2 + name_len)? else {
                    return Ok(None);
                };
                if src.len() < 3 + name_len + value_len {
                    return Ok(None);
                }
            }
            // The bug's first step: the name is decoded and consumed.
            src.advance(2);
            self.name = Some(src.split_to(name_len).freeze());
        }
        // Only the buggy decoder gets here without the whole field.
        let Some(value_len) = string_len(src, 0)? else {
            return Ok(None);
        };
        if src.len() < 1 + value_len {
            // NeedMore: the buggy decoder forgets the name it consumed and
            // starts the next call at the value.
            self.name = None;
            return Ok(None);
        }
        src.advance(1);
        let value = src.split_to(value_len).freeze();
        let name = self.name.take().expect("name decoded above");
        Ok(Some(Field { name, value }))
    }
}

impl Encoder<Field> for HpackCodec {
    type Error = Error;

    fn encode(&mut self, item: Field, dst: &mut BytesMut) -> Result<(), Error> {
        for s in [&item.name, &item.value] {
            if s.len() > MAX {
                return Err(Error::TooLong {
                    len: s.len() as u64,
                    max: MAX as u64,
                });
            }
        }
        dst.reserve(3 + item.name.len() + item.value.len());
        dst.put_u8(0x00);
        dst.put_u8(item.name.len() as u8);
        dst.put_slice(&item.name);
        dst.put_u8(item.value.len() as u8);
        dst.put_slice(&item.value);
        Ok(())
    }
}
