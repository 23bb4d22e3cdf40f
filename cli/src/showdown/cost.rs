//! Part 2: what each strategy costs.
//!
//! An echo exchange of fixed-size messages directly over loopback with each
//! framing strategy, bounded by a message count and a time cap, reporting
//! messages/s, MB/s and the p50/p99 round-trip latency, from the call that
//! sent a message to the last byte of its echo.

use std::{
    io,
    time::{Duration, Instant},
};

use framecheck_codec::{
    strategy::{Conn, Framing},
    CodecError,
};
use framecheck_figures::{
    chart::{Bar, BarChart},
    fmt, percentile,
};
use serde::{Serialize, Serializer};
use tokio::net::{TcpListener, TcpStream};

use super::Outcome;
use crate::report::{Align, Chart, Section, Table};

/// Part 2's settings (flattened into `framecheck showdown`'s arguments).
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Args {
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
    /// The label used in tables and the report: [`Framing::label`], plus
    /// `single` or `pipelined` for the header-prefixed framings.
    pub fn label(&self) -> String {
        match self.framing {
            Framing::Length | Framing::JsonHeader => format!(
                "{}, {}",
                self.framing.label(),
                if self.pipelined {
                    "pipelined"
                } else {
                    "single"
                }
            ),
            _ => self.framing.label().into_owned(),
        }
    }

    /// A stable id: [`Framing::id`], plus `-pipelined` when pipelined.
    pub fn id(&self) -> String {
        if self.pipelined {
            format!("{}-pipelined", self.framing.id())
        } else {
            self.framing.id().into_owned()
        }
    }
}

/// In `results.json`: `{"id": ..., "label": ..., "pipelined": ...}`.
impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Named {
            id: String,
            label: String,
            pipelined: bool,
        }
        Named {
            id: self.id(),
            label: self.label(),
            pipelined: self.pipelined,
        }
        .serialize(s)
    }
}

/// One Part 2 measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// The strategy measured.
    pub strategy: Strategy,
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
    /// Median latency in microseconds (nearest rank).
    pub p50_us: f64,
    /// 99th-percentile latency in microseconds (nearest rank).
    pub p99_us: f64,
    /// Whether the time cap, not the message count, ended the run.
    pub capped: bool,
    /// Error that ended the run early, if any.
    pub error: Option<String>,
}

