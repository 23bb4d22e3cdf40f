//! `showdown`: the sticky-packet problem and the cost of each fix, in one
//! run on loopback.
//!
//! **Part 1** sends the same messages of mixed sizes through an in-process
//! [`slice-proxy`](crate::proxy) once per framing, and compares what the
//! receiving application took as messages with what was sent (see
//! [`Tally`] for the exact definitions).
//!
//! **Part 2** runs an echo exchange of fixed-size messages directly over
//! loopback with each framing strategy, bounded by a message count and a
//! time cap, and reports messages/s, MB/s and the p50/p99 round-trip
//! latency, from the call that sent a message to the last byte of its echo.
//!
//! **Part 3** runs `fuzz-server` against a naive server written the way
//! the tutorial writes it and against `echo-server`
//! ([`demo`](crate::fuzz_server::demo)).

use std::{
    io,
    path::PathBuf,
    time::{Duration, Instant},
};

use bytes::Bytes;
use framecheck_codec::{
    strategy::{Conn, Framing},
    CodecError,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::{proxy, report};

/// `framecheck showdown`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Directory for `report.md`, `chart.svg` and `results.json`.
    #[arg(long, default_value = "target/showdown")]
    pub out: PathBuf,
    /// Part 1: how many messages to send through the proxy per framing.
    #[arg(long, value_name = "N", default_value_t = 3_000)]
    pub messages: usize,
    /// Part 1: seed for message sizes and the proxy's cuts.
    #[arg(long, value_name = "S", default_value_t = 7)]
    pub seed: u64,
    /// Part 1: the proxy's largest chunk in bytes (the smallest is 1).
    #[arg(long, value_name = "N", default_value_t = 1_500)]
    pub max_chunk: usize,
    /// Part 2: size of a small message in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub small: usize,
    /// Part 2: size of a large message in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub large: usize,
    /// Part 2: at most this many small messages per strategy (a tenth as
    /// many large ones).
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub max_messages: usize,
    /// Part 2: stop sending after this many milliseconds per strategy and
    /// size (the stalling strategies hit it).
    #[arg(long, value_name = "MS", default_value_t = 1_500)]
    pub time_cap: u64,
    /// Run only this part (1, 2 or 3).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=3))]
    pub part: Option<u8>,
}

/// Part 1's count for one framing.
///
/// The sender's messages are laid end to end as one byte stream, and so are
/// the units the receiver took as messages (one per read for raw framing,
/// one per decoded frame otherwise). Each sent message is then exactly one
/// of:
///
/// - **intact**: one received unit holds exactly this message, same bytes;
/// - **merged**: the message arrived whole inside one unit that also holds
///   bytes of other messages;
/// - **split**: its bytes arrived spread over two or more units;
/// - **lost**: not all of its bytes arrived (the stream ended, or the
///   receiver gave up on an error).
///
/// `corrupt` counts messages whose bytes arrived altered (never expected:
/// TCP checks bytes, only boundaries are at stake); they are not counted
/// in the four classes above.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// The framing, as shown in the table.
    pub framing: String,
    /// Messages sent.
    pub sent: usize,
    /// Units the receiver took as messages.
    pub units: usize,
    /// See the type's docs.
    pub intact: usize,
    /// See the type's docs.
    pub merged: usize,
    /// See the type's docs.
    pub split: usize,
    /// See the type's docs.
    pub lost: usize,
    /// See the type's docs.
    pub corrupt: usize,
    /// The receiver's error, if it stopped on one.
    pub error: Option<String>,
}

/// Classifies every message of `sent` against the `units` received (see
/// [`Tally`]).
///
/// ```
/// use framecheck_cli::showdown::tally;
/// let sent = [b"ab".to_vec(), b"cd".to_vec(), b"ef".to_vec()];
/// let t = tally("raw", &sent, &[b"abc".to_vec().into(), b"d".to_vec().into()]);
/// assert_eq!((t.intact, t.merged, t.split, t.lost), (0, 1, 1, 1));
/// ```
pub fn tally(framing: &str, sent: &[Vec<u8>], units: &[Bytes]) -> Tally {
    let mut t = Tally {
        framing: framing.to_owned(),
        sent: sent.len(),
        units: units.len(),
        ..Tally::default()
    };
    // Start offset of every unit in the received stream, plus the end.
    let mut unit_starts = Vec::with_capacity(units.len() + 1);
    let mut received = Vec::new();
    for u in units {
        unit_starts.push(received.len());
        received.extend_from_slice(u);
    }
    unit_starts.push(received.len());
    let mut start = 0usize;
    for msg in sent {
        let end = start + msg.len();
        if end > received.len() {
            t.lost += 1;
        } else if received[start..end] != msg[..] {
            t.corrupt += 1;
        } else {
            // The unit holding the first byte: the last one starting at or
            // before `start` (for an empty message, the one starting there).
            let k = unit_starts
                .partition_point(|&s| s <= start)
                .saturating_sub(1);
            let (u_start, u_end) = (unit_starts[k], unit_starts[k + 1]);
            if end > u_end {
                t.split += 1;
            } else if u_start == start && u_end == end {
                t.intact += 1;
            } else {
                t.merged += 1;
            }
        }
        start = end;
    }
    t
}

