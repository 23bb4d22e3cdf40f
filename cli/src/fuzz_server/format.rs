//! The message formats `fuzz-server` speaks: how to build a message, where
//! its header ends (for aimed cuts), how many whole replies a buffer holds,
//! and how to split a captured session into messages.
//!
//! ```text
//! json-header  | i32 LE n | n bytes of JSON {"data_size": m, ...} | m bytes |
//! length       | u32 BE m | m bytes |
//! lines        | bytes up to and including b'\n' |
//! raw          | whatever one write carries (no boundaries at all) |
//! ```

use serde_json::{Map, Value};

/// Largest header length [`Format::frames_in`] believes in a reply; past
/// it the replies are taken as garbage.
const MAX_REPLY_HEADER: usize = 1 << 20;
/// Largest body [`Format::frames_in`] believes in a reply.
const MAX_REPLY_BODY: u64 = 1 << 30;

/// How messages are delimited on the server's connection.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `i32` little-endian header length, JSON header with `data_size`,
    /// body (the tutorial's `struct.pack('i', len(h))`).
    JsonHeader,
    /// `u32` big-endian body length, body.
    Length,
    /// One message per line, ended by `\n`.
    Lines,
    /// No framing: replies are read until the server is quiet.
    Raw,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::JsonHeader => "json-header",
            Format::Length => "length",
            Format::Lines => "lines",
            Format::Raw => "raw",
        })
    }
}

/// What [`Format::frames_in`] found in a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Whole messages at the start of the buffer.
    pub complete: usize,
    /// The bytes after them cannot start a message of this format.
    pub garbage: bool,
}

impl Format {
    /// One message carrying `body` (for `lines`, a `\n` in the body ends
    /// the message early: callers pass bodies without one).
    ///
    /// ```
    /// use framecheck_cli::fuzz_server::Format;
    /// assert_eq!(Format::Length.encode(b"hi"), b"\0\0\0\x02hi");
    /// assert_eq!(Format::JsonHeader.encode(b"hi"), b"\x10\0\0\0{\"data_size\": 2}hi");
    /// assert_eq!(Format::Lines.encode(b"hi"), b"hi\n");
    /// ```
    pub fn encode(self, body: &[u8]) -> Vec<u8> {
        match self {
            Format::JsonHeader => json_frame(
                format!("{{\"data_size\": {}}}", body.len()).as_bytes(),
                body,
            ),
            Format::Length => {
                let mut out = (body.len() as u32).to_be_bytes().to_vec();
                out.extend_from_slice(body);
                out
            }
            Format::Lines => {
                let mut out = body.to_vec();
                out.push(b'\n');
                out
            }
            Format::Raw => body.to_vec(),
        }
    }

    /// The message a canary sends: a small, valid one.
    pub fn canary(self) -> Vec<u8> {
        self.encode(b"canary")
    }

    /// How many leading bytes of `msg` are its header (length field and
    /// JSON header; `0` for lines and raw), at most `msg.len()`.
    pub fn head_len(self, msg: &[u8]) -> usize {
        let n = match self {
            Format::JsonHeader => match msg.get(..4) {
                Some(f) => {
                    let h = i32::from_le_bytes([f[0], f[1], f[2], f[3]]);
                    4 + usize::try_from(h).unwrap_or(0)
                }
                None => msg.len(),
            },
            Format::Length => 4,
            Format::Lines | Format::Raw => 0,
        };
        n.min(msg.len())
    }

    /// Counts the whole messages at the start of `buf`. `None` for raw,
    /// which has no boundaries.
    ///
    /// ```
    /// use framecheck_cli::fuzz_server::Format;
    /// let mut two = Format::Length.encode(b"a");
    /// two.extend(Format::Length.encode(b"bc"));
    /// assert_eq!(Format::Length.frames_in(&two).unwrap().complete, 2);
    /// assert_eq!(Format::Length.frames_in(&two[..6]).unwrap().complete, 1);
    /// ```
    pub fn frames_in(self, buf: &[u8]) -> Option<Scan> {
        let mut at = 0usize;
        let mut complete = 0usize;
        let garbage = loop {
            let rest = &buf[at..];
            let len = match self {
                Format::Raw => return None,
                Format::Lines => match rest.iter().position(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    None => break false,
                },
                Format::Length => {
                    let Some(f) = rest.get(..4) else { break false };
                    let n = u64::from(u32::from_be_bytes([f[0], f[1], f[2], f[3]]));
                    if n > MAX_REPLY_BODY {
                        break true;
                    }
                    4 + n as usize
                }
                Format::JsonHeader => {
                    let Some(f) = rest.get(..4) else { break false };
                    let h = i32::from_le_bytes([f[0], f[1], f[2], f[3]]);
                    let Ok(h) = usize::try_from(h) else {
                        break true;
                    };
                    if h > MAX_REPLY_HEADER {
                        break true;
                    }
                    let Some(head) = rest.get(4..4 + h) else {
                        break false;
                    };
                    let Some(size) = data_size(head) else {
                        break true;
                    };
                    if size > MAX_REPLY_BODY {
                        break true;
                    }
                    4 + h + size as usize
                }
            };
            if rest.len() < len {
                break false;
            }
            at += len;
            complete += 1;
        };
        Some(Scan { complete, garbage })
    }

