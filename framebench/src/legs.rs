//! The ways of looking for a bug, each counted in cases: framecheck at its
//! default settings, and the baselines a person would use instead.
//!
//! - [`framecheck()`]: `Harness::new().seed(s)` round trip, then truncation,
//!   each at proptest's default number of cases. The case that first fails
//!   is found by running the same seed with `.cases(n)` for growing, then
//!   bisected, `n`: with a fixed seed a run of `n` cases is the first `n`
//!   cases of a longer run.
//! - [`Baseline::OneRead`]: the encoded frames decoded in one read, what a
//!   plain unit test does.
//! - [`Baseline::PartialIo`]: tokio-util's `FramedRead` over partial-io's
//!   `PartialAsyncRead`, with partial-io's own proptest strategy of reads
//!   (`partial_op_strategy(would_block_strategy(), 128)`: uniform lengths 1
//!   to 128 bytes, `WouldBlock` one time in five).
//! - [`Baseline::OneByte`]: one-byte reads only.
//!
//! The baselines check the round trip: every frame back, equal and in
//! order, and a clean end.

use std::{
    cell::{Cell, RefCell},
    fmt::Debug,
    panic::{self, AssertUnwindSafe},
    sync::Once,
    time::{Duration, Instant},
};

use bytes::BytesMut;
use framecheck::{Failure, Harness, TestableCodec};
use futures_util::StreamExt;
use partial_io::{
    proptest_types::{partial_op_strategy, would_block_strategy},
    PartialAsyncRead,
};
use proptest::{
    collection::vec,
    strategy::{BoxedStrategy, Strategy, ValueTree},
};
use tokio_util::codec::FramedRead;

use crate::subject::seeded_runner;

/// The largest read partial-io's strategy generates here.
pub const PARTIAL_READ_MAX: usize = 128;
/// The most reads partial-io's strategy limits per case (later reads are
/// not limited).
pub const PARTIAL_OPS_MAX: usize = 128;

/// A baseline way of testing a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The whole stream in one read.
    OneRead,
    /// partial-io's uniform random reads through `FramedRead`.
    PartialIo,
    /// One-byte reads.
    OneByte,
}

/// How one search for a bug went.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Cases up to and including the first failing one; `None` if none of
    /// the cases run failed.
    pub cases: Option<u32>,
    /// Cases run in all (when nothing was found, the whole budget).
    pub budget: u32,
    /// Time until the failing case started (or the whole run).
    pub time: Duration,
    /// What the failure was (framecheck's failure kind, or the baseline's
    /// verdict).
    pub what: String,
}

/// The number of cases framecheck runs per property at default settings
/// (proptest's default, or `PROPTEST_CASES`).
pub fn default_cases() -> u32 {
    proptest::test_runner::Config::default().cases
}