/// Part 1's messages: `n` sizes drawn from a mix (60 % 1–64 B, 30 % 65 B–
/// 1.4 KiB, 10 % 1.4–16 KiB), each filled with a pattern of its own.
pub fn mixed_messages(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let size = match rng.random_range(0..10) {
                0..=5 => rng.random_range(1..=64),
                6..=8 => rng.random_range(65..=1_400),
                _ => rng.random_range(1_401..=16_384),
            };
            (0..size).map(|j| (i * 31 + j) as u8).collect()
        })
        .collect()
}

/// Runs Part 1 for one framing: sender → slice-proxy → receiver.
///
/// # Errors
///
/// Setup failures (bind, connect); a receiver error is reported in the
/// tally instead.
pub async fn part1_run(
    framing: Framing,
    label: &str,
    messages: &[Vec<u8>],
    slicing: proxy::Slicing,
) -> io::Result<Tally> {
    let receiver = TcpListener::bind("127.0.0.1:0").await?;
    let upstream = receiver.local_addr()?.to_string();
    let proxy_listener = TcpListener::bind("127.0.0.1:0").await?;
    let proxy_addr = proxy_listener.local_addr()?;
    let stop = CancellationToken::new();
    let proxy_task = tokio::spawn(proxy::serve(
        proxy_listener,
        upstream,
        slicing,
        stop.clone(),
    ));

    let recv_task = tokio::spawn(async move {
        let (stream, _) = receiver.accept().await?;
        framing.configure(&stream)?;
        let mut conn = Conn::new(stream, framing);
        let mut units = Vec::new();
        let error = loop {
            match conn.recv().await {
                Ok(Some(b)) => units.push(b),
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        Ok::<_, io::Error>((units, error))
    });

    let stream = TcpStream::connect(proxy_addr).await?;
    framing.configure(&stream)?;
    let mut conn = Conn::new(stream, framing);
    for m in messages {
        conn.send(m).await.map_err(io::Error::from)?;
    }
    conn.shutdown().await.map_err(io::Error::from)?;
    let (units, error) = tokio::time::timeout(Duration::from_secs(30), recv_task)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "part 1 receiver stuck"))?
        .map_err(io::Error::other)??;
    stop.cancel();
    let _ = proxy_task.await;
    let mut t = tally(label, messages, &units);
    t.error = error;
    Ok(t)
}

/// One Part 2 measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// Strategy label.
    pub strategy: String,
    /// Message size in bytes.
    pub size: usize,
    /// Messages whose bytes all arrived.
    pub messages: usize,
    /// Seconds from the first send to the last arrival.
    pub secs: f64,
    /// Messages per second.
    pub msgs_per_sec: f64,
    /// Megabytes (10^6 bytes) of payload per second.
    pub mb_per_sec: f64,
    /// Median latency in microseconds.
    pub p50_us: f64,
    /// 99th-percentile latency in microseconds.
    pub p99_us: f64,
    /// Whether the time cap, not the message count, ended the run.
    pub capped: bool,
    /// Error that ended the run early, if any.
    pub error: Option<String>,
}

/// A Part 2 strategy: a framing, and whether messages are fed in batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strategy {
    /// The framing.
    pub framing: Framing,
    /// Feed a batch of messages, then flush (header-prefixed only).
    pub pipelined: bool,
}

impl Strategy {
    /// The label used in tables and the report.
    pub fn label(&self) -> String {
        match self.framing {
            Framing::Sleep { gap } => format!("sleep {} ms", gap.as_millis()),
            Framing::TwoSend { ack, nodelay } => format!(
                "two-send{}, Nagle {}",
                if ack { " + ack" } else { "" },
                if nodelay { "off" } else { "on" }
            ),
            Framing::Length | Framing::JsonHeader => format!(
                "{}, {}",
                if self.framing == Framing::Length {
                    "length prefix"
                } else {
                    "JSON header"
                },
                if self.pipelined {
                    "pipelined"
                } else {
                    "single"
                }
            ),
        }
    }
}

/// The strategies Part 2 runs, in table order.
pub fn strategies() -> Vec<Strategy> {
    let single = |framing| Strategy {
        framing,
        pipelined: false,
    };
    let mut v = vec![single(Framing::Sleep {
        gap: Duration::from_millis(1),
    })];
    for ack in [false, true] {
        for nodelay in [false, true] {
            v.push(single(Framing::TwoSend { ack, nodelay }));
        }
    }
    for framing in [Framing::Length, Framing::JsonHeader] {
        v.push(single(framing));
        v.push(Strategy {
            framing,
            pipelined: true,
        });
    }
    v
}

