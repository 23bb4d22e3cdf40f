//! commonmark/cmark issue #117 ("Handle CR+LF split across buffer
//! boundaries"): lines may end in LF, CR or CRLF; fed `"line1\r"` and then
//! `"\n"`, the parser saw two line ends and made two lines out of one. It
//! must remember that the last buffer ended with a CR and skip a LF at the
//! start of the next.
//!
//! ```text
//! +---------------------+--------------------+
//! | text: no CR, no LF  | \n, \r or \r\n     |
//! +---------------------+--------------------+
//! ```

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Longest line accepted.
pub const MAX: usize = 64 * 1024;

/// The line splitter before (`buggy`) and after (`fixed`) the fix of
/// issue #117. It encodes lines with CRLF.
#[derive(Debug, Clone)]
pub struct AnyNewlineCodec {
    fixed: bool,
    /// The last line ended in a CR that was the last byte buffered.
    after_cr: bool,
}

impl AnyNewlineCodec {
    /// Looks for the LF of a CRLF only in the same buffer.
    pub fn buggy() -> Self {
        AnyNewlineCodec {
            fixed: false,
            after_cr: false,
        }
    }
    /// Remembers a CR at the end of the buffer.
    pub fn fixed() -> Self {
        AnyNewlineCodec {
            fixed: true,
            after_cr: false,
        }
    }
}

impl Decoder for AnyNewlineCodec {
    type Item = String;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>, Error> {
        if self.after_cr && !src.is_empty() {
            self.after_cr = false;
            if src[0] == b'\n' {
                src.advance(1);
            }
        }
        let Some(end) = src.iter().position(|&b| b == b'\n' || b == b'\r') else {
            if src.len() > MAX {
                return Err(Error::TooLong {
                    len: src.len() as u64,
                    max: MAX as u64,
                });
            }
            return Ok(None);
        };
        let line = std::str::from_utf8(&src[..end])
            .map_err(|_| Error::Malformed("line is not UTF-8"))?
            .to_owned();
        let terminator = match (src[end], src.get(end + 1)) {
            (b'\r', Some(b'\n')) => 2,
            (b'\r', None) => {
                // The CR is the last byte buffered: its LF may come next.
                self.after_cr = self.fixed;
                1
            }
            _ => 1,
        };
        src.advance(end + terminator);
        Ok(Some(line))
    }
}

impl Encoder<String> for AnyNewlineCodec {
    type Error = Error;

    fn encode(&mut self, item: String, dst: &mut BytesMut) -> Result<(), Error> {
        if item.len() > MAX {
            return Err(Error::TooLong {
                len: item.len() as u64,
                max: MAX as u64,
            });
        }
        if item.contains(['\r', '\n']) {
            return Err(Error::Malformed("CR or LF inside a line"));
        }
        dst.reserve(item.len() + 2);
        dst.put_slice(item.as_bytes());
        dst.put_slice(b"\r\n");
        Ok(())
    }
}
