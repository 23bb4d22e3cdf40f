//! Running the properties under proptest: settings, persistence of failing
//! cases, and the entry points.

use std::{fmt::Debug, panic::Location};

use proptest::{
    prop_oneof,
    strategy::Strategy,
    test_runner::{
        Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
    },
};
use tokio_util::codec::{Decoder, Encoder};

use crate::TestableCodec;
use crate::{
    case::encode_all,
    chunk::{chunkings, points, Chunking, Layout, Point},
    failure::{Failure, FailureKind},
    persist, reduce,
    roundtrip::roundtrip_case,
    truncation::truncation_case,
};

/// Settings for a property run. [`Harness::new`] (what the free functions
/// use) runs proptest's default number of cases, or `PROPTEST_CASES` when
/// set, with a random seed, persisting failing cases under
/// `proptest-regressions/` next to the calling file's crate and replaying
/// them first.
///
/// # Examples
///
/// ```
/// use framecheck::{strategies, Harness};
/// use tokio_util::codec::LengthDelimitedCodec;
///
/// Harness::new()
///     .cases(64)
///     .seed(7)
///     .check_roundtrip(LengthDelimitedCodec::new, strategies::byte_frames())
///     .unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Harness {
    cases: Option<u32>,
    seed: Option<u64>,
    persistence: Option<bool>,
    /// The bound of [`Harness::check_alloc_bound`].
    pub(crate) alloc: crate::alloc_bound::AllocBound,
}

impl Harness {
    /// The default settings.
    pub fn new() -> Self {
        Harness::default()
    }

    /// Runs `cases` cases instead of proptest's default (or
    /// `PROPTEST_CASES`).
    #[must_use]
    pub fn cases(mut self, cases: u32) -> Self {
        self.cases = Some(cases);
        self
    }

    /// Runs with a fixed seed: the same cases every time. Turns persistence
    /// off unless [`Harness::persistence`] turns it back on.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether to save failing cases under `proptest-regressions/` and
    /// replay saved ones first (on by default, off with a fixed seed).
    #[must_use]
    pub fn persistence(mut self, on: bool) -> Self {
        self.persistence = Some(on);
        self
    }

    pub(crate) fn runner(
        &self,
        caller: &'static Location<'static>,
        tag: &'static str,
    ) -> (TestRunner, Option<persist::Store>) {
        let mut config = Config::default();
        if let Some(cases) = self.cases {
            config.cases = cases;
        }
        config.source_file = Some(caller.file());
        // proptest deletes a vector's elements one at a time when it
        // shrinks: a 64 KiB body from a strategy per byte would take 65 536
        // steps of 64 KiB cases. Bound it (unless PROPTEST_MAX_SHRINK_ITERS
        // or PROPTEST_MAX_SHRINK_TIME say otherwise); our own reduction
        // (frames, then cuts) follows.
        if config.max_shrink_iters == u32::MAX {
            config.max_shrink_iters = MAX_SHRINK_ITERS;
        }
        if config.max_shrink_time == 0 {
            config.max_shrink_time = MAX_SHRINK_TIME_MS;
        }
        let persist = self.persistence.unwrap_or(self.seed.is_none());
        let store = if persist {
            persist::Store::for_source(caller.file(), tag)
        } else {
            None
        };
        config.failure_persistence = store
            .as_ref()
            .map(|s| Box::new(FileFailurePersistence::Direct(s.seeds_path())) as _);
        let runner = match self.seed {
            Some(seed) => {
                let mut bytes = [0u8; 32];
                bytes[..8].copy_from_slice(&seed.to_le_bytes());
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
            }
            None => TestRunner::new(config),
        };
        (runner, store)
    }

