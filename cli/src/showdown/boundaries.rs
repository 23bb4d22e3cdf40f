//! Part 1: does each framing keep message boundaries?
//!
//! The same messages of mixed sizes go through an in-process
//! [`slice-proxy`](crate::proxy) once per framing, and what the receiving
//! application took as messages is compared with what was sent (see
//! [`Tally`] for the exact definitions).

use std::{io, time::Duration};

use bytes::Bytes;
use framecheck_codec::strategy::{Conn, Framing};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::Outcome;
use crate::{
    proxy,
    report::{Align, Section, Table},
};

/// Part 1's settings (flattened into `framecheck showdown`'s arguments).
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Args {
    /// Part 1: how many messages to send through the proxy per framing.
    #[arg(long, value_name = "N", default_value_t = 3_000)]
    pub messages: usize,
    /// Part 1: seed for message sizes and the proxy's cuts.
    #[arg(long, value_name = "S", default_value_t = 7)]
    pub seed: u64,
    /// Part 1: the proxy's largest chunk in bytes (the smallest is 1).
    #[arg(long, value_name = "N", default_value_t = 1_500)]
    pub max_chunk: usize,
}

/// The framings Part 1 compares, in table order: raw reads (the sleep
/// strategy with no gap), then the two header-prefixed forms.
pub const FRAMINGS: [Framing; 3] = [
    Framing::Sleep {
        gap: Duration::ZERO,
    },
    Framing::Length,
    Framing::JsonHeader,
];

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
    /// The framing, as shown in the table ([`Framing::label`] for the
    /// showdown's own runs).
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

/// Runs Part 1 for one framing: sender → slice-proxy → receiver; the tally
/// is labelled with [`Framing::label`].
///
/// # Errors
///
/// Setup failures (bind, connect); a receiver error is reported in the
/// tally instead.
pub async fn run_framing(
    framing: Framing,
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
    let mut t = tally(&framing.label(), messages, &units);
    t.error = error;
    Ok(t)
}

/// What the Part 1 columns mean, printed under the table.
pub const LEGEND: &str = "\
intact  = a received unit holds exactly that message
merged  = the message arrived whole, glued to bytes of other messages in one unit
split   = the message's bytes arrived spread over two or more units
lost    = not all of its bytes arrived
units   = what the receiver took as messages (reads for raw, frames otherwise)";

/// One line on what a Part 1 row shows.
pub fn explain(t: &Tally) -> String {
    if let Some(e) = &t.error {
        return format!("receiver stopped on an error: {e}");
    }
    if t.intact == t.sent {
        format!(
            "every boundary restored: the length field says where each message ends, \
             however the proxy cut the stream ({} of {} intact)",
            t.intact, t.sent
        )
    } else {
        format!(
            "TCP delivered every byte but no boundary: {} messages shared a read with others, \
             {} were cut across reads, {} of {} lined up by luck",
            t.merged, t.split, t.intact, t.sent
        )
    }
}

/// Part 1 as a report section.
pub fn section(setup: &str, rows: &[Tally]) -> Section {
    let mut table = Table::new([
        ("framing", Align::Left),
        ("sent", Align::Right),
        ("units", Align::Right),
        ("intact", Align::Right),
        ("merged", Align::Right),
        ("split", Align::Right),
        ("lost", Align::Right),
    ]);
    for t in rows {
        table.row([
            t.framing.clone(),
            t.sent.to_string(),
            t.units.to_string(),
            t.intact.to_string(),
            t.merged.to_string(),
            t.split.to_string(),
            t.lost.to_string(),
        ]);
    }
    Section {
        title: "Part 1: does each framing keep message boundaries?".into(),
        setup: setup.into(),
        table,
        legend: Some(LEGEND.into()),
        notes: rows
            .iter()
            .map(|t| (t.framing.clone(), explain(t)))
            .collect(),
        chart: None,
    }
}

/// The raw results of Part 1, as `results.json` holds them.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The settings, in words.
    pub setup: String,
    /// One row per framing of [`FRAMINGS`].
    pub rows: Vec<Tally>,
}

/// Runs Part 1.
///
/// # Errors
///
/// Setup failures (bind, connect).
pub async fn run(args: &Args) -> io::Result<Outcome> {
    let slicing = proxy::Slicing {
        min_chunk: 1,
        max_chunk: args.max_chunk.max(1),
        delay_us: 0,
        merge_ms: None,
        seed: args.seed,
    };
    let messages = mixed_messages(args.messages, args.seed);
    let total: usize = messages.iter().map(Vec::len).sum();
    let setup = format!(
        "{} messages ({} bytes, 1 B to 16 KiB, seed {}) through slice-proxy cutting every \
         write into chunks of 1..={} bytes (seed {}), one write per chunk",
        messages.len(),
        total,
        args.seed,
        slicing.max_chunk,
        slicing.seed
    );
    let mut rows = Vec::with_capacity(FRAMINGS.len());
    for framing in FRAMINGS {
        tracing::info!(framing = %framing, "part 1");
        rows.push(run_framing(framing, &messages, slicing).await?);
    }
    Outcome::new(section(&setup, &rows), &Results { setup, rows })
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
    fn mixed_messages_are_reproducible_and_never_empty() {
        let a = mixed_messages(500, 3);
        assert_eq!(a, mixed_messages(500, 3));
        assert!(a.iter().all(|m| (1..=16_384).contains(&m.len())));
        assert!(a.iter().any(|m| m.len() > 1_400) && a.iter().any(|m| m.len() <= 64));
    }

    #[test]
    fn section_explains_each_row() {
        let sent = [b"ab".to_vec(), b"cd".to_vec()];
        let rows = [
            tally("raw", &sent, &units(&[b"abcd"])),
            tally("JSON header", &sent, &units(&[b"ab", b"cd"])),
        ];
        let s = section("2 messages", &rows);
        assert_eq!(s.table.len(), 2);
        assert!(s.notes[0]
            .1
            .starts_with("TCP delivered every byte but no boundary: 2 messages shared"));
        assert!(s.notes[1].1.starts_with("every boundary restored"));
    }
}
