//! `Harness` settings: the number of cases and the seed.

mod planted;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex,
};

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Encoder;

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

#[test]
fn the_first_case_of_a_run_has_frames() {
    // A user's list strategy of 0 to 8 frames gives an empty list in about
    // one case in nine (framecheck's own byte_frames() never does); the
    // first case of a run, whatever the seed, is not one: a run of one
    // case tests something.
    let mut empty_later = 0;
    for seed in 0..40 {
        // Frames encoded per case: each case has one encoder.
        let frames = Mutex::new(Vec::new());
        let counting = || {
            frames.lock().unwrap().push(0);
            Counting {
                inner: Planted::new(Bug::None, 4),
                frames: &frames,
            }
        };
        Harness::new()
            .seed(seed)
            .cases(3)
            .glue(false)
            .split(counting, || Planted::new(Bug::None, 4))
            .check_roundtrip(proptest::collection::vec(strategies::bodies(), 0..=8))
            .unwrap();
        let frames = frames.into_inner().unwrap();
        assert_eq!(frames.len(), 3, "seed {seed}");
        assert!(frames[0] > 0, "seed {seed}: the first case had no frame");
        empty_later += frames[1..].iter().filter(|&&n| n == 0).count();
    }
    // Later cases may be empty (an empty stream is a case too).
    assert!(empty_later > 0, "no empty case after the first in 80");
}

/// An encoder that counts the frames it encodes in the last entry.
struct Counting<'a> {
    inner: Planted,
    frames: &'a Mutex<Vec<usize>>,
}

impl Encoder<Bytes> for Counting<'_> {
    type Error = std::io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> std::io::Result<()> {
        if let Some(n) = self.frames.lock().unwrap().last_mut() {
            *n += 1;
        }
        self.inner.encode(item, dst)
    }
}
