//! `slice-proxy`: a TCP proxy that re-segments traffic both ways, to test
//! any TCP program for framing bugs, whatever its language.
//!
//! ```text
//!  client ──► [ read ─► cut at seeded stream offsets ─► one write each ] ──► upstream
//!  client ◄── [ one write each ◄─ cut at seeded stream offsets ◄─ read ] ◄── upstream
//! ```
//!
//! In chunk mode the cuts are offsets in each direction's byte stream,
//! drawn from `--seed` by the shared [`cut`](crate::cut) module: chunks of
//! `[min_chunk, max_chunk]` bytes, one write per chunk on a `TCP_NODELAY`
//! socket, with an optional pause between chunks. A chunk that has not
//! fully arrived is held until its bytes do, or for at most `--hold-ms`
//! (then it is flushed as it is: a *flush*, recorded apart from the cuts).
//! So the same seed and the same bytes give the same cut offsets whatever
//! sizes the sender wrote them in. The cuts depend only on the seed, the
//! direction and the offset, never on the order connections were accepted
//! in: two connections carrying the same bytes are cut the same way.
//!
//! In merge mode (`merge_ms`) whatever arrives within that window after a
//! first byte is held and forwarded in one write: separate sends arrive
//! together.
//!
//! `--record FILE` appends one JSON line per connection and direction when
//! the connection ends:
//!
//! ```text
//! {"conn": 0, "dir": "up", "seed": 1, "bytes": 4000, "cuts": [3, 17, ...], "flushes": []}
//! ```
//!
//! `conn` counts connections in accept order (a label only); `cuts` are the
//! stream offsets where a write ended at a seeded cut (the write ends in
//! merge mode), `flushes` where a held chunk was flushed by the hold timer.
//!
//! Connections are bounded: `--max-connections` (more are accepted and
//! closed at once), `--connect-timeout` to reach the upstream,
//! `--idle-timeout` without a byte either way, and `--close-grace` for the
//! other direction once one has ended (a peer that ignores EOF cannot keep
//! a connection open after its client left).

use std::{
    io,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use serde::Serialize;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        tcp::{OwnedReadHalf, OwnedWriteHalf},
        TcpListener, TcpStream,
    },
    sync::Semaphore,
    task::JoinSet,
    time::Instant,
};
use tokio_util::sync::CancellationToken;

use crate::{cut::SeededCuts, net};

#[doc(inline)]
pub use crate::cut::Cutter;

/// Largest merged write in merge mode.
const MERGE_CAP: usize = 1 << 20;
/// Size of one read from either side.
const READ_SIZE: usize = 64 * 1024;
/// Repeated accept failures (EMFILE) are logged once per window, counted.
static ACCEPT_FAILED: net::Throttle = net::Throttle::new();
/// Mixed into the seed for the downstream direction.
const DOWN_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

/// `framecheck slice-proxy`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free one (printed first).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The server to forward to.
    #[arg(long)]
    pub upstream: String,
    /// Re-segmentation settings.
    #[command(flatten)]
    pub slicing: Slicing,
    /// Connection limits, timeouts and the cut record.
    #[command(flatten)]
    pub options: Options,
}

/// How the proxy re-segments traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Slicing {
    /// Smallest chunk, in bytes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_chunk: usize,
    /// Largest chunk, in bytes.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_chunk: usize,
    /// Pause between chunks, in microseconds (tokio's timer rounds up to
    /// whole milliseconds).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub delay_us: u64,
    /// Instead of cutting, hold what arrives for this many milliseconds and
    /// forward it in one write (merges separate sends).
    #[arg(long, value_name = "N")]
    pub merge_ms: Option<u64>,
    /// Seed of the cut offsets; the same seed and the same bytes give the
    /// same cuts.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

