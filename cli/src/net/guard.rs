//! Deadlines and admission for server connections.
//!
//! [`Guarded`] wraps a connection's stream and fails its reads and writes
//! with a typed `io::Error` when the peer is too slow:
//!
//! ```text
//!  idle ──first byte──> receiving a frame ──reply begins──────> replying ──frame_done──> idle
//!   |                      |                                       |
//!   no progress for        complete within --frame-timeout,        drained within --frame-timeout,
//!   --idle-timeout         plus 1 s per --min-rate bytes received  plus 1 s per --min-rate bytes written
//! ```
//!
//! The frame deadline runs from the frame's first byte and moves only with
//! the bytes that arrive, at `--min-rate`: a peer trickling a byte a second
//! cannot keep a frame open past `--frame-timeout`, however often it sends.
//! The same rule holds for a reply the peer reads slowly.
//!
//! [`Registry`] holds every open connection's progress, so that when all
//! slots are taken a new connection is still admitted: the one that has
//! made the least progress (fewest bytes per second since its current frame
//! or idle spell began, with a credit that protects young connections) is
//! closed to make room.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    io,
    net::IpAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Progress a connection is credited with when it starts a frame or an
/// idle spell, so that one just accepted is not the first to be evicted.
const CREDIT_BYTES: u64 = 1024;

/// The deadlines of [`Guarded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// No progress in either direction for this long closes the connection.
    pub idle: Duration,
    /// A frame (and then its reply) gets this long from its first byte...
    /// (`None`: no frame deadline).
    pub frame: Option<Duration>,
    /// ...plus one second per this many bytes it moved (0: no extension).
    pub min_rate: u64,
}

impl Deadlines {
    fn allowance(&self, bytes: u64) -> Option<Duration> {
        let base = self.frame?;
        if self.min_rate == 0 {
            return Some(base);
        }
        let extra_ms = bytes.saturating_mul(1000) / self.min_rate;
        Some(base.saturating_add(Duration::from_millis(extra_ms)))
    }
}

/// Why [`Guarded`] (or [`IdleStream`](super::IdleStream)) closed a
/// connection; carried inside the `io::Error` it returns (`get_ref`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadlineError {
    /// No progress in either direction for `idle_ms`.
    Idle {
        /// The idle timeout in milliseconds.
        idle_ms: u128,
    },
    /// A frame arrived too slowly.
    Frame {
        /// Bytes of it received.
        bytes: u64,
        /// Since its first byte, in milliseconds.
        elapsed_ms: u128,
        /// The rule it broke, in words.
        rule: String,
    },
    /// The peer read a reply too slowly.
    Drain {
        /// Bytes of it written.
        bytes: u64,
        /// Since its first byte, in milliseconds.
        elapsed_ms: u128,
        /// The rule it broke, in words.
        rule: String,
    },
    /// All slots were taken and this connection had made the least progress.
    Evicted,
}

impl fmt::Display for DeadlineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadlineError::Idle { idle_ms } => {
                write!(f, "no progress for {idle_ms} ms (idle timeout)")
            }
            DeadlineError::Frame {
                bytes,
                elapsed_ms,
                rule,
            } => write!(
                f,
                "frame timeout: {bytes} bytes of a frame in {elapsed_ms} ms, under {rule}"
            ),
            DeadlineError::Drain {
                bytes,
                elapsed_ms,
                rule,
            } => write!(
                f,
                "reply drain timeout: the peer took {bytes} bytes of reply in {elapsed_ms} ms, under {rule} (it reads too slowly)"
            ),
            DeadlineError::Evicted => f.write_str(
                "evicted: every connection slot was taken and this connection had made the least progress",
            ),
        }
    }
}

impl std::error::Error for DeadlineError {}

impl From<DeadlineError> for io::Error {
    fn from(e: DeadlineError) -> io::Error {
        let kind = match e {
            DeadlineError::Evicted => io::ErrorKind::ConnectionAborted,
            _ => io::ErrorKind::TimedOut,
        };
        io::Error::new(kind, e)
    }
}