    /// Splits a captured session (the bytes a real client sent) into its
    /// messages; trailing bytes that do not make a whole message, or bytes
    /// that cannot be one, become the last message as they are. Raw
    /// captures stay one message.
    pub fn split(self, stream: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = stream;
        while !rest.is_empty() {
            let whole = match self.frames_in(rest) {
                Some(Scan { complete: 1.., .. }) => self.first_len(rest),
                _ => rest.len(),
            };
            out.push(rest[..whole].to_vec());
            rest = &rest[whole..];
        }
        out
    }

    fn first_len(self, buf: &[u8]) -> usize {
        (1..=buf.len())
            .find(|&n| self.frames_in(&buf[..n]).is_some_and(|s| s.complete >= 1))
            .unwrap_or(buf.len())
    }

    /// `msg` with its body cut to `len` bytes, the header fixed to match
    /// (other JSON fields kept). `None` when `msg` is not one whole valid
    /// message or its body is not longer than `len`.
    pub fn with_body_len(self, msg: &[u8], len: usize) -> Option<Vec<u8>> {
        if self
            .frames_in(msg)
            .is_some_and(|s| s.complete != 1 || self.first_len(msg) != msg.len())
        {
            return None;
        }
        match self {
            Format::JsonHeader => {
                let head_end = self.head_len(msg);
                let body = &msg[head_end..];
                if body.len() <= len {
                    return None;
                }
                let mut map: Map<String, Value> = serde_json::from_slice(&msg[4..head_end]).ok()?;
                map.insert("data_size".into(), Value::from(len as u64));
                let head = serde_json::to_vec(&map).ok()?;
                Some(json_frame(&head, &body[..len]))
            }
            Format::Length => {
                let body = &msg[4..];
                (body.len() > len).then(|| self.encode(&body[..len]))
            }
            Format::Lines => {
                let body = &msg[..msg.len() - 1];
                (body.len() > len).then(|| self.encode(&body[..len]))
            }
            Format::Raw => (msg.len() > len && len > 0).then(|| msg[..len].to_vec()),
        }
    }
}

/// A JSON-header frame with this header and body, the header bytes as
/// given (they need not be JSON: hostile cases use this too).
pub fn json_frame(head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + head.len() + body.len());
    out.extend_from_slice(&(head.len() as i32).to_le_bytes());
    out.extend_from_slice(head);
    out.extend_from_slice(body);
    out
}

fn data_size(head: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(head).ok()?;
    v.get("data_size")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_header_scan_counts_whole_frames_and_flags_garbage() {
        let mut s = Format::JsonHeader.encode(b"abc");
        s.extend(Format::JsonHeader.encode(b""));
        let f = Format::JsonHeader;
        assert_eq!(
            f.frames_in(&s),
            Some(Scan {
                complete: 2,
                garbage: false
            })
        );
        assert_eq!(f.frames_in(&s[..s.len() - 1]).unwrap().complete, 1);
        assert_eq!(f.frames_in(&s[..3]).unwrap().complete, 0);
        assert!(f.frames_in(&[0xff, 0xff, 0xff, 0xff]).unwrap().garbage);
        assert!(f.frames_in(b"\x02\0\0\0{]").unwrap().garbage);
    }

    #[test]
    fn a_capture_splits_into_its_messages() {
        let mut s = Format::JsonHeader.encode(b"one");
        s.extend(Format::JsonHeader.encode(b"two!"));
        s.extend(b"\x05\0");
        let parts = Format::JsonHeader.split(&s);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], Format::JsonHeader.encode(b"one"));
        assert_eq!(parts[2], b"\x05\0");
        assert_eq!(
            Format::Lines.split(b"a\nbc\nd"),
            [&b"a\n"[..], b"bc\n", b"d"]
        );
    }

    #[test]
    fn bodies_shrink_with_the_header_fixed() {
        let head = br#"{"data_size": 5, "filename": "a.txt"}"#;
        let msg = json_frame(head, b"hello");
        let short = Format::JsonHeader.with_body_len(&msg, 2).unwrap();
        assert_eq!(Format::JsonHeader.frames_in(&short).unwrap().complete, 1);
        assert!(short.ends_with(b"\"filename\":\"a.txt\"}he") || short.ends_with(b"he"));
        assert_eq!(Format::JsonHeader.with_body_len(&msg, 5), None);
        assert_eq!(Format::JsonHeader.with_body_len(&msg[..7], 1), None);
        assert_eq!(Format::Lines.with_body_len(b"abc\n", 1).unwrap(), b"a\n");
    }
}
