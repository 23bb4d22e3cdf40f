//! `Harness` settings: the number of cases and the seed.

mod planted;

use std::sync::atomic::{AtomicUsize, Ordering};

use framecheck::{strategies, Harness};
use planted::{Bug, Planted};

#[test]
fn cases_sets_how_many_cases_run() {
    let codecs = AtomicUsize::new(0);
    let make = || {
        codecs.fetch_add(1, Ordering::Relaxed);
        Planted::new(Bug::None, 4)
    };
    Harness::new()
        .persistence(false)
        .cases(10)
        .check_roundtrip(make, strategies::byte_frames())
        .unwrap();
    // One codec to encode and one to decode, per case.
    assert_eq!(codecs.load(Ordering::Relaxed), 20);
}

#[test]
fn a_fixed_seed_gives_the_same_minimal_case() {
    let run = || {
        Harness::new()
            .seed(42)
            .check_roundtrip(
                || Planted::new(Bug::StateNotReset, 4),
                strategies::byte_frames(),
            )
            .unwrap_err()
            .to_string()
    };
    assert_eq!(run(), run());
}