/// Most messages fed before each flush when pipelined.
pub const MAX_BATCH: usize = 64;
/// Most payload bytes one pipelined batch may hold: both peers write a whole
/// batch before reading, so a batch larger than the socket buffers could
/// leave both blocked in `write`.
pub const BATCH_BYTES: usize = 128 * 1024;

/// Messages per pipelined batch for `size`-byte messages: [`MAX_BATCH`],
/// fewer for large messages so a batch stays within [`BATCH_BYTES`].
pub fn batch_for(size: usize) -> usize {
    (BATCH_BYTES / size.max(1)).clamp(1, MAX_BATCH)
}

/// Measures one strategy: a client sends messages of `size` bytes and the
/// server echoes each back with the same framing, up to `max` messages or
/// until `cap` has passed. Pipelined strategies feed a batch of messages
/// ([`batch_for`]), flush, then read the batch's replies (the server
/// flushes its replies per batch too); the others wait for each reply
/// before the next send.
///
/// # Errors
///
/// Setup failures (bind, connect); a transfer error ends the run and is
/// reported in the result.
pub async fn part2_run(
    strategy: Strategy,
    size: usize,
    max: usize,
    cap: Duration,
) -> io::Result<Measure> {
    let framing = strategy.framing;
    let pipelined = strategy.pipelined;
    let batch = batch_for(size);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        framing.configure(&stream)?;
        let mut conn = Conn::new(stream, framing);
        let mut pending = 0usize;
        let result: Result<(), CodecError> = async {
            while let Some(msg) = conn.recv().await? {
                if pipelined {
                    conn.feed(&msg).await?;
                    pending += 1;
                    if pending == batch {
                        conn.flush().await?;
                        pending = 0;
                    }
                } else {
                    conn.send(&msg).await?;
                }
            }
            conn.shutdown().await
        }
        .await;
        Ok::<_, io::Error>(result.err().map(|e| e.to_string()))
    });

    let stream = TcpStream::connect(addr).await?;
    framing.configure(&stream)?;
    let mut conn = Conn::new(stream, framing);
    let msg = vec![b'x'; size];
    let mut sends: Vec<Instant> = Vec::with_capacity(max.min(1 << 16));
    let mut arrivals: Vec<Instant> = Vec::with_capacity(max.min(1 << 16));
    let mut bytes = 0usize;
    let started = Instant::now();
    let mut capped = false;
    let client: Result<(), CodecError> = async {
        while sends.len() < max {
            if started.elapsed() >= cap {
                capped = true;
                break;
            }
            if pipelined {
                for _ in 0..batch {
                    sends.push(Instant::now());
                    conn.feed(&msg).await?;
                }
                conn.flush().await?;
            } else {
                sends.push(Instant::now());
                conn.send(&msg).await?;
            }
            // Replies are counted by bytes: the sleep strategy's reads need
            // not line up with messages.
            while arrivals.len() < sends.len() {
                let Some(reply) = conn.recv().await? else {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed before replying",
                    )
                    .into());
                };
                bytes += reply.len();
                let now = Instant::now();
                while arrivals.len() < sends.len() && (arrivals.len() + 1) * size.max(1) <= bytes {
                    arrivals.push(now);
                }
            }
        }
        conn.shutdown().await
    }
    .await;
    let server_error = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "part 2 server stuck"))?
        .map_err(io::Error::other)??;

    let n = arrivals.len();
    let mut lat: Vec<f64> = (0..n)
        .map(|i| {
            arrivals[i]
                .saturating_duration_since(sends[i])
                .as_secs_f64()
                * 1e6
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    let secs = match (sends.first(), arrivals.last()) {
        (Some(first), Some(last)) => last.saturating_duration_since(*first).as_secs_f64(),
        _ => 0.0,
    };
    let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
    Ok(Measure {
        strategy: strategy.label(),
        size,
        messages: n,
        secs,
        msgs_per_sec: rate,
        mb_per_sec: rate * size as f64 / 1e6,
        p50_us: percentile(&lat, 0.50),
        p99_us: percentile(&lat, 0.99),
        capped,
        error: client.err().map(|e| e.to_string()).or(server_error),
    })
}

/// The `q` quantile of sorted `v` (nearest rank); 0 when empty.
pub fn percentile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Everything a showdown run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Results {
    /// Part 1 settings, for the report.
    pub part1_setup: String,
    /// Part 1, one row per framing.
    pub part1: Vec<Tally>,
    /// Part 2 settings, for the report.
    pub part2_setup: String,
    /// Part 2, one row per strategy and size.
    pub part2: Vec<Measure>,
}

/// Runs the showdown, prints the tables and writes the report.
///
/// # Errors
///
/// Setup failures and failures to write the report.
pub async fn run(args: Args) -> io::Result<Results> {
    let mut results = Results::default();
    let started = Instant::now();
    if matches!(args.part, None | Some(1)) {
        let slicing = proxy::Slicing {
            min_chunk: 1,
            max_chunk: args.max_chunk.max(1),
            delay_us: 0,
            merge_ms: None,
            seed: args.seed,
        };
        let messages = mixed_messages(args.messages, args.seed);
        let total: usize = messages.iter().map(Vec::len).sum();
        results.part1_setup = format!(
            "{} messages ({} bytes, 1 B to 16 KiB, seed {}) through slice-proxy cutting \
             every write into chunks of 1..={} bytes (seed {}), one write per chunk",
            messages.len(),
            total,
            args.seed,
            slicing.max_chunk,
            slicing.seed
        );
        println!("Part 1: {}\n", results.part1_setup);
        for (framing, label) in [
            (
                Framing::Sleep {
                    gap: Duration::ZERO,
                },
                "raw (one read = one message)",
            ),
            (Framing::Length, "length prefix"),
            (Framing::JsonHeader, "JSON header"),
        ] {
            tracing::info!(label, "part 1");
            results
                .part1
                .push(part1_run(framing, label, &messages, slicing).await?);
        }
        println!("{}", report::part1_table(&results.part1));
    }
    if matches!(args.part, None | Some(2)) {
        let cap = Duration::from_millis(args.time_cap.max(1));
        let large_max = (args.max_messages / 10).max(1);
        results.part2_setup = format!(
            "loopback, no proxy; the server echoes every message with the same framing; per \
             strategy up to {} small ({} B) or {} large ({} B) messages, or {} ms, whichever \
             ends first; latency = send call to the last byte of its echo; MB/s counts one way",
            args.max_messages,
            args.small,
            large_max,
            args.large,
            cap.as_millis()
        );
        println!("Part 2: {}\n", results.part2_setup);
        for (size, max) in [(args.small, args.max_messages), (args.large, large_max)] {
            for s in strategies() {
                tracing::info!(strategy = %s.label(), size, "part 2");
                results.part2.push(part2_run(s, size, max, cap).await?);
            }
        }
        println!("{}", report::part2_table(&results.part2));
    }
    if matches!(args.part, None | Some(3)) {
        crate::fuzz_server::demo::showdown_part3().await?;
    }
    let written = report::write(&args.out, &results)?;
    println!(
        "Report: {} (chart: {}); took {:.1} s",
        written.markdown.display(),
        written.chart.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(parts: &[&[u8]]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
    }

    #[test]
    fn tally_counts_exact_units_as_intact() {
        let sent = [b"ab".to_vec(), b"cde".to_vec()];
        let t = tally("x", &sent, &units(&[b"ab", b"cde"]));
        assert_eq!(
            (t.intact, t.merged, t.split, t.lost, t.corrupt),
            (2, 0, 0, 0, 0)
        );
    }

    #[test]
    fn tally_counts_glued_messages_as_merged() {
        let sent = [b"ab".to_vec(), b"cd".to_vec(), b"ef".to_vec()];
        let t = tally("x", &sent, &units(&[b"abcdef"]));
        assert_eq!((t.intact, t.merged, t.split, t.lost), (0, 3, 0, 0));
    }

    #[test]
    fn tally_counts_a_message_over_two_units_as_split() {
        let sent = [b"abcd".to_vec(), b"ef".to_vec()];
        let t = tally("x", &sent, &units(&[b"ab", b"cd", b"ef"]));
        assert_eq!((t.intact, t.merged, t.split, t.lost), (1, 0, 1, 0));
    }

    #[test]
    fn tally_counts_missing_and_altered_bytes() {
        let sent = [b"ab".to_vec(), b"cd".to_vec(), b"ef".to_vec()];
        let t = tally("x", &sent, &units(&[b"ab", b"cX", b"e"]));
        assert_eq!((t.intact, t.corrupt, t.lost), (1, 1, 1));
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn pipelined_batches_stay_within_the_byte_budget() {
        assert_eq!(batch_for(64), MAX_BATCH);
        assert_eq!(batch_for(64 * 1024), 2);
        assert_eq!(batch_for(10 << 20), 1);
    }

    #[test]
    fn mixed_messages_are_reproducible_and_never_empty() {
        let a = mixed_messages(500, 3);
        assert_eq!(a, mixed_messages(500, 3));
        assert!(a.iter().all(|m| (1..=16_384).contains(&m.len())));
        assert!(a.iter().any(|m| m.len() > 1_400) && a.iter().any(|m| m.len() <= 64));
    }
}
