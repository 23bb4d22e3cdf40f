//! `showdown`: the sticky-packet problem and the cost of each fix, in one
//! run on loopback.
//!
//! The showdown is a list of [`PARTS`], each a module with its own
//! arguments (flattened into [`Args`]) and an async `run` that returns an
//! [`Outcome`]: a [`Section`] for the report and its raw results for
//! `results.json`. The [`report`] module prints and writes the sections and
//! knows nothing of the parts.
//!
//! - [`boundaries`] (part 1): the same messages through an in-process
//!   `slice-proxy` once per framing; what the receiver took as messages
//!   against what was sent.
//! - [`cost`] (part 2): an echo exchange with each framing strategy over
//!   loopback: messages/s, MB/s, p50/p99 round trip.
//! - part 3: `fuzz-server` against a naive server written the way the
//!   tutorial writes it and against `echo-server`
//!   ([`demo`](crate::fuzz_server::demo)).
//!
//! Adding a part: a module with `Args` and `async fn run(&Args) ->
//! io::Result<Outcome>`, its `Args` flattened into [`Args`], and one entry
//! in [`PARTS`].

pub mod boundaries;
pub(crate) mod compat;
pub mod cost;

use std::{io, path::PathBuf, time::Instant};

use futures_util::future::BoxFuture;
use serde::Serialize;

pub use boundaries::{mixed_messages, tally, Tally};
pub use cost::{batch_for, strategies, Measure, Strategy, BATCH_BYTES, MAX_BATCH};

use crate::report::{self, Section};

/// `framecheck showdown`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Directory for `report.md`, `chart.svg` and `results.json`.
    #[arg(long, default_value = "target/showdown")]
    pub out: PathBuf,
    /// Run only this part (its number in the list above).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=PARTS.len() as i64))]
    pub part: Option<u8>,
    /// Part 1's settings.
    #[command(flatten)]
    pub boundaries: boundaries::Args,
    /// Part 2's settings.
    #[command(flatten)]
    pub cost: cost::Args,
}

/// What a part hands back: the report's section and the raw results.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The computed tables, notes and chart.
    pub section: Section,
    /// The raw results, as `results.json` holds them under the part's key.
    pub results: serde_json::Value,
}

impl Outcome {
    /// An outcome with `results` serialized.
    ///
    /// # Errors
    ///
    /// `results` failing to serialize.
    pub fn new<T: Serialize>(section: Section, results: &T) -> io::Result<Outcome> {
        Ok(Outcome {
            section,
            results: serde_json::to_value(results).map_err(io::Error::other)?,
        })
    }
}

/// One part of the showdown.
#[derive(Clone, Copy)]
pub struct Part {
    /// Its key in `results.json`.
    pub key: &'static str,
    /// Runs it.
    pub run: fn(&Args) -> BoxFuture<'_, io::Result<Outcome>>,
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part").field("key", &self.key).finish()
    }
}

fn run_boundaries(args: &Args) -> BoxFuture<'_, io::Result<Outcome>> {
    Box::pin(boundaries::run(&args.boundaries))
}

fn run_cost(args: &Args) -> BoxFuture<'_, io::Result<Outcome>> {
    Box::pin(cost::run(&args.cost))
}

fn run_fuzz_server(_: &Args) -> BoxFuture<'_, io::Result<Outcome>> {
    Box::pin(crate::fuzz_server::demo::showdown_part())
}

/// The parts, in order; `--part N` runs the N-th alone.
pub const PARTS: &[Part] = &[
    Part {
        key: "boundaries",
        run: run_boundaries,
    },
    Part {
        key: "cost",
        run: run_cost,
    },
    Part {
        key: "fuzz_server",
        run: run_fuzz_server,
    },
];

/// Everything a showdown run found, part by part.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// `(key, outcome)` of every part run, in order.
    pub parts: Vec<(&'static str, Outcome)>,
}

/// The `q` quantile of sorted `v` (nearest rank); 0 when empty.
#[deprecated(note = "use framecheck_figures::percentile::nearest_rank")]
pub fn percentile(v: &[f64], q: f64) -> f64 {
    let percent = (q * 100.0).round().clamp(0.0, 100.0) as u32;
    framecheck_figures::percentile::nearest_rank(v, percent).unwrap_or(0.0)
}

/// Runs Part 1 for one framing; the tally carries `label`.
///
/// # Errors
///
/// As [`boundaries::run_framing`].
#[deprecated(note = "use showdown::boundaries::run_framing, which labels with Framing::label")]
pub async fn part1_run(
    framing: framecheck_codec::strategy::Framing,
    label: &str,
    messages: &[Vec<u8>],
    slicing: crate::proxy::Slicing,
) -> io::Result<Tally> {
    let mut t = boundaries::run_framing(framing, messages, slicing).await?;
    t.framing = label.to_owned();
    Ok(t)
}

/// Measures one Part 2 strategy.
///
/// # Errors
///
/// As [`cost::measure`].
#[deprecated(note = "use showdown::cost::measure")]
pub async fn part2_run(
    strategy: Strategy,
    size: usize,
    max: usize,
    cap: std::time::Duration,
) -> io::Result<Measure> {
    cost::measure(strategy, size, max, cap).await
}

/// Runs the parts (all, or the one `--part` names), prints each section as
/// it completes, and writes the report.
///
/// # Errors
///
/// Setup failures and failures to write the report.
pub async fn run(args: Args) -> io::Result<Results> {
    let mut results = Results::default();
    let started = Instant::now();
    for (i, part) in PARTS.iter().enumerate() {
        if args.part.is_some_and(|n| usize::from(n) != i + 1) {
            continue;
        }
        let outcome = (part.run)(&args).await?;
        println!("{}", report::text(&outcome.section));
        results.parts.push((part.key, outcome));
    }
    let sections: Vec<Section> = results
        .parts
        .iter()
        .map(|(_, o)| o.section.clone())
        .collect();
    let json: serde_json::Map<String, serde_json::Value> = results
        .parts
        .iter()
        .map(|(key, o)| ((*key).to_owned(), o.results.clone()))
        .collect();
    let written = report::write(&args.out, &sections, &json.into())?;
    println!(
        "Report: {}{}; took {:.1} s",
        written.markdown.display(),
        written
            .charts
            .iter()
            .map(|c| format!(" (chart: {})", c.display()))
            .collect::<String>(),
        started.elapsed().as_secs_f64()
    );
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(deprecated)]
    fn deprecated_percentile_still_uses_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn parts_have_unique_keys_and_keep_their_numbers() {
        let keys: Vec<&str> = PARTS.iter().map(|p| p.key).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{keys:?}");
        // `--part 1` and `--part 2` mean what they always meant.
        assert_eq!(keys[..2], ["boundaries", "cost"]);
    }
}