/// One connection's progress, shared with the [`Registry`].
#[derive(Debug)]
pub struct Progress {
    /// When the current frame or idle spell began, in ms since the
    /// registry's epoch.
    since_ms: AtomicU64,
    /// Bytes moved since then.
    bytes: AtomicU64,
    evicted: AtomicBool,
    evict: CancellationToken,
    ip: IpAddr,
}

impl Progress {
    fn score(&self, now_ms: u64) -> u64 {
        let elapsed = now_ms
            .saturating_sub(self.since_ms.load(Ordering::Relaxed))
            .max(1);
        (self.bytes.load(Ordering::Relaxed) + CREDIT_BYTES) * 1000 / elapsed
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Idle,
    Receiving { start: Instant, bytes: u64 },
    Replying { start: Instant, bytes: u64 },
}

/// A server connection's stream with the deadlines above and eviction.
///
/// Reads and writes fail with [`io::ErrorKind::TimedOut`] when a deadline
/// passes and with [`io::ErrorKind::ConnectionAborted`] when the
/// connection is evicted. The handler calls [`Guarded::frame_done`] after
/// each reply.
#[derive(Debug)]
pub struct Guarded<S> {
    inner: S,
    deadlines: Deadlines,
    phase: Phase,
    last_progress: Instant,
    timer: Pin<Box<Sleep>>,
    shared: Arc<Progress>,
    epoch: Instant,
    evicted: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl<S> Guarded<S> {
    /// Wraps `inner` outside any registry (nothing can evict it).
    pub fn new(inner: S, deadlines: Deadlines) -> Self {
        let ip = IpAddr::from([0, 0, 0, 0]);
        Guarded::with_progress(
            inner,
            deadlines,
            Arc::new(new_progress(ip, 0)),
            Instant::now(),
        )
    }

    fn with_progress(
        inner: S,
        deadlines: Deadlines,
        shared: Arc<Progress>,
        epoch: Instant,
    ) -> Self {
        let now = Instant::now();
        let evicted = Box::pin(shared.evict.clone().cancelled_owned());
        Guarded {
            inner,
            deadlines,
            phase: Phase::Idle,
            last_progress: now,
            timer: Box::pin(tokio::time::sleep_until(now + deadlines.idle)),
            shared,
            epoch,
            evicted,
        }
    }

    /// The frame and its reply are done. `next_started`: bytes of the next
    /// frame are already buffered, so its clock starts now.
    pub fn frame_done(&mut self, next_started: bool) {
        let now = Instant::now();
        self.phase = if next_started {
            Phase::Receiving {
                start: now,
                bytes: 0,
            }
        } else {
            Phase::Idle
        };
        self.last_progress = now;
        self.publish(now, 0);
    }

    /// The wrapped stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    fn publish(&self, start: Instant, bytes: u64) {
        let ms = start.saturating_duration_since(self.epoch).as_millis() as u64;
        self.shared.since_ms.store(ms, Ordering::Relaxed);
        self.shared.bytes.store(bytes, Ordering::Relaxed);
    }

    fn on_read(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let now = Instant::now();
        self.last_progress = now;
        let n = n as u64;
        self.phase = match self.phase {
            Phase::Idle => Phase::Receiving {
                start: now,
                bytes: n,
            },
            Phase::Receiving { start, bytes } => Phase::Receiving {
                start,
                bytes: bytes + n,
            },
            replying @ Phase::Replying { .. } => replying,
        };
        if let Phase::Receiving { start, bytes } = self.phase {
            self.publish(start, bytes);
        }
    }

    /// A write is attempted: the reply's drain clock starts now, even if
    /// not a byte of it can be written (a peer that reads nothing has
    /// filled the kernel's buffers).
    fn begin_reply(&mut self, len: usize) {
        if len == 0 || matches!(self.phase, Phase::Replying { .. }) {
            return;
        }
        let now = Instant::now();
        self.phase = Phase::Replying {
            start: now,
            bytes: 0,
        };
        self.publish(now, 0);
    }

