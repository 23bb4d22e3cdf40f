//! `Harness` settings: the number of cases and the seed.

mod planted;

use std::sync::atomic::{AtomicUsize, Ordering};

use framecheck::{strategies, Harness};
use planted::{Bug, Planted};

#[test]
fn cases_sets_how_many_cases_run() {
    let encoders = AtomicUsize::new(0);
    let make_encoder = || {
        encoders.fetch_add(1, Ordering::Relaxed);
        Planted::new(Bug::None, 4)
    };
    Harness::new()
        .persistence(false)
        .cases(10)
        .split(make_encoder, || Planted::new(Bug::None, 4))
        .check_roundtrip(strategies::byte_frames())
        .unwrap();
    // Each case's frames are encoded once, by one encoder.
    assert_eq!(encoders.load(Ordering::Relaxed), 10);
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