/// The variant name of a failure's kind (`WrongFrame`, `DecodeError`...).
fn kind_name(f: &Failure) -> String {
    let text = format!("{:?}", f.kind());
    text.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// One property run with `n` cases: whether it failed, how many codecs it
/// made, and when it made each.
struct Run {
    failure: Option<Failure>,
    stamps: Vec<Instant>,
    start: Instant,
}

fn run_property<C, I>(
    make: &dyn Fn() -> C,
    frames: fn() -> BoxedStrategy<Vec<I>>,
    seed: u64,
    n: u32,
    truncation: bool,
) -> Run
where
    C: TestableCodec<I>,
    I: Clone + Debug + 'static,
{
    let stamps = RefCell::new(Vec::new());
    let counted = || {
        stamps.borrow_mut().push(Instant::now());
        make()
    };
    let harness = Harness::new().seed(seed).cases(n);
    let start = Instant::now();
    let result = if truncation {
        harness.check_truncation_detected(counted, frames())
    } else {
        harness.check_roundtrip(counted, frames())
    };
    Run {
        failure: result.err(),
        stamps: stamps.into_inner(),
        start,
    }
}

/// Whether framecheck with `seed` finds the bug within its first `cases`
/// cases of one property (`truncation`: the truncation property, else the
/// round trip): the probe behind [`framecheck()`]'s count, for looking at
/// the first cases alone.
pub fn framecheck_fails_within<C, I>(
    make: impl Fn() -> C,
    frames: fn() -> BoxedStrategy<Vec<I>>,
    seed: u64,
    cases: u32,
    truncation: bool,
) -> bool
where
    C: TestableCodec<I>,
    I: Clone + Debug + 'static,
{
    run_property(&make, frames, seed, cases, truncation)
        .failure
        .is_some()
}

/// framecheck at default settings with `seed`: the round trip, then (if
/// it passed) truncation. Cases count both properties.
pub fn framecheck<C, I>(
    make: impl Fn() -> C,
    frames: fn() -> BoxedStrategy<Vec<I>>,
    seed: u64,
) -> Detection
where
    C: TestableCodec<I>,
    I: Clone + Debug + 'static,
{
    let per_property = default_cases();
    let mut spent = Duration::ZERO;
    for (i, truncation) in [false, true].into_iter().enumerate() {
        let full = run_property(&make, frames, seed, per_property, truncation);
        if full.failure.is_none() {
            spent += full.start.elapsed();
            continue;
        }
        let fails = |n: u32| {
            run_property(&make, frames, seed, n, truncation)
                .failure
                .is_some()
        };
        // Grow, then bisect: `lo` passes, `hi` fails.
        let (mut lo, mut hi) = (0u32, per_property);
        let mut k = 1;
        while k < hi {
            if fails(k) {
                hi = k;
                break;
            }
            lo = k;
            k *= 2;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fails(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        // The failing case starts after the codecs the passing prefix made.
        let before = if hi > 1 {
            run_property(&make, frames, seed, hi - 1, truncation)
                .stamps
                .len()
        } else {
            0
        };
        let failing = run_property(&make, frames, seed, hi, truncation);
        let started = failing
            .stamps
            .get(before)
            .map_or(Duration::ZERO, |t| t.duration_since(failing.start));
        let what = failing.failure.as_ref().map(kind_name).unwrap_or_default();
        let property = if truncation {
            "truncation"
        } else {
            "round trip"
        };
        return Detection {
            cases: Some(per_property * i as u32 + hi),
            budget: per_property * 2,
            time: spent + started,
            what: format!("{property}: {what}"),
        };
    }
    Detection {
        cases: None,
        budget: per_property * 2,
        time: spent,
        what: String::new(),
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, a panic turned into `Err` without the default hook's output.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.map_err(|_| ())
}

/// The round-trip verdict on what came out: `None` when it is right.
fn verdict<T: PartialEq<I>, I, E>(items: &[T], sent: &[I], end: &Result<(), E>) -> Option<String> {
    if let Some(i) = items.iter().zip(sent).position(|(got, want)| got != want) {
        return Some(format!("frame {i} wrong"));
    }
    if end.is_err() {
        return Some("decode error".to_owned());
    }
    if items.len() != sent.len() {
        return Some(format!("{} of {} frames", items.len(), sent.len()));
    }
    None
}

/// One baseline case: `None` if the frames came back.
fn baseline_case<C, I>(
    leg: Baseline,
    make: &dyn Fn() -> C,
    frames: &[I],
    ops: Vec<partial_io::PartialOp>,
    rt: &tokio::runtime::Runtime,
) -> Option<String>
where
    C: TestableCodec<I>,
    I: Clone + Debug,
{
    let mut encoder = make();
    let mut stream = BytesMut::new();
    for f in frames {
        if tokio_util::codec::Encoder::encode(&mut encoder, f.clone(), &mut stream).is_err() {
            return Some("encoder refused a frame".to_owned());
        }
    }
    let outcome = quietly(|| match leg {
        Baseline::OneRead | Baseline::OneByte => {
            let ends: Vec<usize> = match leg {
                Baseline::OneByte => (1..stream.len()).collect(),
                _ => Vec::new(),
            };
            let (items, end) = framecheck::decode_in_reads(&mut make(), &stream, &ends);
            verdict(&items, frames, &end.map_err(|_| ()))
        }
        Baseline::PartialIo => {
            let reader = PartialAsyncRead::new(&stream[..], ops);
            let mut framed = FramedRead::new(reader, make());
            let limit = frames.len() + 8;
            rt.block_on(async {
                let mut items = Vec::new();
                let mut end = Ok(());
                while let Some(next) = framed.next().await {
                    match next {
                        Ok(item) if items.len() < limit => items.push(item),
                        Ok(_) => {
                            end = Err(());
                            break;
                        }
                        Err(_) => {
                            end = Err(());
                            break;
                        }
                    }
                }
                verdict(&items, frames, &end)
            })
        }
    });
    outcome.unwrap_or_else(|()| Some("panic".to_owned()))
}

/// A baseline with `seed`: up to `budget` cases of `frames`, stopping at
/// the first that fails.
pub fn baseline<C, I>(
    leg: Baseline,
    make: impl Fn() -> C,
    frames: BoxedStrategy<Vec<I>>,
    seed: u64,
    budget: u32,
) -> Detection
where
    C: TestableCodec<I>,
    I: Clone + Debug + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let ops = vec(
        partial_op_strategy(would_block_strategy(), PARTIAL_READ_MAX),
        0..PARTIAL_OPS_MAX,
    );
    let strategy = (frames, ops);
    let mut runner = seeded_runner(seed);
    let start = Instant::now();
    for case in 1..=budget {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let (frames, ops) = tree.current();
        let ops = if leg == Baseline::PartialIo {
            ops
        } else {
            Vec::new()
        };
        let started = start.elapsed();
        if let Some(what) = baseline_case(leg, &make, &frames, ops, &rt) {
            return Detection {
                cases: Some(case),
                budget,
                time: started,
                what,
            };
        }
    }
    Detection {
        cases: None,
        budget,
        time: start.elapsed(),
        what: String::new(),
    }
}
