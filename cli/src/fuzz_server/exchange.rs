//! The client side of a case, over blocking sockets: `TCP_NODELAY`, one
//! `write` per piece and a real pause after each (a `std::thread::sleep`,
//! so sub-millisecond pauses are honoured), then a half-close and a read
//! until the server closes or the timeout passes.

use std::{
    io::{self, Read, Write},
    net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs},
    thread,
    time::{Duration, Instant},
};

use super::format::Format;

/// Largest reply kept per connection; more is read and dropped.
const REPLY_CAP: usize = 1 << 20;
/// Extra time to connect: one SYN retransmission.
const SYN_RETRY: Duration = Duration::from_secs(2);
/// In raw format, a reply is over when the server is quiet this long.
const RAW_QUIET: Duration = Duration::from_millis(20);

/// How the connection ended, seen from the client after its half-close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum End {
    /// The server closed it (FIN or RST: which one depends on timing).
    Closed,
    /// Still open when the timeout passed.
    Open,
}

/// What the client saw on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every reply byte, in order (up to 1 MiB).
    pub reply: Vec<u8>,
    /// How it ended.
    pub end: End,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = 96.min(self.reply.len());
        write!(
            f,
            "{} reply bytes {:?}{}, then the connection {}",
            self.reply.len(),
            String::from_utf8_lossy(&self.reply[..shown]),
            if shown < self.reply.len() { "..." } else { "" },
            match self.end {
                End::Closed => "closed",
                End::Open => "stayed open",
            }
        )
    }
}

/// Client settings shared by every exchange.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// The server.
    pub addr: SocketAddr,
    /// The message format.
    pub format: Format,
    /// How long to wait for a reply, for the connection to close, or for a
    /// connection to be accepted.
    pub timeout: Duration,
}

/// Why the canary failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanaryError {
    /// The connection was refused (nothing listens).
    Refused(String),
    /// The connection was not accepted within the timeout (a full accept
    /// queue: the server stopped accepting).
    NotAccepted(String),
    /// Connected, but no whole reply within the timeout.
    NoReply {
        /// Reply bytes that did arrive.
        got: usize,
        /// Whether the server closed instead of answering.
        closed: bool,
    },
}

impl std::fmt::Display for CanaryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CanaryError::Refused(e) => write!(f, "the canary's connection failed: {e}"),
            CanaryError::NotAccepted(e) => {
                write!(f, "the canary's connection was not accepted: {e}")
            }
            CanaryError::NoReply { got, closed: true } => {
                write!(
                    f,
                    "the server closed the canary's connection after {got} reply bytes"
                )
            }
            CanaryError::NoReply { got, closed: false } => {
                write!(
                    f,
                    "no whole reply to the canary within the timeout ({got} bytes came)"
                )
            }
        }
    }
}

/// Resolves `addr` to its first socket address.
///
/// # Errors
///
/// When it does not resolve.
pub fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} does not resolve"),
        )
    })
}