    fn on_write(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let now = Instant::now();
        self.last_progress = now;
        let n = n as u64;
        let (start, bytes) = match self.phase {
            Phase::Replying { start, bytes } => (start, bytes + n),
            _ => (now, n),
        };
        self.phase = Phase::Replying { start, bytes };
        self.publish(start, bytes);
    }

    /// The error of the deadline that passed, if one did; otherwise arms
    /// the timer for the nearest one.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.evicted.as_mut().poll(cx).is_ready() {
            return Poll::Ready(DeadlineError::Evicted.into());
        }
        let idle_at = self.last_progress + self.deadlines.idle;
        let frame_at = match self.phase {
            Phase::Idle => None,
            Phase::Receiving { start, bytes } | Phase::Replying { start, bytes } => {
                self.deadlines.allowance(bytes).map(|a| start + a)
            }
        };
        let at = frame_at.map_or(idle_at, |f| f.min(idle_at));
        if self.timer.deadline() != at {
            self.timer.as_mut().reset(at);
        }
        if self.timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let now = Instant::now();
        let error = match (frame_at, self.phase) {
            (Some(f), Phase::Receiving { start, bytes }) if f <= idle_at => DeadlineError::Frame {
                bytes,
                elapsed_ms: now.duration_since(start).as_millis(),
                rule: self.rule(),
            },
            (Some(f), Phase::Replying { start, bytes }) if f <= idle_at => DeadlineError::Drain {
                bytes,
                elapsed_ms: now.duration_since(start).as_millis(),
                rule: self.rule(),
            },
            _ => DeadlineError::Idle {
                idle_ms: self.deadlines.idle.as_millis(),
            },
        };
        Poll::Ready(error.into())
    }

    fn rule(&self) -> String {
        let frame = self.deadlines.frame.unwrap_or_default().as_millis();
        match self.deadlines.min_rate {
            0 => format!("the {frame} ms allowed (frame timeout)"),
            r => format!("the {frame} ms allowed plus 1 s per {r} bytes (frame timeout, min rate)"),
        }
    }
}

