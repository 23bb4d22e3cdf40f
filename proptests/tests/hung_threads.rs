//! A decoder that hangs leaves at most one thread behind per property run
//! that fails with `Hung`, however many cases the run has; the threads end
//! when their decoder returns. One test in this binary, so that no other
//! test's workers are counted.

use std::{
    io,
    sync::{Condvar, Mutex},
    time::{Duration, Instant},
};

use bytes::{Bytes, BytesMut};
use framecheck::{
    proptest::collection::vec, strategies::bodies_of, worker_threads, FailureKind, Harness,
};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Closed until the test opens it; a `Blocks` decoder waits on it.
static GATE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

fn open_gate() {
    *GATE.0.lock().unwrap() = true;
    GATE.1.notify_all();
}

/// Hangs (blocked, not spinning) in every `decode` call that has bytes,
/// until the gate opens; then a length-delimited decoder.
struct Blocks(LengthDelimitedCodec);

fn blocks() -> Blocks {
    Blocks(LengthDelimitedCodec::new())
}

impl Decoder for Blocks {
    type Item = BytesMut;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        if !src.is_empty() {
            let mut open = GATE.0.lock().unwrap();
            while !*open {
                open = GATE.1.wait(open).unwrap();
            }
        }
        self.0.decode(src)
    }
}

impl Encoder<Bytes> for Blocks {
    type Error = io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
        self.0.encode(item, dst)
    }
}

/// `worker_threads()` once it has come down to `want` (a thread whose run
/// ended counts until it has seen the end), or what it is after 10 s.
fn settled(want: usize) -> usize {
    let start = Instant::now();
    while worker_threads() != want && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    worker_threads()
}

/// The threads named as the harness names its workers, as the OS lists
/// them (`None` without `/proc`): the count is of real threads.
fn os_threads() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with("framecheck-dec"))
            .count(),
    )
}

#[test]
fn hanging_decoders_leave_at_most_one_thread_per_failing_property_run() {
    let frames = || vec(bodies_of(1..40), 1..=3);
    let harness = Harness::new()
        .persistence(false)
        .cases(32)
        .time_limit(Duration::from_millis(50));
    assert_eq!(settled(0), 0, "no worker before the first run");

    // Every case of these runs would hang: each run stops at its first and
    // leaves that one thread behind, not one per case.
    for run in 1..=3 {
        let failure = harness.codec(blocks).check_roundtrip(frames()).unwrap_err();
        assert_eq!(
            failure.kind(),
            &FailureKind::Hung { limit_ms: 50 },
            "{failure}"
        );
        assert_eq!(settled(run), run, "after {run} hung runs");
    }
    let failure = harness
        .codec(blocks)
        .check_truncation(frames())
        .unwrap_err();
    assert!(
        matches!(failure.kind(), FailureKind::Hung { .. }),
        "{failure}"
    );
    assert_eq!(settled(4), 4);

    // check_all: four property runs, each hung, one thread each.
    let verdicts = harness.codec(blocks).check_all(frames());
    assert_eq!(verdicts.failures().len(), 4, "{verdicts}");
    assert!(
        verdicts
            .failures()
            .iter()
            .all(|f| matches!(f.kind(), FailureKind::Hung { .. })),
        "{verdicts}"
    );
    assert_eq!(settled(8), 8);
    if let Some(os) = os_threads() {
        assert_eq!(os, 8, "threads the OS lists");
    }

    // The threads are blocked, not lost: once their decoders return, they
    // end, and so does a passing run's worker.
    open_gate();
    assert_eq!(
        settled(0),
        0,
        "hung threads did not end after their decoders returned"
    );
    harness.codec(blocks).check_roundtrip(frames()).unwrap();
    assert_eq!(settled(0), 0, "a passing run's worker did not end");
}