impl Client {
    /// Connects with `TCP_NODELAY` on, waiting up to the timeout plus 2 s:
    /// a server with a short accept queue (Python's `socketserver` listens
    /// with a backlog of 5) drops SYNs when many clients connect at once,
    /// and the kernel resends one after a second.
    ///
    /// # Errors
    ///
    /// The connect error (refused, or timed out).
    pub fn connect(&self) -> io::Result<TcpStream> {
        let s = TcpStream::connect_timeout(&self.addr, self.timeout + SYN_RETRY)?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    fn whole_replies(&self, reply: &[u8]) -> Option<usize> {
        self.format.frames_in(reply).map(|s| s.complete)
    }

    /// Reads into `reply` until `done(reply)`, the server closes, or
    /// `deadline`; `true` if the server closed.
    fn read_until(
        &self,
        s: &mut TcpStream,
        reply: &mut Vec<u8>,
        deadline: Instant,
        done: impl Fn(&[u8]) -> bool,
    ) -> bool {
        let mut buf = [0u8; 16 * 1024];
        let raw = self.format == Format::Raw;
        while !done(reply) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let mut wait = deadline - now;
            if raw && !reply.is_empty() {
                wait = wait.min(RAW_QUIET);
            }
            let _ = s.set_read_timeout(Some(wait.max(Duration::from_micros(100))));
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => {
                    if reply.len() < REPLY_CAP {
                        reply.extend_from_slice(&buf[..n.min(REPLY_CAP - reply.len())]);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if raw && !reply.is_empty() {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
        false
    }

    /// Half-closes and reads until the server closes or the timeout.
    fn finish(&self, mut s: TcpStream, mut reply: Vec<u8>) -> Outcome {
        let _ = s.shutdown(Shutdown::Write);
        let deadline = Instant::now() + self.timeout;
        let closed = self.read_until(&mut s, &mut reply, deadline, |_| false);
        Outcome {
            reply,
            end: if closed { End::Closed } else { End::Open },
        }
    }

    /// The reference run: each message in its own write, waiting for its
    /// reply (a whole reply message; in raw, until the server is quiet),
    /// then a half-close. Also returns how many messages were written
    /// before the server closed (the cut run sends only those, so that
    /// neither run writes into a closed connection and draws a reset that
    /// discards replies).
    ///
    /// # Errors
    ///
    /// When the connection cannot be made.
    pub fn reference(&self, messages: &[Vec<u8>]) -> io::Result<(Outcome, usize)> {
        let mut s = self.connect()?;
        let mut reply = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            if s.write_all(m).is_err() {
                return Ok((
                    Outcome {
                        reply,
                        end: End::Closed,
                    },
                    i,
                ));
            }
            let deadline = Instant::now() + self.timeout;
            let closed = self.read_until(&mut s, &mut reply, deadline, |r| {
                self.whole_replies(r).is_some_and(|n| n > i)
            });
            if closed {
                return Ok((
                    Outcome {
                        reply,
                        end: End::Closed,
                    },
                    i + 1,
                ));
            }
        }
        Ok((self.finish(s, reply), messages.len()))
    }

    /// Writes `pieces`, one write each with `pause` after each but the
    /// last (and once after connecting, so that a server that starts a
    /// thread per client is reading before the first piece arrives);
    /// returns the open connection, or `None` if the server closed it
    /// first.
    ///
    /// # Errors
    ///
    /// When the connection cannot be made.
    pub fn send_pieces(
        &self,
        pieces: &[Vec<u8>],
        pause: Duration,
    ) -> io::Result<Option<TcpStream>> {
        let mut s = self.connect()?;
        if pieces.len() > 1 && !pause.is_zero() {
            thread::sleep(pause);
        }
        for (i, p) in pieces.iter().enumerate() {
            if s.write_all(p).is_err() {
                return Ok(None);
            }
            if i + 1 < pieces.len() && !pause.is_zero() {
                thread::sleep(pause);
            }
        }
        Ok(Some(s))
    }

    /// The cut run: `pieces` written with pauses, then a half-close.
    ///
    /// # Errors
    ///
    /// When the connection cannot be made.
    pub fn segmented(&self, pieces: &[Vec<u8>], pause: Duration) -> io::Result<Outcome> {
        Ok(match self.send_pieces(pieces, pause)? {
            Some(s) => self.finish(s, Vec::new()),
            None => Outcome {
                reply: Vec::new(),
                end: End::Closed,
            },
        })
    }

    /// One valid message on a new connection; how long the whole reply
    /// took.
    ///
    /// # Errors
    ///
    /// A [`CanaryError`] when it was not answered.
    pub fn canary(&self) -> Result<Duration, CanaryError> {
        let started = Instant::now();
        let mut s = self.connect().map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                CanaryError::NotAccepted(e.to_string())
            }
            _ => CanaryError::Refused(e.to_string()),
        })?;
        let msg = self.format.canary();
        if let Err(e) = s.write_all(&msg) {
            return Err(CanaryError::Refused(e.to_string()));
        }
        let mut reply = Vec::new();
        let deadline = Instant::now() + self.timeout;
        let closed = self.read_until(&mut s, &mut reply, deadline, |r| {
            match self.whole_replies(r) {
                Some(n) => n >= 1,
                None => r.len() >= msg.len(),
            }
        });
        let answered = match self.whole_replies(&reply) {
            Some(n) => n >= 1,
            None => !reply.is_empty(),
        };
        if answered {
            Ok(started.elapsed())
        } else {
            Err(CanaryError::NoReply {
                got: reply.len(),
                closed,
            })
        }
    }
}
