//! How often the default settings catch each planted bug: runs every
//! planted-bug check `RUNS` times (default 100) with fresh random seeds and
//! prints the share caught and the time per check; then runs the correct
//! codecs (the planted codecs without their bug, tokio-util's
//! `LengthDelimitedCodec` and `LinesCodec`, this project's `HeaderCodec` and
//! `StrictLengthCodec`) as often and counts false alarms.
//!
//! The text protocol's bugs (`tests/planted/text.rs`) run with a 300 ms
//! time limit (the hang costs that much per run) and the per-call size
//! limit through the fuzz oracle on 300 raw inputs of the protocol's
//! alphabet.
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
use planted::{
    text::{Text, TextBug, TEXT_BUGS},
    width_for, Bug, Planted, BUGS,
};
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
        .unwrap_or(100);
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
        all_caught &= caught * 100 >= runs * 99;
        println!(
            "{name:<45} caught {caught:>4}/{runs}  {:>8.1} ms per check",
            start.elapsed().as_secs_f64() * 1e3 / runs as f64
        );
    }
    for (name, bug) in TEXT_BUGS {
        let start = Instant::now();
        let caught = (0..runs).filter(|_| text_check(bug).is_err()).count();
        all_caught &= caught * 100 >= runs * 99;
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
    let start = Instant::now();
    let mut text_alarms = 0;
    for _ in 0..runs {
        let harness = Harness::new().persistence(false);
        let make = || Text::new(TextBug::None);
        let checks = [
            harness.check_roundtrip(make, text_frames()),
            harness.check_truncation_detected(make, text_frames()),
            raw_text(TextBug::None),
        ];
        for check in checks {
            if let Err(failure) = check {
                text_alarms += 1;
                println!("false alarm: {failure}");
            }
        }
    }
    println!(
        "{:<45} false alarms {text_alarms}/{}  {:>8.1} ms per run of three",
        "correct text codec (three checks)",
        3 * runs,
        start.elapsed().as_secs_f64() * 1e3 / runs as f64
    );
    false_alarms += real_alarms + text_alarms;
    if !all_caught || false_alarms > 0 {
        std::process::exit(1);
    }
}

/// Text bodies, some of several-byte characters, up to 64 bytes.
fn text_frames() -> BoxedStrategy<Vec<String>> {
    vec("[a-z é€😀\r\n]{0,16}", 0..=8).boxed()
}

/// The check that catches a text bug, with fresh random cases.
fn text_check(bug: TextBug) -> Result<(), framecheck::Failure> {
    let harness = Harness::new()
        .persistence(false)
        .time_limit(std::time::Duration::from_millis(300));
    let make = move || Text::new(bug);
    match bug {
        TextBug::CleanEndAfterHead => harness.codec(make).check_truncation(text_frames()),
        TextBug::PerCallLimit => raw_text(bug),
        _ => harness.codec(make).check_roundtrip(text_frames()),
    }
}

/// The fuzz oracle on 300 raw inputs of the text protocol's alphabet.
fn raw_text(bug: TextBug) -> Result<(), framecheck::Failure> {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let symbol = prop_oneof![
        10 => (b'0'..=b'9').prop_map(|d| vec![d]),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"x".to_vec()),
    ];
    let inputs = vec(symbol, 0..300).prop_map(|s| s.concat());
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let found = std::cell::RefCell::new(None);
    let _ = runner.run(&inputs, |data| {
        framecheck::fuzz::check_input_unreduced(|| Text::new(bug), &data).map_err(|f| {
            found.borrow_mut().get_or_insert(f);
            TestCaseError::fail("diverged")
        })
    });
    found.take().map_or(Ok(()), Err)
}