fn new_progress(ip: IpAddr, since_ms: u64) -> Progress {
    Progress {
        since_ms: AtomicU64::new(since_ms),
        bytes: AtomicU64::new(0),
        evicted: AtomicBool::new(false),
        evict: CancellationToken::new(),
        ip,
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.shared.evict.is_cancelled() {
            return this.poll_deadline(cx).map(Err);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.on_read(buf.filled().len() - before);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.shared.evict.is_cancelled() {
            return this.poll_deadline(cx).map(Err);
        }
        this.begin_reply(buf.len());
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.on_write(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.shared.evict.is_cancelled() {
            return this.poll_deadline(cx).map(Err);
        }
        this.begin_reply(bufs.iter().map(|b| b.len()).sum());
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.on_write(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.poll_deadline(cx).map(Err),
            ready => ready,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.poll_deadline(cx).map(Err),
            ready => ready,
        }
    }
}

/// Every open connection's progress, for admission when the slots run
/// out, and the connection count per address.
#[derive(Debug, Clone)]
pub struct Registry {
    inner: Arc<Mutex<Slots>>,
    epoch: Instant,
}

#[derive(Debug, Default)]
struct Slots {
    next_id: u64,
    conns: HashMap<u64, Arc<Progress>>,
    per_ip: HashMap<IpAddr, usize>,
    /// Connections told to close and not yet gone.
    evicting: usize,
}

/// A connection's place in the [`Registry`]; leaves it when dropped.
#[derive(Debug)]
pub struct Slot {
    registry: Registry,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.registry.lock();
        if let Some(p) = s.conns.remove(&self.id) {
            if p.evicted.load(Ordering::Relaxed) {
                s.evicting -= 1;
            }
            if let Some(n) = s.per_ip.get_mut(&p.ip) {
                *n -= 1;
                if *n == 0 {
                    s.per_ip.remove(&p.ip);
                }
            }
        }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry {
            inner: Arc::default(),
            epoch: Instant::now(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Connections open and not being evicted.
    pub fn active(&self) -> usize {
        let s = self.lock();
        s.conns.len() - s.evicting
    }

    /// Connections open from `ip`.
    pub fn from_ip(&self, ip: IpAddr) -> usize {
        self.lock().per_ip.get(&ip).copied().unwrap_or(0)
    }

    /// Tells the connection with the least progress to close; returns its
    /// address, or `None` if there is none left to evict.
    pub fn evict_least_progress(&self) -> Option<IpAddr> {
        let now = self.now_ms();
        let mut s = self.lock();
        let victim = s
            .conns
            .values()
            .filter(|p| !p.evicted.load(Ordering::Relaxed))
            .min_by_key(|p| p.score(now))?
            .clone();
        victim.evicted.store(true, Ordering::Relaxed);
        victim.evict.cancel();
        s.evicting += 1;
        Some(victim.ip)
    }

    /// Registers a connection from `ip` and wraps its stream.
    pub fn admit<S>(&self, stream: S, ip: IpAddr, deadlines: Deadlines) -> (Guarded<S>, Slot) {
        let progress = Arc::new(new_progress(ip, self.now_ms()));
        let id = {
            let mut s = self.lock();
            let id = s.next_id;
            s.next_id += 1;
            s.conns.insert(id, progress.clone());
            *s.per_ip.entry(ip).or_default() += 1;
            id
        };
        let slot = Slot {
            registry: self.clone(),
            id,
        };
        (
            Guarded::with_progress(stream, deadlines, progress, self.epoch),
            slot,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowance_grows_with_bytes_at_the_minimum_rate() {
        let d = Deadlines {
            idle: Duration::from_secs(30),
            frame: Some(Duration::from_secs(10)),
            min_rate: 65_536,
        };
        assert_eq!(d.allowance(0), Some(Duration::from_secs(10)));
        assert_eq!(d.allowance(8 << 20), Some(Duration::from_secs(10 + 128)));
        let none = Deadlines { frame: None, ..d };
        assert_eq!(none.allowance(1), None);
    }

    #[tokio::test]
    async fn a_reply_of_which_no_byte_can_be_written_is_a_drain_timeout() {
        use tokio::io::AsyncWriteExt;

        let (pipe, _peer) = tokio::io::duplex(64);
        let d = Deadlines {
            idle: Duration::from_secs(30),
            frame: Some(Duration::from_millis(200)),
            min_rate: 0,
        };
        let mut g = Guarded::new(pipe, d);
        // A first reply fills the pipe; the peer reads none of it.
        g.write_all(&[b'r'; 64]).await.unwrap();
        // The next request was already buffered: its clock starts, and
        // its reply cannot move a byte.
        g.frame_done(true);
        let err = tokio::time::timeout(Duration::from_secs(5), g.write_all(b"next reply"))
            .await
            .expect("the drain deadline did not fire")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        match err
            .get_ref()
            .and_then(|e| e.downcast_ref::<DeadlineError>())
        {
            Some(DeadlineError::Drain { bytes: 0, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_slowest_connection_is_evicted_and_the_newest_spared() {
        let registry = Registry::new();
        let d = Deadlines {
            idle: Duration::from_secs(30),
            frame: None,
            min_rate: 0,
        };
        let ip = IpAddr::from([127, 0, 0, 1]);
        let (mut fast, _s1) = registry.admit((), ip, d);
        let (_slow, _s2) = registry.admit((), ip, d);
        tokio::time::sleep(Duration::from_millis(30)).await;
        fast.on_read(1 << 20);
        let (_new, _s3) = registry.admit((), ip, d);
        assert_eq!(registry.active(), 3);
        assert_eq!(registry.evict_least_progress(), Some(ip));
        assert!(_slow.shared.evict.is_cancelled());
        assert!(!fast.shared.evict.is_cancelled() && !_new.shared.evict.is_cancelled());
        assert_eq!(registry.active(), 2);
        drop(_s2);
        assert_eq!(registry.from_ip(ip), 2);
    }
}
