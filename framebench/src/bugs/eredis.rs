//! wooga/eredis PR #121 ("Correct a bug when parsing splitted error
//! response"): an error reply (`-ERR ...`) that arrived in one read came out
//! as an error, but one split over several reads came out as `{ok, ...}`:
//! the parser's continuation for an unfinished line did not keep the
//! line's kind.
//!
//! ```text
//! +------+--------------------------+------+
//! | + -  | text: no \r or \n        | \r\n |
//! +------+--------------------------+------+
//! ```

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Longest line accepted.
pub const MAX: usize = 64 * 1024;

/// A one-line reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `+`: a status reply.
    Status(String),
    /// `-`: an error reply.
    Error(String),
}

/// The line parser before (`buggy`) and after (`fixed`) PR #121. It scans
/// each byte once: an unfinished line leaves a continuation holding how far
/// it scanned and the line's kind.
#[derive(Debug, Clone)]
pub struct LineCodec {
    fixed: bool,
    /// Bytes already scanned without finding `\r\n`, and the kind of the
    /// line they start (`true` for an error).
    pending: Option<(usize, bool)>,
}

impl LineCodec {
    /// The continuation forgets that the line was an error.
    pub fn buggy() -> Self {
        LineCodec {
            fixed: false,
            pending: None,
        }
    }
    /// The continuation keeps the line's kind.
    pub fn fixed() -> Self {
        LineCodec {
            fixed: true,
            pending: None,
        }
    }
}

impl Decoder for LineCodec {
    type Item = Line;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Line>, Error> {
        let (from, is_error) = match self.pending {
            Some(p) => p,
            None => match src.first() {
                None => return Ok(None),
                Some(b'+') => (1, false),
                Some(b'-') => (1, true),
                Some(_) => return Err(Error::Malformed("not a status or error reply")),
            },
        };
        // Back one byte, in case the last read ended between \r and \n.
        let start = from.saturating_sub(1).max(1);
        let Some(cr) = src[start..].windows(2).position(|w| w == b"\r\n") else {
            if src.len() > MAX {
                return Err(Error::TooLong {
                    len: src.len() as u64,
                    max: MAX as u64,
                });
            }
            // The bug: the continuation is built as for a status line.
            self.pending = Some((src.len(), is_error && self.fixed));
            return Ok(None);
        };
        self.pending = None;
        let end = start + cr;
        let text = std::str::from_utf8(&src[1..end])
            .map_err(|_| Error::Malformed("reply is not UTF-8"))?
            .to_owned();
        src.advance(end + 2);
        Ok(Some(if is_error {
            Line::Error(text)
        } else {
            Line::Status(text)
        }))
    }
}

impl Encoder<Line> for LineCodec {
    type Error = Error;

    fn encode(&mut self, item: Line, dst: &mut BytesMut) -> Result<(), Error> {
        let (kind, text) = match &item {
            Line::Status(t) => (b'+', t),
            Line::Error(t) => (b'-', t),
        };
        if text.len() > MAX {
            return Err(Error::TooLong {
                len: text.len() as u64,
                max: MAX as u64,
            });
        }
        if text.contains(['\r', '\n']) {
            return Err(Error::Malformed("CR or LF inside a line"));
        }
        dst.reserve(text.len() + 3);
        dst.put_u8(kind);
        dst.put_slice(text.as_bytes());
        dst.put_slice(b"\r\n");
        Ok(())
    }
}