    /// [`check_roundtrip`] with these settings.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`].
    #[track_caller]
    pub fn check_roundtrip<C, I, F, S>(&self, make_codec: F, frames: S) -> Result<(), Failure>
    where
        F: Fn() -> C,
        C: Encoder<I> + Decoder,
        <C as Decoder>::Item: PartialEq<I> + Debug,
        <C as Decoder>::Error: Debug,
        <C as Encoder<I>>::Error: Debug,
        I: Clone + Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let (mut runner, store) = self.runner(Location::caller(), "roundtrip");
        let case =
            |(frames, chunking): &(Vec<I>, Chunking)| roundtrip_case(&make_codec, frames, chunking);
        let simpler = |(frames, chunking): &(Vec<I>, Chunking)| {
            let layout = layout_of(&make_codec, frames);
            let limit = layout.as_ref().map_or(0, Layout::total);
            let mut out: Vec<(Vec<I>, Chunking)> = reduce::without_each(frames)
                .map(|f| (f, chunking.clone()))
                .collect();
            out.extend(
                reduce::simpler_chunkings(chunking, layout.as_ref(), limit)
                    .into_iter()
                    .map(|c| (frames.clone(), c)),
            );
            out
        };
        // Chunkings that broke a decoder before, against new frames.
        if let Some(store) = &store {
            for chunking in store.load() {
                let mut replay = TestRunner::new(replay_config());
                let result = replay.run(
                    &(complemented(&frames), proptest::strategy::Just(chunking)),
                    |v| case(&v).map_err(|f| TestCaseError::fail(f.headline().to_owned())),
                );
                finish(result, &case, &simpler, &runner, None)?;
            }
        }
        let result = runner.run(&(complemented(&frames), chunkings()), |v| {
            case(&v).map_err(|f| TestCaseError::fail(f.headline().to_owned()))
        });
        let text = |v: &(Vec<I>, Chunking)| v.1.to_string();
        finish(
            result,
            &case,
            &simpler,
            &runner,
            store.as_ref().map(|s| (s, &text as _)),
        )
    }

    /// [`check_truncation_detected`] with these settings.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`].
    #[track_caller]
    pub fn check_truncation_detected<C, I, F, S>(
        &self,
        make_codec: F,
        frames: S,
    ) -> Result<(), Failure>
    where
        F: Fn() -> C,
        C: Encoder<I> + Decoder,
        <C as Decoder>::Item: PartialEq<I> + Debug,
        <C as Decoder>::Error: Debug,
        <C as Encoder<I>>::Error: Debug,
        I: Clone + Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let (mut runner, store) = self.runner(Location::caller(), "truncation");
        let case = |(frames, cut, chunking): &(Vec<I>, Point, Chunking)| {
            truncation_case(&make_codec, frames, cut, chunking)
        };
        let simpler = |(frames, cut, chunking): &(Vec<I>, Point, Chunking)| {
            let layout = layout_of(&make_codec, frames);
            let limit = layout.as_ref().map_or(0, |l| cut.resolve(l));
            let mut out: Vec<(Vec<I>, Point, Chunking)> = reduce::without_each(frames)
                .map(|f| (f, *cut, chunking.clone()))
                .collect();
            if let (Point::Fraction { .. }, Some(layout)) = (cut, &layout) {
                out.push((
                    frames.clone(),
                    reduce::point_at(layout, limit),
                    chunking.clone(),
                ));
            }
            out.extend(
                reduce::simpler_chunkings(chunking, layout.as_ref(), limit)
                    .into_iter()
                    .map(|c| (frames.clone(), *cut, c)),
            );
            out
        };
        if let Some(store) = &store {
            for line in store.load_lines() {
                let Some((cut, chunking)) = persist::parse_truncation(&line) else {
                    continue;
                };
                let mut replay = TestRunner::new(replay_config());
                let strategy = (
                    complemented(&frames),
                    proptest::strategy::Just(cut),
                    proptest::strategy::Just(chunking),
                );
                let result = replay.run(&strategy, |v| {
                    case(&v).map_err(|f| TestCaseError::fail(f.headline().to_owned()))
                });
                finish(result, &case, &simpler, &runner, None)?;
            }
        }
        let result = runner.run(&(complemented(&frames), points(), chunkings()), |v| {
            case(&v).map_err(|f| TestCaseError::fail(f.headline().to_owned()))
        });
        let text = |v: &(Vec<I>, Point, Chunking)| format!("cut {} reads {}", v.1, v.2);
        finish(
            result,
            &case,
            &simpler,
            &runner,
            store.as_ref().map(|s| (s, &text as _)),
        )
    }
}