/// Limits and timeouts of each proxied connection, and the cut record.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Options {
    /// Close both sides after this many milliseconds without a byte in
    /// either direction.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub idle_timeout: u64,
    /// Give up on (and close) a client whose upstream does not accept
    /// within this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    pub connect_timeout: u64,
    /// At most this many proxied connections at once; further clients are
    /// accepted and closed at once.
    #[arg(long, value_name = "N", default_value_t = 1_024)]
    pub max_connections: usize,
    /// Once one direction has ended, close both sides after this many
    /// milliseconds if the other has not ended too.
    #[arg(long, value_name = "MS", default_value_t = 2_000)]
    pub close_grace: u64,
    /// Hold a chunk whose bytes have not all arrived for at most this many
    /// milliseconds, then flush what there is.
    #[arg(long, value_name = "MS", default_value_t = 5)]
    pub hold_ms: u64,
    /// Append the cut offsets of every connection and direction to FILE,
    /// one JSON line each.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idle_timeout: 60_000,
            connect_timeout: 5_000,
            max_connections: 1_024,
            close_grace: 2_000,
            hold_ms: 5,
            record: None,
        }
    }
}

/// A bad combination of proxy settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlicingError {
    /// `min_chunk` is zero or larger than `max_chunk`.
    BadChunkRange {
        /// `--min-chunk`.
        min: usize,
        /// `--max-chunk`.
        max: usize,
    },
}

impl std::fmt::Display for SlicingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlicingError::BadChunkRange { min, max } => write!(
                f,
                "chunk range {min}..={max} is empty: need 1 <= --min-chunk <= --max-chunk"
            ),
        }
    }
}

impl std::error::Error for SlicingError {}

impl Slicing {
    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`SlicingError::BadChunkRange`] when `min_chunk` is 0 or above
    /// `max_chunk`.
    pub fn validate(&self) -> Result<(), SlicingError> {
        if self.min_chunk == 0 || self.min_chunk > self.max_chunk {
            return Err(SlicingError::BadChunkRange {
                min: self.min_chunk,
                max: self.max_chunk,
            });
        }
        Ok(())
    }

    /// The seed of one direction's cuts: `seed` upstream, a fixed mix of it
    /// downstream. It depends on nothing else, so connections accepted in
    /// any order are cut alike.
    pub fn direction_seed(&self, dir: Dir) -> u64 {
        match dir {
            Dir::Up => self.seed,
            Dir::Down => self.seed ^ DOWN_SALT,
        }
    }
}

/// A direction through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Client to upstream.
    Up,
    /// Upstream to client.
    Down,
}

/// One line of the `--record` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Connection number, in accept order.
    pub conn: u64,
    /// The direction.
    pub dir: Dir,
    /// The seed of this direction's cuts.
    pub seed: u64,
    /// Bytes forwarded.
    pub bytes: u64,
    /// Stream offsets where a write ended at a seeded cut.
    pub cuts: Vec<u64>,
    /// Stream offsets where a held chunk was flushed by the hold timer.
    pub flushes: Vec<u64>,
}

/// Runs `slice-proxy` until Ctrl-C.
///
/// # Errors
///
/// Invalid settings or the bind error.
pub async fn run(args: Args) -> io::Result<()> {
    args.slicing
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let shutdown = net::shutdown_on_signal()?;
    let listener = net::listen(&args.listen).await?;
    tracing::info!(upstream = %args.upstream, slicing = ?args.slicing, "slice-proxy ready");
    serve_with(
        listener,
        args.upstream,
        args.slicing,
        args.options,
        shutdown,
    )
    .await
}

/// [`serve_with`] with the default [`Options`]. Used in-process by
/// `showdown`.
///
/// # Errors
///
/// Only if `slicing` is invalid; connection errors are logged.
pub async fn serve(
    listener: TcpListener,
    upstream: String,
    slicing: Slicing,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve_with(listener, upstream, slicing, Options::default(), shutdown).await
}

