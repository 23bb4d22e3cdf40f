//! Failing cases are saved under `proptest-regressions/` (proptest's seed
//! and the chunking as a value) and the saved chunking is replayed first,
//! against new frames, even from another frame strategy.
//!
//! The files this writes are committed:
//! `proptests/proptest-regressions/tests/persistence.txt` (seeds) and
//! `persistence.framecheck.txt` (chunkings).

mod planted;

use std::{fs, path::Path};

use framecheck::{strategies, Harness};
use planted::{Bug, Planted};
use proptest::{collection::vec, strategy::Strategy};

#[test]
fn failing_chunkings_are_saved_as_values_and_replayed_first() {
    let make = || Planted::new(Bug::ClearsAfterFrame, 4);
    let failure = Harness::new()
        .check_roundtrip(make, strategies::byte_frames())
        .unwrap_err();
    assert!(failure.chunking().is_some(), "{failure}");

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("proptest-regressions/tests");
    let values = fs::read_to_string(dir.join("persistence.framecheck.txt")).unwrap();
    let saved: Vec<&str> = values
        .lines()
        .filter_map(|l| l.strip_prefix("roundtrip "))
        .collect();
    assert!(!saved.is_empty(), "{values}");
    assert!(
        saved
            .iter()
            .all(|line| line.parse::<framecheck::chunk::Chunking>().is_ok()),
        "{values}"
    );
    let seeds = fs::read_to_string(dir.join("persistence.txt")).unwrap();
    assert!(seeds.lines().any(|l| l.starts_with("cc ")), "{seeds}");

    // Zero new cases and another frame strategy: only the saved chunkings
    // (and seeds) run, and they still catch the bug.
    let other_frames = vec(strategies::bodies_of(0usize..40), 2..5).boxed();
    let again = Harness::new().cases(0).check_roundtrip(make, other_frames);
    assert!(again.is_err(), "saved chunkings did not replay");
}
