//! A text protocol with a variable-length header line, with one planted
//! bug at a time. `TextBug::None` is the correct codec.
//!
//! ```text
//! +----------------------------+-----------------+
//! | body length in decimal     | body            |
//! | ASCII digits, then "\r\n"  | exactly N bytes |
//! +----------------------------+-----------------+
//! ```
//!
//! Bodies are text (UTF-8) up to [`LIMIT`] bytes; a longer one is an
//! error, whatever the reads.

use std::{io, time::Duration};

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Longest body.
pub const LIMIT: usize = 64;
/// Longest header line: digits of `LIMIT` and "\r\n".
const MAX_HEAD: usize = 4;

/// Which bug the decoder has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextBug {
    /// None: the correct codec.
    None,
    /// The size limit is checked per `decode` call, only when the whole
    /// frame is in the buffer: an oversize frame is refused in one read and
    /// accepted in small ones.
    PerCallLimit,
    /// A stream that ends right after a header line ends cleanly.
    CleanEndAfterHead,
    /// It takes the digits of a partial header line out of the buffer and
    /// forgets them: the length is misparsed when the rest arrives.
    EatsPartialHead,
    /// A read that ends between the header's `\r` and `\n` makes it take
    /// the `\r` as the line's end; the `\n` becomes the body's first byte.
    CrLfSplit,
    /// It converts each read's bytes to `str` and unwraps: a read that
    /// ends inside a multi-byte character panics it.
    PanicsOnSplitUtf8,
    /// A read that ends between `\r` and `\n` sends it into an endless
    /// loop (it sleeps in it, to spare the CPU).
    HangsOnSplitCrLf,
}

/// All the text bugs, with a name.
pub const TEXT_BUGS: [(&str, TextBug); 6] = [
    ("size limit checked per decode call", TextBug::PerCallLimit),
    ("clean end after a text header", TextBug::CleanEndAfterHead),
    (
        "eats a partial header, then misparses",
        TextBug::EatsPartialHead,
    ),
    ("\\r and \\n split across reads", TextBug::CrLfSplit),
    (
        "panic on a read ending inside a UTF-8 char",
        TextBug::PanicsOnSplitUtf8,
    ),
    ("hang inside decode", TextBug::HangsOnSplitCrLf),
];

/// The codec.
#[derive(Debug)]
pub struct Text {
    bug: TextBug,
    body: Option<usize>,
}

impl Text {
    pub fn new(bug: TextBug) -> Self {
        Text { bug, body: None }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Decoder for Text {
    type Item = String;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<String>> {
        if self.bug == TextBug::PanicsOnSplitUtf8 && self.body.is_some() {
            let _ = std::str::from_utf8(src).unwrap();
        }
        if self.body.is_none() {
            // The digits are checked against their limit whether or not
            // the line's end has arrived: the same verdict in any reads.
            let digits_seen = src.iter().position(|&b| b == b'\r').unwrap_or(src.len());
            if digits_seen > MAX_HEAD - 2 {
                return Err(invalid("header line too long"));
            }
            let Some(cr) = src.iter().position(|&b| b == b'\r') else {
                if self.bug == TextBug::EatsPartialHead && !src.is_empty() {
                    src.advance(src.len());
                }
                return Ok(None);
            };
            let lf_missing = src.len() == cr + 1;
            if lf_missing && self.bug == TextBug::HangsOnSplitCrLf {
                loop {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            let line_end = if lf_missing && self.bug == TextBug::CrLfSplit {
                cr + 1
            } else if lf_missing {
                return Ok(None);
            } else if src[cr + 1] != b'\n' {
                return Err(invalid("\\r without \\n"));
            } else {
                cr + 2
            };
            let digits = std::str::from_utf8(&src[..cr]).map_err(|_| invalid("not digits"))?;
            let n: usize = digits.parse().map_err(|_| invalid("not a length"))?;
            let whole_frame_here = src.len() - line_end >= n;
            if n > LIMIT && (self.bug != TextBug::PerCallLimit || whole_frame_here) {
                return Err(invalid("frame over the limit"));
            }
            src.advance(line_end);
            self.body = Some(n);
        }
        let n = self.body.expect("set above");
        if src.len() < n {
            return Ok(None);
        }
        self.body = None;
        let body = src.split_to(n);
        String::from_utf8(body.to_vec())
            .map(Some)
            .map_err(|_| invalid("body is not UTF-8"))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<String>> {
        if let Some(item) = self.decode(src)? {
            return Ok(Some(item));
        }
        let after_head = self.body.is_some() && src.is_empty();
        let partial = !src.is_empty() || self.body.is_some();
        if partial && !(self.bug == TextBug::CleanEndAfterHead && after_head) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream ended inside a frame",
            ));
        }
        Ok(None)
    }
}

impl Encoder<String> for Text {
    type Error = io::Error;

    fn encode(&mut self, item: String, dst: &mut BytesMut) -> io::Result<()> {
        if item.len() > LIMIT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "body over the limit",
            ));
        }
        dst.put_slice(format!("{}\r\n", item.len()).as_bytes());
        dst.put_slice(item.as_bytes());
        Ok(())
    }
}
