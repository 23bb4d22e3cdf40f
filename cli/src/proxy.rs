//! `slice-proxy`: a TCP proxy that re-segments traffic both ways, to test
//! any TCP program for framing bugs, whatever its language.
//!
//! ```text
//!  client ──► [ read ─► cut into random chunks ─► one write each ] ──► upstream
//!  client ◄── [ one write each ◄─ cut into random chunks ◄─ read ] ◄── upstream
//! ```
//!
//! In chunk mode every byte read is forwarded in chunks of a random size in
//! `[min_chunk, max_chunk]`, one write per chunk on a `TCP_NODELAY` socket,
//! with an optional pause between chunks: a receiver that takes one read for
//! one message sees its messages split. In merge mode (`merge_ms`) whatever
//! arrives within that window after a first byte is held and forwarded in
//! one write: separate sends arrive together. Chunk sizes come from a seeded
//! generator, per connection and direction, so a failing run replays with
//! the same `--seed`.

use std::{io, net::SocketAddr, time::Duration};

use rand::{rngs::StdRng, Rng, SeedableRng};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        tcp::{OwnedReadHalf, OwnedWriteHalf},
        TcpListener, TcpStream,
    },
    task::JoinSet,
    time::Instant,
};
use tokio_util::sync::CancellationToken;

use crate::net;

/// Largest merged write in merge mode.
const MERGE_CAP: usize = 1 << 20;
/// Size of one read from either side.
const READ_SIZE: usize = 64 * 1024;

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
    /// Seed of the chunk-size generator; the same seed replays the same cuts.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
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
    serve(listener, args.upstream, args.slicing, shutdown).await
}

/// Proxies every connection accepted on `listener` to `upstream` until
/// `shutdown`; open connections are then closed. Used in-process by
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
    slicing
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut tasks = JoinSet::new();
    let mut index = 0u64;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    let upstream = upstream.clone();
                    let seed = slicing.seed.wrapping_add(index.wrapping_mul(2));
                    index += 1;
                    tasks.spawn(async move {
                        if let Err(e) = proxy_conn(client, peer, &upstream, slicing, seed).await {
                            tracing::warn!(%peer, error = %e, "proxied connection failed");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    tasks.abort_all();
    Ok(())
}

async fn proxy_conn(
    client: TcpStream,
    peer: SocketAddr,
    upstream: &str,
    slicing: Slicing,
    seed: u64,
) -> io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    tracing::debug!(%peer, %upstream, seed, "proxying");
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, slicing, seed);
    let down = pump(sr, cw, slicing, seed.wrapping_add(1));
    // The first error drops both directions, closing both sockets.
    let (up_bytes, down_bytes) = tokio::try_join!(up, down)?;
    tracing::debug!(%peer, up_bytes, down_bytes, "proxied connection closed");
    Ok(())
}

/// Draws chunk sizes in `[min, max]` from a seeded generator: the same
/// seed gives the same cuts.
///
/// ```
/// use framecheck_cli::proxy::Cutter;
/// let cuts: Vec<usize> = Cutter::new(1, 4, 9).cuts(10).collect();
/// assert_eq!(cuts.iter().sum::<usize>(), 10);
/// assert_eq!(cuts, Cutter::new(1, 4, 9).cuts(10).collect::<Vec<_>>());
/// ```
#[derive(Debug)]
pub struct Cutter {
    rng: StdRng,
    min: usize,
    max: usize,
}

impl Cutter {
    /// A cutter for chunks of `min..=max` bytes (`min` at least 1; `max` at
    /// least `min`).
    pub fn new(min: usize, max: usize, seed: u64) -> Self {
        let min = min.max(1);
        Cutter {
            rng: StdRng::seed_from_u64(seed),
            min,
            max: max.max(min),
        }
    }

    /// Chunk sizes that add up to `len`; all in range except perhaps the
    /// last, which takes what is left.
    pub fn cuts(&mut self, len: usize) -> impl Iterator<Item = usize> + '_ {
        let mut left = len;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let size = self.rng.random_range(self.min..=self.max).min(left);
            left -= size;
            Some(size)
        })
    }
}

/// Copies `from` to `to`, re-segmented; at end of input, shuts `to` down
/// so the half-close reaches the other side. Returns the bytes copied.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    slicing: Slicing,
    seed: u64,
) -> io::Result<u64> {
    let mut cutter = Cutter::new(slicing.min_chunk, slicing.max_chunk, seed);
    let mut buf = vec![0u8; READ_SIZE];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        total += n as u64;
        match slicing.merge_ms {
            Some(ms) => {
                let mut held = buf[..n].to_vec();
                let until = Instant::now() + Duration::from_millis(ms);
                let mut eof = false;
                while held.len() < MERGE_CAP {
                    match tokio::time::timeout_at(until, from.read(&mut buf)).await {
                        Err(_) => break,
                        Ok(Ok(0)) => {
                            eof = true;
                            break;
                        }
                        Ok(Ok(m)) => {
                            total += m as u64;
                            held.extend_from_slice(&buf[..m]);
                        }
                        Ok(Err(e)) => return Err(e),
                    }
                }
                to.write_all(&held).await?;
                if eof {
                    break;
                }
            }
            None => {
                let mut at = 0;
                for size in cutter.cuts(n) {
                    if at > 0 && slicing.delay_us > 0 {
                        tokio::time::sleep(Duration::from_micros(slicing.delay_us)).await;
                    }
                    to.write_all(&buf[at..at + size]).await?;
                    at += size;
                }
            }
        }
    }
    to.shutdown().await?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_stay_in_range_and_cover_the_input() {
        let mut c = Cutter::new(3, 7, 42);
        for len in [0, 1, 2, 3, 7, 8, 100, 65_536] {
            let cuts: Vec<usize> = c.cuts(len).collect();
            assert_eq!(cuts.iter().sum::<usize>(), len);
            if let Some((last, rest)) = cuts.split_last() {
                assert!(rest.iter().all(|&s| (3..=7).contains(&s)), "{cuts:?}");
                assert!((1..=7).contains(last));
            }
        }
    }

    #[test]
    fn same_seed_replays_the_same_cuts_and_another_differs() {
        let run = |seed| {
            let mut c = Cutter::new(1, 1500, seed);
            (0..20)
                .flat_map(|_| c.cuts(4096).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

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
}