/// The user's frame lists, and now and then two of them back to back: a
/// strategy of one frame (or of equal frames) still gets streams of several
/// different frames, which gluing and stale-state bugs need. Shrinks
/// toward a single list.
fn complemented<I: Debug, S: Strategy<Value = Vec<I>>>(
    frames: &S,
) -> impl Strategy<Value = Vec<I>> + '_ {
    prop_oneof![
        7 => frames,
        3 => (frames, frames).prop_map(|(mut a, b)| {
            a.extend(b);
            a
        }),
    ]
}

/// The layout of `frames` encoded by a codec from `make_codec`.
fn layout_of<C: Encoder<I>, I: Clone + Debug>(
    make_codec: &dyn Fn() -> C,
    frames: &[I],
) -> Option<Layout>
where
    C::Error: Debug,
{
    encode_all(&mut make_codec(), frames)
        .ok()
        .map(|(_, layout)| layout)
}

/// Shrinking steps proptest may take, unless `PROPTEST_MAX_SHRINK_ITERS`
/// says otherwise.
const MAX_SHRINK_ITERS: u32 = 256;

/// Milliseconds proptest may spend shrinking, unless
/// `PROPTEST_MAX_SHRINK_TIME` says otherwise.
const MAX_SHRINK_TIME_MS: u32 = 5_000;

/// Cases run with each saved chunking.
const REPLAY_CASES: u32 = 16;

