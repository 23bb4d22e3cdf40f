//! How often the default settings catch each planted bug: runs every
//! planted-bug check `RUNS` times (default 50) with fresh random seeds and
//! prints the share caught and the time per check; then runs the correct
//! codecs (the planted codec without its bug, tokio-util's
//! `LengthDelimitedCodec` and `LinesCodec`, this project's `HeaderCodec` and
//! `StrictLengthCodec`) as often and counts false alarms.
//!
//! ```sh
//! cargo run --release -p framecheck --example detection_rate
//! RUNS=200 PROPTEST_CASES=256 cargo run --release -p framecheck --example detection_rate
//! ```

#[path = "../tests/planted/mod.rs"]
mod planted;

use std::time::Instant;

use bytes::Bytes;
use framecheck::{strategies, Harness};
use framecheck_codec::{HeaderCodec, StrictLengthCodec};
use planted::{width_for, Bug, Planted, BUGS};
use proptest::{collection::vec, prelude::*};
use tokio_util::codec::{LengthDelimitedCodec, LinesCodec};

fn frames_for(width: usize) -> BoxedStrategy<Vec<Bytes>> {
    let cap = match width {
        1 => 255,
        2 => 65_535,
        _ => usize::MAX,
    };
    vec(
        strategies::bodies().prop_map(move |b| b.slice(..b.len().min(cap))),
        0..=8,
    )
    .boxed()
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let mut all_caught = true;
    for (index, (name, bug)) in BUGS.iter().copied().enumerate() {
        let width = width_for(index);
        let make = move || Planted::new(bug, width);
        let start = Instant::now();
        let caught = (0..runs)
            .filter(|_| {
                let harness = Harness::new().persistence(false);
                let result = match bug {
                    Bug::EofSwallowsPartial | Bug::PanicsOnPartialHeader => {
                        harness.check_truncation_detected(make, frames_for(width))
                    }
                    _ => harness.check_roundtrip(make, frames_for(width)),
                };
                result.is_err()
            })
            .count();
        all_caught &= caught == runs;
        println!(
            "{name:<45} caught {caught:>4}/{runs}  {:>8.1} ms per check",
            start.elapsed().as_secs_f64() * 1e3 / runs as f64
        );
    }
    let start = Instant::now();
    let mut false_alarms = 0;
    for _ in 0..runs {
        let harness = Harness::new().persistence(false);
        let make = || Planted::new(Bug::None, 4);
        false_alarms += usize::from(harness.check_roundtrip(make, frames_for(4)).is_err());
        false_alarms += usize::from(
            harness
                .check_truncation_detected(make, frames_for(4))
                .is_err(),
        );
    }
    println!(
        "{:<45} false alarms {false_alarms}/{}  {:>8.1} ms per pair",
        "correct codec (both properties)",
        2 * runs,
        start.elapsed().as_secs_f64() * 1e3 / runs as f64
    );
    let start = Instant::now();
    let mut real_alarms = 0;
    for _ in 0..runs {
        let harness = Harness::new().persistence(false);
        let checks = [
            harness.check_roundtrip(LengthDelimitedCodec::new, strategies::byte_frames()),
            harness.check_roundtrip(LinesCodec::new, strategies::lines()),
            harness.check_roundtrip(
                HeaderCodec::new,
                framecheck_codec_fuzz::strategies::header_frames(),
            ),
            harness.check_truncation_detected(
                HeaderCodec::new,
                framecheck_codec_fuzz::strategies::header_frames(),
            ),
            harness.check_roundtrip(
                || StrictLengthCodec::new(1 << 20),
                strategies::byte_frames(),
            ),
            harness.check_truncation_detected(
                || StrictLengthCodec::new(1 << 20),
                strategies::byte_frames(),
            ),
        ];
        for check in checks {
            if let Err(failure) = check {
                real_alarms += 1;
                println!("false alarm: {failure}");
            }
        }
    }
    println!(
        "{:<45} false alarms {real_alarms}/{}  {:>8.1} ms per run of six",
        "LengthDelimited, Lines, Header, StrictLength",
        6 * runs,
        start.elapsed().as_secs_f64() * 1e3 / runs as f64
    );
    false_alarms += real_alarms;
    if !all_caught || false_alarms > 0 {
        std::process::exit(1);
    }
}