/// Proxies every connection accepted on `listener` to `upstream` until
/// `shutdown`; open connections are then closed.
///
/// # Errors
///
/// If `slicing` is invalid or the record file cannot be opened;
/// connection errors are logged.
pub async fn serve_with(
    listener: TcpListener,
    upstream: String,
    slicing: Slicing,
    options: Options,
    shutdown: CancellationToken,
) -> io::Result<()> {
    slicing
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let record = match &options.record {
        Some(path) => Some(Arc::new(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ))),
        None => None,
    };
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let options = Arc::new(options);
    let mut tasks = JoinSet::new();
    let mut index = 0u64;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        tracing::debug!(%peer, "connection cap reached; closing the new client");
                        drop(client);
                        continue;
                    };
                    let conn = Conn {
                        index,
                        peer,
                        upstream: upstream.clone(),
                        slicing,
                        options: options.clone(),
                        record: record.clone(),
                    };
                    index += 1;
                    tasks.spawn(async move {
                        if let Err(e) = conn.run(client).await {
                            tracing::warn!(%peer, error = %e, "proxied connection failed");
                        }
                        drop(slot);
                    });
                }
                Err(e) => {
                    ACCEPT_FAILED.warn(|| format!("slice-proxy: accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    tasks.abort_all();
    Ok(())
}

/// What one proxied connection needs.
struct Conn {
    index: u64,
    peer: SocketAddr,
    upstream: String,
    slicing: Slicing,
    options: Arc<Options>,
    record: Option<Arc<Mutex<std::fs::File>>>,
}

impl Conn {
    async fn run(&self, client: TcpStream) -> io::Result<()> {
        let peer = self.peer;
        let connect_timeout = Duration::from_millis(self.options.connect_timeout.max(1));
        let server =
            match tokio::time::timeout(connect_timeout, TcpStream::connect(&self.upstream)).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "upstream {} did not accept within {} ms",
                            self.upstream,
                            connect_timeout.as_millis()
                        ),
                    ))
                }
            };
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        tracing::debug!(%peer, upstream = %self.upstream, conn = self.index, "proxying");
        let (cr, cw) = client.into_split();
        let (sr, sw) = server.into_split();
        let started = Instant::now();
        let activity = Arc::new(AtomicU64::new(0));
        let mut up = Box::pin(self.pump(cr, sw, Dir::Up, started, activity.clone()));
        let mut down = Box::pin(self.pump(sr, cw, Dir::Down, started, activity.clone()));
        let idle = Duration::from_millis(self.options.idle_timeout.max(1));
        let grace = Duration::from_millis(self.options.close_grace);
        let watchdog = idle_watchdog(started, activity, idle);
        tokio::pin!(watchdog);
        // Either direction ending starts the grace period for the other;
        // an error or the idle timeout drops both, closing both sockets.
        let (first, rest) = tokio::select! {
            r = &mut up => (r, Some(down)),
            r = &mut down => (r, Some(up)),
            () = &mut watchdog => {
                tracing::debug!(%peer, idle_ms = idle.as_millis() as u64, "idle timeout; closing both sides");
                (Ok(()), None)
            }
        };
        first?;
        if let Some(rest) = rest {
            tokio::select! {
                r = tokio::time::timeout(grace, rest) => match r {
                    Ok(r) => r?,
                    Err(_) => tracing::debug!(%peer, grace_ms = grace.as_millis() as u64,
                        "one side ended and the other did not within the grace; closing both"),
                },
                () = &mut watchdog => {
                    tracing::debug!(%peer, "idle timeout after half-close; closing both sides");
                }
            }
        }
        tracing::debug!(%peer, conn = self.index, "proxied connection closed");
        Ok(())
    }

    /// Copies `from` to `to`, re-segmented; at end of input, shuts `to`
    /// down so the half-close reaches the other side. The record line is
    /// written however the direction ends.
    async fn pump(
        &self,
        from: OwnedReadHalf,
        to: OwnedWriteHalf,
        dir: Dir,
        started: Instant,
        activity: Arc<AtomicU64>,
    ) -> io::Result<()> {
        let mut p = Pump {
            from,
            to,
            slicing: self.slicing,
            hold: Duration::from_millis(self.options.hold_ms),
            started,
            activity,
            record: Record {
                conn: self.index,
                dir,
                seed: self.slicing.direction_seed(dir),
                bytes: 0,
                cuts: Vec::new(),
                flushes: Vec::new(),
            },
        };
        let result = p.run().await;
        if let Some(file) = &self.record {
            use std::io::Write as _;
            let mut line = serde_json::to_vec(&p.record).map_err(io::Error::other)?;
            line.push(b'\n');
            file.lock()
                .map_err(|_| io::Error::other("record file lock poisoned"))?
                .write_all(&line)?;
        }
        result
    }
}