fn replay_config() -> Config {
    Config {
        cases: REPLAY_CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

/// How a failing value is saved.
type ToText<'a, V> = &'a dyn Fn(&V) -> String;

/// Turns a run's result into ours: the minimal case is run again to get a
/// full report, and its chunking saved when there is a store.
fn finish<V: Debug>(
    result: Result<(), TestError<V>>,
    case: &dyn Fn(&V) -> Result<(), Failure>,
    simpler: &dyn Fn(&V) -> Vec<V>,
    runner: &TestRunner,
    store: Option<(&persist::Store, ToText<'_, V>)>,
) -> Result<(), Failure> {
    let value = match result {
        Ok(()) => return Ok(()),
        Err(TestError::Abort(reason)) => {
            return Err(Failure::new(
                FailureKind::Aborted,
                format!("proptest gave up: {reason}"),
                "the frame strategy rejected too many values; build frames with prop_map \
                 rather than filters"
                    .to_owned(),
            ))
        }
        Err(TestError::Fail(_, value)) => value,
    };
    let value = reduce::reduce(value, simpler, &|v| case(v).is_err());
    if let Some((store, text)) = store {
        store.save(&text(&value));
    }
    let cases = runner.config().cases;
    match case(&value) {
        Err(failure) => Err(failure.with_note(&format!(
            "minimal failing case (proptest, up to {cases} cases, shrunk, then reduced; \
             PROPTEST_CASES sets the number of cases):"
        ))),
        Ok(()) => Err(Failure::new(
            FailureKind::Nondeterministic,
            "a case failed once and passed when run again: the codec is not deterministic"
                .to_owned(),
            format!("case: {value:?}\n"),
        )),
    }
}

/// Checks the round-trip property for `make_codec` over frames from
/// `frames`, cut into reads by the harness's [`chunkings`], and returns the
/// minimal failing case, if any.
///
/// Each case encodes the frames with one codec, cuts the byte stream into
/// reads, feeds them to a fresh decoder as tokio-util's `FramedRead` does
/// (`decode` until `Ok(None)`, then more bytes, `decode_eof` at the end),
/// and requires exactly the frames sent, in order, with no error. Runs
/// proptest's default number of cases (`PROPTEST_CASES` when set); see
/// [`Harness`] for other settings.
///
/// # Errors
///
/// The minimal failing case's [`Failure`], whose `Display` is the report.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use framecheck::{strategies, FailureKind};
/// use proptest::collection::vec;
/// use tokio_util::codec::{Decoder, LengthDelimitedCodec};
///
/// framecheck::check_roundtrip(LengthDelimitedCodec::new, strategies::byte_frames()).unwrap();
///
/// // A decoder that takes whatever it has as one frame: fine in one read,
/// // wrong as soon as a read splits or merges frames.
/// struct Whatever(LengthDelimitedCodec);
/// impl Decoder for Whatever {
///     type Item = bytes::BytesMut;
///     type Error = std::io::Error;
///     fn decode(&mut self, src: &mut bytes::BytesMut) -> std::io::Result<Option<Self::Item>> {
///         if src.len() < 4 { return Ok(None); }
///         let mut frame = src.split();
///         let _ = frame.split_to(4);
///         Ok(Some(frame))
///     }
/// }
/// impl tokio_util::codec::Encoder<Bytes> for Whatever {
///     type Error = std::io::Error;
///     fn encode(&mut self, item: Bytes, dst: &mut bytes::BytesMut) -> std::io::Result<()> {
///         self.0.encode(item, dst)
///     }
/// }
/// let failure = framecheck::Harness::new()
///     .seed(1)
///     .check_roundtrip(|| Whatever(LengthDelimitedCodec::new()), vec(strategies::bodies(), 2..4))
///     .unwrap_err();
/// assert!(matches!(failure.kind(), FailureKind::WrongFrame { .. }));
/// println!("{failure}");
/// ```
#[track_caller]
pub fn check_roundtrip<C, I, F, S>(make_codec: F, frames: S) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    Harness::new().check_roundtrip(make_codec, frames)
}

/// [`check_roundtrip`], panicking with the failure report.
///
/// # Panics
///
/// With the minimal failing case's report when the property fails.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use proptest::{collection::vec, prelude::*};
/// use tokio_util::codec::{LengthDelimitedCodec, LinesCodec};
///
/// let bodies = vec(any::<u8>(), 0..300).prop_map(Bytes::from);
/// framecheck::assert_roundtrip(LengthDelimitedCodec::new, vec(bodies, 0..8));
///
/// let lines = vec("[a-z ]{0,40}", 0..8);
/// framecheck::assert_roundtrip(LinesCodec::new, lines);
/// ```
#[track_caller]
pub fn assert_roundtrip<C, I, F, S>(make_codec: F, frames: S)
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    if let Err(failure) = Harness::new().check_roundtrip(make_codec, frames) {
        panic!("round trip failed: {failure}");
    }
}

/// Checks the truncation property for `make_codec` over frames from
/// `frames`: the encoded stream is cut short at an arbitrary offset (aimed
/// at headers and frame ends like the chunkings) and the prefix fed in
/// arbitrary reads. Only the frames wholly inside the prefix may come out,
/// unchanged; end of stream inside a frame must be reported as an error,
/// and end of stream at a frame boundary must be clean.
///
/// # Errors
///
/// The minimal failing case's [`Failure`].
///
/// # Examples
///
/// ```
/// use framecheck::{strategies, FailureKind, Harness};
/// use framecheck_codec::StrictLengthCodec;
/// use tokio_util::codec::LengthDelimitedCodec;
///
/// framecheck::check_truncation_detected(|| StrictLengthCodec::new(1 << 20), strategies::byte_frames())
///     .unwrap();
///
/// // tokio-util 0.7's LengthDelimitedCodec ends cleanly when the stream
/// // stops right after a length field.
/// let failure = Harness::new()
///     .seed(3)
///     .check_truncation_detected(LengthDelimitedCodec::new, strategies::byte_frames())
///     .unwrap_err();
/// assert!(matches!(failure.kind(), FailureKind::CleanEndInsideFrame { offset: 4, .. }));
/// ```
#[track_caller]
pub fn check_truncation_detected<C, I, F, S>(make_codec: F, frames: S) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    Harness::new().check_truncation_detected(make_codec, frames)
}

/// [`check_truncation_detected`], panicking with the failure report.
///
/// # Panics
///
/// With the minimal failing case's report when the property fails.
///
/// # Examples
///
/// ```
/// use framecheck_codec::{Frame, HeaderCodec};
/// use proptest::collection::vec;
///
/// let frames = vec(framecheck::strategies::bodies(), 0..6)
///     .prop_map(|bodies| bodies.into_iter().map(Frame::new).collect::<Vec<_>>());
/// # use proptest::strategy::Strategy;
/// framecheck::assert_truncation_detected(HeaderCodec::new, frames);
/// ```
#[track_caller]
pub fn assert_truncation_detected<C, I, F, S>(make_codec: F, frames: S)
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    if let Err(failure) = Harness::new().check_truncation_detected(make_codec, frames) {
        panic!("truncation not detected: {failure}");
    }
}
