//! A length-prefixed codec with one planted bug at a time, of each kind
//! real decoders have shipped with. `Bug::None` is the correct codec.
//!
//! ```text
//! +----------------------------+-----------------+
//! | body length, `width` bytes | body            |
//! | big-endian (zero-padded    | exactly N bytes |
//! | past 8 bytes)              |                 |
//! +----------------------------+-----------------+
//! ```
#![allow(dead_code, unreachable_pub)]

pub mod text;

use std::io;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Which bug the decoder has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// None: the correct codec.
    None,
    /// With exactly `k` bytes of a header buffered, it reads the length
    /// from those bytes alone (zero-padded) instead of waiting.
    ShortHeaderAt(usize),
    /// A read that ends exactly between header and body makes it forget
    /// the length it just read.
    ForgetsAtBoundary,
    /// Off by one: a frame one byte short comes out one byte short.
    OffByOneEnd,
    /// After a frame it clears the buffer, losing frames glued behind it.
    ClearsAfterFrame,
    /// After a frame whose body came in a later read, it keeps the old
    /// length for the next frame.
    StateNotReset,
    /// An empty frame stalls it: it waits for a body that never comes.
    EmptyFrameStalls,
    /// At end of stream it drops a partial frame silently.
    EofSwallowsPartial,
    /// It keeps the length in a `u8`.
    LengthAsU8,
    /// It keeps the length in a `u16`.
    LengthAsU16,
    /// A partial header in the buffer, at end of stream, panics it.
    PanicsOnPartialHeader,
}

/// All the bugs, with a name.
pub const BUGS: [(&str, Bug); 14] = [
    ("read ends 1 byte into the header", Bug::ShortHeaderAt(1)),
    ("read ends 2 bytes into the header", Bug::ShortHeaderAt(2)),
    ("read ends 3 bytes into the header", Bug::ShortHeaderAt(3)),
    ("read ends between header and body", Bug::ForgetsAtBoundary),
    (
        "read ends one byte before the frame's end",
        Bug::OffByOneEnd,
    ),
    ("several frames in one read", Bug::ClearsAfterFrame),
    ("state kept across frames", Bug::StateNotReset),
    ("empty frames", Bug::EmptyFrameStalls),
    ("truncated stream", Bug::EofSwallowsPartial),
    ("length past 255", Bug::LengthAsU8),
    ("length past 65535", Bug::LengthAsU16),
    ("panic on a partial header", Bug::PanicsOnPartialHeader),
    (
        "read ends 1 byte into a 2-byte header",
        Bug::ShortHeaderAt(1),
    ),
    (
        "read ends 7 bytes into an 8-byte header",
        Bug::ShortHeaderAt(7),
    ),
];

/// Header width for the bug at `index` in [`BUGS`].
pub fn width_for(index: usize) -> usize {
    match index {
        12 => 2,
        13 => 8,
        _ => 4,
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Head,
    Body(usize),
}

/// The codec.
#[derive(Debug)]
pub struct Planted {
    bug: Bug,
    width: usize,
    state: State,
    /// For `StateNotReset`: the length kept from the last frame.
    stale: Option<usize>,
}

impl Planted {
    pub fn new(bug: Bug, width: usize) -> Self {
        Planted {
            bug,
            width,
            state: State::Head,
            stale: None,
        }
    }

    fn read_len(&self, bytes: &[u8]) -> usize {
        // Headers wider than 8 bytes: zero padding, then a u64.
        let bytes = &bytes[bytes.len().saturating_sub(8)..];
        let mut padded = [0u8; 8];
        padded[8 - bytes.len()..].copy_from_slice(bytes);
        let len = u64::from_be_bytes(padded) as usize;
        match self.bug {
            Bug::LengthAsU8 => len as u8 as usize,
            Bug::LengthAsU16 => len as u16 as usize,
            _ => len,
        }
    }
}

impl Decoder for Planted {
    type Item = BytesMut;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        let mut fresh_head = false;
        if let State::Head = self.state {
            let n = match self.bug {
                Bug::ShortHeaderAt(k) if src.len() == k && k < self.width => {
                    let n = self.read_len(&src[..k]);
                    src.advance(k);
                    n
                }
                _ if src.len() < self.width => return Ok(None),
                _ => {
                    let n = match self.stale {
                        Some(n) => n,
                        None => self.read_len(&src[..self.width]),
                    };
                    if self.bug == Bug::EmptyFrameStalls && n == 0 {
                        return Ok(None);
                    }
                    src.advance(self.width);
                    n
                }
            };
            if n > 1 << 24 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
            }
            if self.bug == Bug::ForgetsAtBoundary && src.is_empty() && n > 0 {
                return Ok(None);
            }
            self.state = State::Body(n);
            fresh_head = true;
        }
        let State::Body(n) = self.state else {
            unreachable!()
        };
        let short = if self.bug == Bug::OffByOneEnd { 1 } else { 0 };
        if src.len() + short < n {
            return Ok(None);
        }
        let frame = src.split_to(n.min(src.len()));
        self.state = State::Head;
        if self.bug == Bug::StateNotReset && !fresh_head {
            self.stale = Some(n);
        }
        if self.bug == Bug::ClearsAfterFrame {
            src.clear();
        }
        Ok(Some(frame))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if self.bug == Bug::PanicsOnPartialHeader && !buf.is_empty() {
            if let State::Head = self.state {
                let _ = buf.get_u32();
            }
        }
        let partial = !buf.is_empty() || matches!(self.state, State::Body(_));
        if partial && self.bug != Bug::EofSwallowsPartial {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream ended inside a frame",
            ));
        }
        Ok(None)
    }
}

impl Encoder<Bytes> for Planted {
    type Error = io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
        if self.width < 8 && item.len() as u64 >= 1u64 << (8 * self.width) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "frame too long for the length field",
            ));
        }
        dst.reserve(self.width + item.len());
        dst.put_bytes(0, self.width.saturating_sub(8));
        dst.put_slice(&(item.len() as u64).to_be_bytes()[8 - self.width.min(8)..]);
        dst.put_slice(&item);
        Ok(())
    }
}
