//! heroku/vegur PR #82 ("CRLF on package boundaries"): the chunked-body
//! parser failed a valid response when a packet ended with the CR of a
//! CRLF and the LF began the next packet (`"a\r"` then `"\nhttp sobad"`):
//! the proxy answered H17 (bad response) although nothing was wrong.
//!
//! One frame is one HTTP/1.1 chunk (a chunk of size 0 ends a body, so
//! frames are never empty):
//!
//! ```text
//! +-----------------+------+--------------------+------+
//! | size: hex ASCII | \r\n | data: size bytes   | \r\n |
//! +-----------------+------+--------------------+------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Largest chunk accepted.
pub const MAX: usize = 1 << 20;
/// Longest size line ("100000\r\n" and then some).
const MAX_LINE: usize = 10;

/// The chunk parser before (`buggy`) and after (`fixed`) PR #82.
#[derive(Debug, Clone)]
pub struct ChunkedCodec {
    fixed: bool,
}

impl ChunkedCodec {
    /// A CR that is the last byte buffered is "CR without LF": malformed.
    pub fn buggy() -> Self {
        ChunkedCodec { fixed: false }
    }
    /// It waits for the next byte.
    pub fn fixed() -> Self {
        ChunkedCodec { fixed: true }
    }
}

impl Decoder for ChunkedCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let window = &src[..src.len().min(MAX_LINE)];
        let Some(cr) = window.iter().position(|&b| b == b'\r') else {
            if src.len() >= MAX_LINE {
                return Err(Error::Malformed("chunk size line too long"));
            }
            return Ok(None);
        };
        match src.get(cr + 1) {
            Some(b'\n') => {}
            Some(_) => return Err(Error::Malformed("CR without LF")),
            None if self.fixed => return Ok(None),
            // The bug: the LF has not arrived yet, and that reads as "no LF".
            None => return Err(Error::Malformed("CR without LF")),
        }
        let size = std::str::from_utf8(&src[..cr])
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or(Error::Malformed("chunk size is not hexadecimal"))?;
        if size == 0 {
            return Err(Error::Malformed(
                "empty chunk (end of body) where a chunk was due",
            ));
        }
        if size > MAX {
            return Err(Error::TooLong {
                len: size as u64,
                max: MAX as u64,
            });
        }
        let data = cr + 2;
        if src.len() < data + size + 2 {
            return Ok(None);
        }
        if &src[data + size..data + size + 2] != b"\r\n" {
            return Err(Error::Malformed("chunk data not followed by CRLF"));
        }
        src.advance(data);
        let chunk = src.split_to(size).freeze();
        src.advance(2);
        Ok(Some(chunk))
    }
}

impl Encoder<Bytes> for ChunkedCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        if item.is_empty() {
            return Err(Error::Malformed("an empty chunk would end the body"));
        }
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        dst.reserve(MAX_LINE + item.len() + 2);
        dst.put_slice(format!("{:x}\r\n", item.len()).as_bytes());
        dst.put_slice(&item);
        dst.put_slice(b"\r\n");
        Ok(())
    }
}
