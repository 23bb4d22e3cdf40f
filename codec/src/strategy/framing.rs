use std::{fmt, io, time::Duration};

use tokio::net::TcpStream;

/// How messages are delimited on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Write the raw payload, then sleep `gap`; the reader takes each
    /// `read()` as one message. Broken by design.
    Sleep {
        /// Pause after each message.
        gap: Duration,
    },
    /// Write a 4-byte length (`i32` little-endian, as Python's
    /// `struct.pack('i', n)`) in one write and the payload in a second;
    /// the reader uses exact reads.
    TwoSend {
        /// Wait for a 1-byte acknowledgement from the reader between the two
        /// writes ("send the size, wait for confirmation").
        ack: bool,
        /// Set `TCP_NODELAY` (disable Nagle's algorithm).
        nodelay: bool,
    },
    /// One vectored write of a 4-byte big-endian length and the payload,
    /// read with tokio-util's `LengthDelimitedCodec`.
    Length,
    /// One vectored write of the JSON-header prefix and the payload, read
    /// with [`HeaderCodec`](crate::HeaderCodec).
    JsonHeader,
}

impl Framing {
    /// Whether the socket should have `TCP_NODELAY` set for this framing.
    /// The header-prefixed forms write whole messages, so they set it; the
    /// sleep strategy keeps the socket's default, as the tutorial did.
    pub fn nodelay(&self) -> bool {
        match self {
            Framing::Sleep { .. } => false,
            Framing::TwoSend { nodelay, .. } => *nodelay,
            Framing::Length | Framing::JsonHeader => true,
        }
    }

    /// Applies [`Framing::nodelay`] to a TCP socket.
    ///
    /// # Errors
    ///
    /// The socket option call's error.
    pub fn configure(&self, stream: &TcpStream) -> io::Result<()> {
        stream.set_nodelay(self.nodelay())
    }

    /// Whether messages always arrive as sent (everything but `Sleep`).
    pub fn preserves_boundaries(&self) -> bool {
        !matches!(self, Framing::Sleep { .. })
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::Sleep { gap } => write!(f, "sleep {gap:?}"),
            Framing::TwoSend { ack, nodelay } => write!(
                f,
                "two-send{}, nagle {}",
                if *ack { " + ack" } else { "" },
                if *nodelay { "off" } else { "on" }
            ),
            Framing::Length => f.write_str("header-prefixed (binary length)"),
            Framing::JsonHeader => f.write_str("header-prefixed (JSON header)"),
        }
    }
}