/// The strategies Part 2 runs, in table order: every [`Framing::ALL`], the
/// header-prefixed ones also pipelined.
pub fn strategies() -> Vec<Strategy> {
    let mut v = Vec::new();
    for framing in Framing::ALL {
        v.push(Strategy {
            framing,
            pipelined: false,
        });
        if matches!(framing, Framing::Length | Framing::JsonHeader) {
            v.push(Strategy {
                framing,
                pipelined: true,
            });
        }
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
pub async fn measure(
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
    let mut lat_ns: Vec<u64> = (0..n)
        .map(|i| arrivals[i].saturating_duration_since(sends[i]).as_nanos() as u64)
        .collect();
    let summary = percentile::summarize(&mut lat_ns);
    let secs = match (sends.first(), arrivals.last()) {
        (Some(first), Some(last)) => last.saturating_duration_since(*first).as_secs_f64(),
        _ => 0.0,
    };
    let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
    Ok(Measure {
        strategy,
        size,
        messages: n,
        secs,
        msgs_per_sec: rate,
        mb_per_sec: rate * size as f64 / 1e6,
        p50_us: summary.map_or(0.0, |s| s.p50 as f64 / 1e3),
        p99_us: summary.map_or(0.0, |s| s.p99 as f64 / 1e3),
        capped,
        error: client.err().map(|e| e.to_string()).or(server_error),
    })
}

/// One line on why a Part 2 row came out as it did.
pub fn explain(m: &Measure) -> String {
    if let Some(e) = &m.error {
        return format!("run ended on an error: {e}");
    }
    let p50_ms = m.p50_us / 1000.0;
    match m.strategy.framing {
        Framing::Sleep { .. } => format!(
            "paced by the gap (a sleep lasts at least its duration, at millisecond \
             granularity): {:.0} msg/s at best; the gap makes merging less likely, never \
             impossible, and a large message still splits across reads",
            m.msgs_per_sec
        ),
        Framing::TwoSend {
            nodelay: false,
            ack,
        } => {
            if p50_ms >= 10.0 {
                format!(
                    "stalls {p50_ms:.0} ms per echo: Nagle holds the second small write until \
                     the first is ACKed, and the peer, still waiting for the rest of the \
                     message, delays its ACK{}",
                    if m.capped {
                        "; stopped by the time cap"
                    } else {
                        ""
                    }
                )
            } else if ack {
                format!(
                    "no Nagle stall (p50 {p50_ms:.2} ms): the wait for the ack between the two \
                     writes means the first is already ACKed when the second goes"
                )
            } else {
                format!(
                    "no Nagle stall (p50 {p50_ms:.2} ms): a large body is mostly full \
                     segments, which Nagle never holds, and once the peer reads them it \
                     acknowledges at once, releasing the short tail"
                )
            }
        }
        Framing::TwoSend {
            nodelay: true,
            ack: false,
        } => "two writes per message but none waits (TCP_NODELAY): a syscall and often a \
              packet per write"
            .to_owned(),
        Framing::TwoSend {
            nodelay: true,
            ack: true,
        } => "the ack costs an extra round trip per message (two per exchange), and two more \
              syscalls on each side"
            .to_owned(),
        _ if m.strategy.pipelined && m.size <= 8 * 1024 => {
            "feed() copies small messages into one buffer and flush() writes them at once: \
             many messages per syscall; latency includes the wait for the batch"
                .to_owned()
        }
        _ if m.strategy.pipelined => "bodies over 8 KiB are written straight out (no copy), so \
                                      pipelining gains little over single sends"
            .to_owned(),
        Framing::JsonHeader => {
            "one vectored write per message; the JSON header costs a little parsing per message"
                .to_owned()
        }
        Framing::Length => {
            "one vectored write (length + body) per message: a syscall each, nothing waits"
                .to_owned()
        }
    }
}

/// What the Part 2 marks mean.
pub const LEGEND: &str = "* = stopped by the time cap";

/// A horizontal bar chart of messages/s (log scale), one colour per
/// message size, as a standalone SVG document; `None` when no rate is
/// positive.
///
/// # Errors
///
/// plotters' drawing error, as text.
pub fn chart_svg(rows: &[Measure]) -> Result<Option<String>, String> {
    let mut sizes: Vec<usize> = rows.iter().map(|m| m.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let bars: Vec<Bar> = rows
        .iter()
        .map(|m| Bar {
            label: format!("{} · {}", m.strategy.label(), fmt::size(m.size as u64)),
            value: m.msgs_per_sec,
            series: sizes.iter().position(|s| *s == m.size).unwrap_or(0),
        })
        .collect();
    let series: Vec<String> = sizes
        .iter()
        .map(|s| format!("{} messages", fmt::size(*s as u64)))
        .collect();
    BarChart {
        title: "Messages per second by framing strategy",
        unit: "messages/s (log scale)",
        bars: &bars,
        series: &series,
    }
    .svg()
}

/// Part 2 as a report section, with its chart.
///
/// # Errors
///
/// The chart's drawing error, as text.
pub fn section(setup: &str, rows: &[Measure]) -> Result<Section, String> {
    let chart = chart_svg(rows)?.map(|svg| Chart {
        file: "chart.svg".into(),
        alt: "messages per second".into(),
        svg,
    });
    Ok(Section {
        chart,
        ..table_section(setup, rows)
    })
}

/// Part 2's section without its chart.
pub(crate) fn table_section(setup: &str, rows: &[Measure]) -> Section {
    let mut table = Table::new([
        ("strategy", Align::Left),
        ("size", Align::Right),
        ("messages", Align::Right),
        ("messages/s", Align::Right),
        ("MB/s", Align::Right),
        ("p50", Align::Right),
        ("p99", Align::Right),
    ]);
    for m in rows {
        table.row([
            m.strategy.label(),
            fmt::size(m.size as u64),
            format!("{}{}", m.messages, if m.capped { "*" } else { "" }),
            fmt::rate(m.msgs_per_sec),
            fmt::mb_per_sec(m.mb_per_sec * 1e6),
            fmt::duration(m.p50_us * 1e3),
            fmt::duration(m.p99_us * 1e3),
        ]);
    }
    Section {
        title: "Part 2: what each strategy costs".into(),
        setup: setup.into(),
        table,
        legend: Some(LEGEND.into()),
        notes: rows
            .iter()
            .map(|m| {
                (
                    format!("{} / {}", m.strategy.label(), fmt::size(m.size as u64)),
                    explain(m),
                )
            })
            .collect(),
        chart: None,
    }
}

/// The raw results of Part 2, as `results.json` holds them.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The settings, in words.
    pub setup: String,
    /// One row per strategy and size.
    pub rows: Vec<Measure>,
}

/// Runs Part 2.
///
/// # Errors
///
/// Setup failures (bind, connect), or the chart's drawing error.
pub async fn run(args: &Args) -> io::Result<Outcome> {
    let cap = Duration::from_millis(args.time_cap.max(1));
    let large_max = (args.max_messages / 10).max(1);
    let setup = format!(
        "loopback, no proxy; the server echoes every message with the same framing; per \
         strategy up to {} small ({} B) or {} large ({} B) messages, or {} ms, whichever ends \
         first; latency = send call to the last byte of its echo; MB/s counts one way",
        args.max_messages,
        args.small,
        large_max,
        args.large,
        cap.as_millis()
    );
    let mut rows = Vec::new();
    for (size, max) in [(args.small, args.max_messages), (args.large, large_max)] {
        for s in strategies() {
            tracing::info!(strategy = %s.label(), size, "part 2");
            rows.push(measure(s, size, max, cap).await?);
        }
    }
    let section = section(&setup, &rows).map_err(io::Error::other)?;
    Outcome::new(section, &Results { setup, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure_of(strategy: Strategy, size: usize, rate: f64) -> Measure {
        Measure {
            strategy,
            size,
            messages: 10,
            secs: 1.0,
            msgs_per_sec: rate,
            mb_per_sec: rate * size as f64 / 1e6,
            p50_us: 20.0,
            p99_us: 50.0,
            capped: false,
            error: None,
        }
    }

    #[test]
    fn pipelined_batches_stay_within_the_byte_budget() {
        assert_eq!(batch_for(64), MAX_BATCH);
        assert_eq!(batch_for(64 * 1024), 2);
        assert_eq!(batch_for(10 << 20), 1);
    }

    #[test]
    fn strategies_are_every_framing_and_the_pipelined_header_forms() {
        let s = strategies();
        assert_eq!(s.len(), Framing::ALL.len() + 2);
        let ids: Vec<String> = s.iter().map(Strategy::id).collect();
        assert!(
            ids.contains(&"json-header-pipelined".to_string()),
            "{ids:?}"
        );
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
        assert_eq!(s[0].label(), "sleep 1 ms between sends");
        let json = serde_json::to_value(s.last().unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "json-header-pipelined", "label": "JSON header, pipelined", "pipelined": true})
        );
    }

    #[test]
    fn section_rows_marks_and_chart_legend() {
        let nagle = Strategy {
            framing: Framing::TwoSend {
                ack: false,
                nodelay: false,
            },
            pipelined: false,
        };
        let mut stalled = measure_of(nagle, 64, 11.0);
        stalled.p50_us = 88_000.0;
        stalled.capped = true;
        let rows = [stalled, measure_of(strategies()[5], 65_536, 20_000.0)];
        let s = section("setup", &rows).unwrap();
        let text = s.table.text();
        assert!(text.contains("two sends, Nagle on"), "{text}");
        assert!(text.contains("10*"), "{text}");
        assert!(text.contains("88.0 ms"), "{text}");
        assert!(
            s.notes[0].1.starts_with("stalls 88 ms per echo"),
            "{:?}",
            s.notes
        );
        assert!(s.notes[0].1.ends_with("stopped by the time cap"));
        let svg = s.chart.unwrap().svg;
        assert!(svg.contains("64 B messages") && svg.contains("64 KiB messages"));
        assert!(svg.contains("two sends, Nagle on · 64 B"));
    }
}