async fn idle_watchdog(started: Instant, activity: Arc<AtomicU64>, idle: Duration) {
    loop {
        let last = started + Duration::from_millis(activity.load(Ordering::Relaxed));
        let deadline = last + idle;
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// One direction of one connection.
struct Pump {
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    slicing: Slicing,
    hold: Duration,
    started: Instant,
    activity: Arc<AtomicU64>,
    record: Record,
}

impl Pump {
    fn touch(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.activity.fetch_max(ms, Ordering::Relaxed);
    }

    async fn run(&mut self) -> io::Result<()> {
        match self.slicing.merge_ms {
            Some(ms) => self.merge(Duration::from_millis(ms)).await?,
            None => self.chunk().await?,
        }
        self.to.shutdown().await
    }

    async fn chunk(&mut self) -> io::Result<()> {
        let mut cuts = SeededCuts::new(
            self.slicing.min_chunk,
            self.slicing.max_chunk,
            self.record.seed,
        );
        let mut buf = vec![0u8; READ_SIZE];
        // Bytes of a chunk still waiting for the rest of it; they start at
        // stream offset `written`.
        let mut pending: Vec<u8> = Vec::new();
        let mut written = 0u64;
        loop {
            let n = if pending.is_empty() {
                self.from.read(&mut buf).await?
            } else {
                match tokio::time::timeout(self.hold, self.from.read(&mut buf)).await {
                    Ok(r) => r?,
                    Err(_) => {
                        written += pending.len() as u64;
                        self.record.flushes.push(written);
                        self.to.write_all(&pending).await?;
                        pending.clear();
                        continue;
                    }
                }
            };
            if n == 0 {
                break;
            }
            self.touch();
            let arrived_at = written + pending.len() as u64;
            self.record.bytes += n as u64;
            pending.extend_from_slice(&buf[..n]);
            let mut at = 0usize;
            for c in cuts.split(arrived_at, n) {
                let end = (arrived_at - written) as usize + c;
                if at > 0 && self.slicing.delay_us > 0 {
                    tokio::time::sleep(Duration::from_micros(self.slicing.delay_us)).await;
                }
                self.to.write_all(&pending[at..end]).await?;
                self.touch();
                self.record.cuts.push(written + end as u64);
                at = end;
            }
            written += at as u64;
            pending.drain(..at);
        }
        if !pending.is_empty() {
            written += pending.len() as u64;
            self.record.flushes.push(written);
            self.to.write_all(&pending).await?;
        }
        Ok(())
    }

    async fn merge(&mut self, window: Duration) -> io::Result<()> {
        let mut buf = vec![0u8; READ_SIZE];
        loop {
            let n = self.from.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            self.touch();
            self.record.bytes += n as u64;
            let mut held = buf[..n].to_vec();
            let until = Instant::now() + window;
            let mut eof = false;
            while held.len() < MERGE_CAP {
                match tokio::time::timeout_at(until, self.from.read(&mut buf)).await {
                    Err(_) => break,
                    Ok(Ok(0)) => {
                        eof = true;
                        break;
                    }
                    Ok(Ok(m)) => {
                        self.touch();
                        self.record.bytes += m as u64;
                        held.extend_from_slice(&buf[..m]);
                    }
                    Ok(Err(e)) => return Err(e),
                }
            }
            self.to.write_all(&held).await?;
            self.touch();
            self.record.cuts.push(self.record.bytes);
            if eof {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_chunk_range_is_refused() {
        let s = Slicing {
            min_chunk: 0,
            max_chunk: 4,
            delay_us: 0,
            merge_ms: None,
            seed: 1,
        };
        assert_eq!(
            s.validate(),
            Err(SlicingError::BadChunkRange { min: 0, max: 4 })
        );
        let s = Slicing { min_chunk: 5, ..s };
        assert_eq!(
            s.validate(),
            Err(SlicingError::BadChunkRange { min: 5, max: 4 })
        );
        assert_eq!(Slicing { max_chunk: 5, ..s }.validate(), Ok(()));
    }

    #[test]
    fn direction_seeds_depend_on_the_seed_and_direction_only() {
        let s = Slicing {
            min_chunk: 1,
            max_chunk: 4,
            delay_us: 0,
            merge_ms: None,
            seed: 9,
        };
        assert_eq!(s.direction_seed(Dir::Up), 9);
        assert_ne!(s.direction_seed(Dir::Down), 9);
        assert_eq!(s.direction_seed(Dir::Down), s.direction_seed(Dir::Down));
    }
}
