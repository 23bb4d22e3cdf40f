use std::{borrow::Cow, fmt, io, time::Duration};

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
    /// `struct.pack('<i', n)`) in one write and the payload in a second;
    /// the reader uses exact reads.
    ///
    /// The tutorial this strategy comes from writes `struct.pack('i', n)`:
    /// `'i'` is the machine's native byte order, not little-endian. Two
    /// copies of that code on big-endian machines agree with each other,
    /// but a big-endian sender talking to a little-endian reader (or to
    /// this strategy, which is little-endian everywhere) sends 5 as
    /// `00 00 00 05`, read here as 83 886 080: refused as over the body
    /// limit. Say `'<i'` wherever the wire order matters.
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
    /// Every strategy in the order tables show them: the tutorial's sleep
    /// (1 ms), the four two-send variants, then the header-prefixed forms.
    pub const ALL: [Framing; 7] = [
        Framing::Sleep {
            gap: Duration::from_millis(1),
        },
        Framing::TwoSend {
            ack: false,
            nodelay: false,
        },
        Framing::TwoSend {
            ack: false,
            nodelay: true,
        },
        Framing::TwoSend {
            ack: true,
            nodelay: false,
        },
        Framing::TwoSend {
            ack: true,
            nodelay: true,
        },
        Framing::Length,
        Framing::JsonHeader,
    ];

    /// A short, stable identifier (lowercase ASCII, digits and `-`): the
    /// benchmark id and the key in result files.
    ///
    /// ```
    /// use std::time::Duration;
    /// use framecheck_codec::strategy::Framing;
    ///
    /// assert_eq!(Framing::Length.id(), "length");
    /// let sleep = Framing::Sleep { gap: Duration::from_millis(1) };
    /// assert_eq!(sleep.id(), "sleep-1ms");
    /// let two = Framing::TwoSend { ack: true, nodelay: false };
    /// assert_eq!(two.id(), "two-send-ack-nagle-on");
    /// ```
    pub fn id(&self) -> Cow<'static, str> {
        match *self {
            Framing::Sleep { gap } if gap.subsec_nanos().is_multiple_of(1_000_000) => {
                Cow::Owned(format!("sleep-{}ms", gap.as_millis()))
            }
            Framing::Sleep { gap } => Cow::Owned(format!("sleep-{}us", gap.as_micros())),
            Framing::TwoSend { ack, nodelay } => Cow::Borrowed(match (ack, nodelay) {
                (false, false) => "two-send-nagle-on",
                (false, true) => "two-send-nagle-off",
                (true, false) => "two-send-ack-nagle-on",
                (true, true) => "two-send-ack-nagle-off",
            }),
            Framing::Length => Cow::Borrowed("length"),
            Framing::JsonHeader => Cow::Borrowed("json-header"),
        }
    }

    /// What the strategy does, for people: the label in tables, charts and
    /// reports (also what `Display` writes).
    ///
    /// ```
    /// use std::time::Duration;
    /// use framecheck_codec::strategy::Framing;
    ///
    /// assert_eq!(Framing::JsonHeader.label(), "JSON header");
    /// let two = Framing::TwoSend { ack: false, nodelay: true };
    /// assert_eq!(two.label(), "two sends, Nagle off");
    /// let raw = Framing::Sleep { gap: Duration::ZERO };
    /// assert_eq!(raw.label(), "raw, no gap (one read = one message)");
    /// ```
    pub fn label(&self) -> Cow<'static, str> {
        match *self {
            Framing::Sleep { gap } if gap.is_zero() => {
                Cow::Borrowed("raw, no gap (one read = one message)")
            }
            Framing::Sleep { gap } if gap.subsec_nanos().is_multiple_of(1_000_000) => {
                Cow::Owned(format!("sleep {} ms between sends", gap.as_millis()))
            }
            Framing::Sleep { gap } => {
                Cow::Owned(format!("sleep {} µs between sends", gap.as_micros()))
            }
            Framing::TwoSend { ack, nodelay } => Cow::Borrowed(match (ack, nodelay) {
                (false, false) => "two sends, Nagle on",
                (false, true) => "two sends, Nagle off",
                (true, false) => "two sends + ack, Nagle on",
                (true, true) => "two sends + ack, Nagle off",
            }),
            Framing::Length => Cow::Borrowed("binary length prefix"),
            Framing::JsonHeader => Cow::Borrowed("JSON header"),
        }
    }

    /// The framing whose [`id`](Framing::id) is `id`: one of
    /// [`ALL`](Framing::ALL), or a sleep of any whole number of
    /// milliseconds (`sleep-0ms`, `sleep-5ms`); `None` otherwise.
    ///
    /// ```
    /// use framecheck_codec::strategy::Framing;
    ///
    /// assert_eq!(Framing::from_id("json-header"), Some(Framing::JsonHeader));
    /// assert_eq!(Framing::from_id("framed-ldc"), None);
    /// ```
    pub fn from_id(id: &str) -> Option<Framing> {
        if let Some(ms) = id
            .strip_prefix("sleep-")
            .and_then(|rest| rest.strip_suffix("ms"))
        {
            return ms
                .parse()
                .ok()
                .filter(|_| ms.bytes().all(|b| b.is_ascii_digit()))
                .map(|ms| Framing::Sleep {
                    gap: Duration::from_millis(ms),
                });
        }
        Framing::ALL.into_iter().find(|f| f.id() == id)
    }

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
    /// Writes [`Framing::label`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Conn;
    use tokio::io::AsyncReadExt;

    #[test]
    fn ids_are_unique_and_parse_back() {
        for (i, f) in Framing::ALL.iter().enumerate() {
            let id = f.id();
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{id}"
            );
            assert_eq!(Framing::from_id(&id), Some(*f), "{id}");
            for g in &Framing::ALL[i + 1..] {
                assert_ne!(id, g.id());
                assert_ne!(f.label(), g.label());
            }
        }
        let zero = Framing::Sleep {
            gap: Duration::ZERO,
        };
        assert_eq!(Framing::from_id("sleep-0ms"), Some(zero));
        assert_eq!(Framing::from_id("sleep-+1ms"), None);
        assert_eq!(Framing::from_id("sleep-ms"), None);
        let sub_ms = Framing::Sleep {
            gap: Duration::from_micros(250),
        };
        assert_eq!(sub_ms.id(), "sleep-250us");
        assert_eq!(sub_ms.to_string(), "sleep 250 µs between sends");
    }

    /// The two-send length is little-endian whatever the machine: the bytes
    /// of Python's `struct.pack('<i', 5)`, not of native-order `'i'`.
    #[tokio::test]
    async fn two_send_writes_the_length_little_endian() {
        let (a, mut b) = tokio::io::duplex(64);
        let framing = Framing::TwoSend {
            ack: false,
            nodelay: false,
        };
        let mut conn = Conn::new(a, framing);
        conn.send(b"hello").await.unwrap();
        conn.shutdown().await.unwrap();
        let mut wire = Vec::new();
        b.read_to_end(&mut wire).await.unwrap();
        assert_eq!(wire, b"\x05\x00\x00\x00hello");
    }

    /// What a big-endian `struct.pack('i', 5)` sends is refused, not
    /// misread as a 5-byte message.
    #[tokio::test]
    async fn two_send_refuses_a_big_endian_length() {
        use tokio::io::AsyncWriteExt;
        let (a, mut b) = tokio::io::duplex(64);
        b.write_all(b"\x00\x00\x00\x05hello").await.unwrap();
        b.shutdown().await.unwrap();
        let framing = Framing::TwoSend {
            ack: false,
            nodelay: false,
        };
        let err = Conn::new(a, framing).recv().await.unwrap_err();
        assert_eq!(
            err.frame(),
            Some(&crate::FrameError::BodyTooLong {
                declared: 83_886_080,
                limit: crate::DEFAULT_MAX_BODY_LEN,
            })
        );
    }
}
