//! oven-sh/bun PR #34040 ("Bun.redis: treat torn VerbatimString/BlobError
//! body as partial, not fatal"): a RESP3 `=` (verbatim string) or `!` (blob
//! error) reply whose body arrived split across two reads killed the
//! connection, because their not-enough-bytes check returned a fatal error
//! where the `$` (bulk string) arm returned "partial, wait".
//!
//! ```text
//! +------+------------------+------+-------------------+------+
//! | kind | length, decimal  | \r\n | body: length B    | \r\n |
//! | $=!  | ASCII digits     |      |                   |      |
//! +------+------------------+------+-------------------+------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Longest body accepted (Redis' `proto-max-bulk-len` is far larger; this
/// keeps the benchmark's memory small).
pub const MAX: usize = 1 << 20;
/// Longest length line ("$1048576\r\n" fits).
const MAX_LINE: usize = 12;

/// The kinds of blob reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `$`: bulk string.
    Bulk,
    /// `=`: verbatim string (the body starts with a 3-letter format and `:`).
    Verbatim,
    /// `!`: blob error.
    BlobError,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Bulk => b'$',
            Kind::Verbatim => b'=',
            Kind::BlobError => b'!',
        }
    }
}

/// One blob reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Its kind.
    pub kind: Kind,
    /// Its body.
    pub body: Bytes,
}

/// The RESP3 blob reader before (`buggy`) and after (`fixed`) PR #34040.
#[derive(Debug, Clone)]
pub struct RespCodec {
    fixed: bool,
}

impl RespCodec {
    /// `=` and `!` bodies that are not all there are fatal.
    pub fn buggy() -> Self {
        RespCodec { fixed: false }
    }
    /// Every kind's short body means "wait".
    pub fn fixed() -> Self {
        RespCodec { fixed: true }
    }
}

impl Decoder for RespCodec {
    type Item = Reply;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Reply>, Error> {
        let Some(&first) = src.first() else {
            return Ok(None);
        };
        let kind = match first {
            b'$' => Kind::Bulk,
            b'=' => Kind::Verbatim,
            b'!' => Kind::BlobError,
            _ => return Err(Error::Malformed("not a blob reply")),
        };
        let window = &src[..src.len().min(MAX_LINE)];
        let Some(cr) = window.iter().position(|&b| b == b'\r') else {
            if src.len() >= MAX_LINE {
                return Err(Error::Malformed("length line too long"));
            }
            return Ok(None);
        };
        let digits = &src[1..cr];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(Error::Malformed("length is not a decimal number"));
        }
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Error::Malformed("length is not a decimal number"))?;
        if len > MAX {
            return Err(Error::TooLong {
                len: len as u64,
                max: MAX as u64,
            });
        }
        let pos = cr + 2;
        if src.len() < pos {
            // The length line itself is torn: every kind waits.
            return Ok(None);
        }
        if src.len() < pos + len + 2 {
            return match (self.fixed, kind) {
                (false, Kind::Verbatim) | (false, Kind::BlobError) => Err(Error::Malformed(
                    "invalid verbatim string or blob error (torn body read as fatal)",
                )),
                _ => Ok(None),
            };
        }
        if src[cr + 1] != b'\n' || &src[pos + len..pos + len + 2] != b"\r\n" {
            return Err(Error::Malformed("missing CRLF"));
        }
        src.advance(pos);
        let body = src.split_to(len).freeze();
        src.advance(2);
        Ok(Some(Reply { kind, body }))
    }
}

impl Encoder<Reply> for RespCodec {
    type Error = Error;

    fn encode(&mut self, item: Reply, dst: &mut BytesMut) -> Result<(), Error> {
        if item.body.len() > MAX {
            return Err(Error::TooLong {
                len: item.body.len() as u64,
                max: MAX as u64,
            });
        }
        dst.reserve(MAX_LINE + item.body.len() + 2);
        dst.put_u8(item.kind.byte());
        dst.put_slice(item.body.len().to_string().as_bytes());
        dst.put_slice(b"\r\n");
        dst.put_slice(&item.body);
        dst.put_slice(b"\r\n");
        Ok(())
    }
}
