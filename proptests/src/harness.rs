//! Running the properties under proptest: settings, the codec under test,
//! persistence of failing cases, and the entry points.

use std::{
    any::type_name, cell::RefCell, fmt::Debug, panic::Location, path::PathBuf, time::Duration,
};

use proptest::{
    strategy::{Just, NewTree, Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner},
};
use tokio_util::codec::{Decoder, Encoder};

use crate::{
    case::Pieces,
    chunk::{chunkings, points, Chunking, Point},
    drive::{quietly, ReadLimit},
    failure::{Failure, FailureKind, Property},
    framework::{FrameDecoder, FrameEncoder},
    io::{
        pipeline::{self, Limit, Piped},
        schedules, Schedule,
    },
    persist, reduce, roundtrip,
    spec::{Merge, Spec},
    truncation,
    watch::{Watched, Worker},
    TestableCodec,
};

/// Settings for a property run, and the runner of every property.
///
/// [`Harness::new`] (what the free functions use) runs proptest's default
/// number of cases, or `PROPTEST_CASES` when set, with a random seed,
/// saving failing cases under `proptest-regressions/` next to the calling
/// file's crate (keyed by property, decoder type and test) and replaying
/// them first. Each case of a [`Target`] property has a time limit ([`Harness::time_limit`], 5 s by
/// default). In about 30% of cases two of the strategy's frame lists are
/// glued into one stream ([`Harness::glue`] turns that off). Reads may be
/// of any size unless [`Harness::read_limit`] says otherwise.
///
/// Name rule: `check_*` returns the [`Failure`], `assert_*` panics with its
/// report. Nothing is printed by `check_*`.
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
    glue: Option<bool>,
    read_limit: ReadLimit,
    time_limit: Option<Duration>,
    chunking: Option<Chunking>,
    only: Option<fn(&FailureKind) -> bool>,
    regressions_dir: Option<PathBuf>,
}

/// The default time limit of one case.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(5);

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

    /// Whether to save failing cases and replay saved ones first (on by
    /// default, off with a fixed seed).
    #[must_use]
    pub fn persistence(mut self, on: bool) -> Self {
        self.persistence = Some(on);
        self
    }

    /// Saves failing cases in `dir` (as `<calling file stem>.framecheck.txt`)
    /// instead of `proptest-regressions/` next to the calling crate.
    #[must_use]
    pub fn regressions_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.regressions_dir = Some(dir.into());
        self
    }

    /// Whether two of the strategy's frame lists are sometimes glued into
    /// one stream (on by default, in about 30% of cases: a strategy of one
    /// frame still gets streams of several, which stale-state bugs need).
    /// Turn it off for a protocol that carries one message per connection,
    /// or waits for an acknowledgement before the next one.
    #[must_use]
    pub fn glue(mut self, on: bool) -> Self {
        self.glue = Some(on);
        self
    }

    /// How large a read may be: [`ReadLimit::Unlimited`] by default (a
    /// failure that needs a read larger than `FramedRead::new` makes says
    /// so in its report); [`ReadLimit::FramedRead`] models tokio-util's
    /// `FramedRead::with_capacity`.
    #[must_use]
    pub fn read_limit(mut self, limit: ReadLimit) -> Self {
        self.read_limit = limit;
        self
    }

    /// The longest one case's decoding may take before it is reported as
    /// [`FailureKind::Hung`] (default [`DEFAULT_TIME_LIMIT`]), in the
    /// properties of a [`Target`] (`harness.codec(..)` / `harness.split(..)`),
    /// whose codecs are `Send + 'static`; the older forms that take the
    /// factory directly decode in line, without it. Decoding runs
    /// on a worker thread, one per property run; a hung thread cannot be
    /// killed and is left behind until its decoder returns or the test
    /// process exits, and the run stops at the case that hung, so at most
    /// one is left per property run that fails so ([`crate::worker_threads`]
    /// counts the live ones). `Duration::ZERO` turns the
    /// limit off: decoding runs on the calling thread (no hand-over to a
    /// worker per case, so faster), and a decoder that hangs hangs the
    /// test.
    #[must_use]
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Every case uses this chunking (say [`Chunking::whole`], to look at
    /// truncation alone) instead of generated ones.
    #[must_use]
    pub fn chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = Some(chunking);
        self
    }

    /// Counts only failures of the kinds `wanted` accepts (say
    /// `|k| matches!(k, FailureKind::Panicked)`); cases failing otherwise
    /// pass. An encoder's refusal and a hang always count.
    #[must_use]
    pub fn only(mut self, wanted: fn(&FailureKind) -> bool) -> Self {
        self.only = Some(wanted);
        self
    }

    /// The codec under test, one type for both directions: `make_codec`
    /// makes the encoder and each decoder. For a closure that is not
    /// `Clone`, use [`Harness::split`]`(&make, &make)`.
    pub fn codec<F: Fn() -> C + Clone, C>(&self, make_codec: F) -> Target<F, F> {
        self.split(make_codec.clone(), make_codec)
    }

    /// The codec under test as an encoder factory and a decoder factory,
    /// of different types (a client codec encoding what a server codec
    /// decodes). Wrap a factory that returns a `Result` with
    /// [`ok_or_panic`].
    pub fn split<FE, FD>(&self, make_encoder: FE, make_decoder: FD) -> Target<FE, FD> {
        Target {
            harness: self.clone(),
            encoder: make_encoder,
            decoder: make_decoder,
            compare: Equal,
            merge: NoMerge,
        }
    }
}

/// A factory that returns a `Result` (a constructor that validates its
/// settings), as one the harness takes: it panics with the error, which
/// the harness reports as a failure of the encoder (or decoder).
///
/// ```
/// # use tokio_util::codec::LinesCodec;
/// fn new_codec() -> Result<LinesCodec, String> { Ok(LinesCodec::new()) }
/// framecheck::Harness::new()
///     .cases(16)
///     .codec(framecheck::ok_or_panic(new_codec))
///     .check_roundtrip(framecheck::strategies::lines())
///     .unwrap();
/// ```
pub fn ok_or_panic<T, E: Debug>(make: impl Fn() -> Result<T, E> + Clone) -> impl Fn() -> T + Clone {
    move || match make() {
        Ok(value) => value,
        Err(error) => panic!("the codec's constructor failed: {error:?}"),
    }
}

/// Items compared with `==` (the default of a [`Target`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Equal;

/// No merging of decoded items (the default of a [`Target`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMerge;

/// How a decoded item is compared with the frame sent: `==` ([`Equal`]) or
/// any `Fn(&Decoded, &Sent) -> bool`.
pub trait Compare<T, I> {
    /// Whether `decoded` is the frame `sent`.
    fn same(&self, decoded: &T, sent: &I) -> bool;
}

impl<T: PartialEq<I>, I> Compare<T, I> for Equal {
    fn same(&self, decoded: &T, sent: &I) -> bool {
        decoded == sent
    }
}

impl<T, I, F: Fn(&T, &I) -> bool> Compare<T, I> for F {
    fn same(&self, decoded: &T, sent: &I) -> bool {
        self(decoded, sent)
    }
}

/// How consecutive decoded items merge before comparison: not at all
/// ([`NoMerge`]) or any `Fn(&mut T, T) -> Option<T>` (merge the second
/// into the first and return `None`, or give it back).
pub trait MergeItems<T> {
    /// Merges `next` into `item`, or gives `next` back.
    fn merge(&self, item: &mut T, next: T) -> Option<T>;
    /// Whether this merges at all.
    fn merges(&self) -> bool {
        true
    }
}

impl<T> MergeItems<T> for NoMerge {
    fn merge(&self, _: &mut T, next: T) -> Option<T> {
        Some(next)
    }
    fn merges(&self) -> bool {
        false
    }
}

impl<T, F: Fn(&mut T, T) -> Option<T>> MergeItems<T> for F {
    fn merge(&self, item: &mut T, next: T) -> Option<T> {
        self(item, next)
    }
}

/// A codec under test with its settings: made by [`Harness::codec`] or
/// [`Harness::split`]; every property is a method.
///
/// # Examples
///
/// A client codec encodes requests, a server codec decodes them, into a
/// type without `PartialEq` with what was sent:
///
/// ```
/// use framecheck::{bytes::{Bytes, BytesMut}, strategies, Harness};
/// use framecheck::tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};
///
/// struct Client(LengthDelimitedCodec);
/// impl Encoder<Bytes> for Client {
///     type Error = std::io::Error;
///     fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> std::io::Result<()> {
///         self.0.encode(item, dst)
///     }
/// }
/// struct Server(LengthDelimitedCodec);
/// #[derive(Debug)]
/// struct Request(BytesMut);
/// impl Decoder for Server {
///     type Item = Request;
///     type Error = std::io::Error;
///     fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<Request>> {
///         Ok(self.0.decode(src)?.map(Request))
///     }
/// }
/// Harness::new()
///     .cases(32)
///     .split(|| Client(LengthDelimitedCodec::new()), || Server(LengthDelimitedCodec::new()))
///     .compare(|got: &Request, sent: &Bytes| got.0 == sent)
///     .check_roundtrip(strategies::byte_frames())
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Target<FE, FD, C = Equal, M = NoMerge> {
    harness: Harness,
    encoder: FE,
    decoder: FD,
    compare: C,
    merge: M,
}

impl<FE, FD, C, M> Target<FE, FD, C, M> {
    /// Compares each decoded item with the frame sent by `same` instead of
    /// `==`: for items that are not `PartialEq` with what was sent, or
    /// fields normalised by design.
    pub fn compare<G>(self, same: G) -> Target<FE, FD, G, M> {
        Target {
            harness: self.harness,
            encoder: self.encoder,
            decoder: self.decoder,
            compare: same,
            merge: self.merge,
        }
    }

    /// Compares a key of each: `decoded_key(item) == sent_key(frame)`.
    pub fn compare_by_key<T, I, K: PartialEq>(
        self,
        decoded_key: impl Fn(&T) -> K,
        sent_key: impl Fn(&I) -> K,
    ) -> Target<FE, FD, impl Fn(&T, &I) -> bool, M> {
        self.compare(move |d: &T, s: &I| decoded_key(d) == sent_key(s))
    }

    /// Merges consecutive decoded items before comparing (items that
    /// arrive in read-dependent pieces: a body streamed as fragments).
    /// `merge(item, next)` merges `next` into `item` and returns `None`,
    /// or returns `Some(next)` when they do not belong together. The frames
    /// sent are compared with the merged items. In truncation, the pieces
    /// of the frame the cut falls in may come out before the error.
    pub fn merge<G>(self, merge: G) -> Target<FE, FD, C, G> {
        Target {
            harness: self.harness,
            encoder: self.encoder,
            decoder: self.decoder,
            compare: self.compare,
            merge,
        }
    }

    /// The settings.
    pub fn harness(&self) -> &Harness {
        &self.harness
    }
}

/// Each property's verdict from [`Target::check_all`].
#[derive(Debug)]
pub struct Verdicts {
    /// [`Target::check_roundtrip`].
    pub roundtrip: Result<(), Failure>,
    /// [`Target::check_truncation`].
    pub truncation: Result<(), Failure>,
    /// [`Target::check_oracle`].
    pub oracle: Result<(), Failure>,
    /// [`Target::check_framed_roundtrip`].
    pub framed: Result<(), Failure>,
}

impl Verdicts {
    /// The failures, in the order roundtrip, truncation, oracle, framed.
    pub fn failures(&self) -> Vec<&Failure> {
        [
            &self.roundtrip,
            &self.truncation,
            &self.oracle,
            &self.framed,
        ]
        .into_iter()
        .filter_map(|r| r.as_ref().err())
        .collect()
    }

    /// Whether every property passed.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }
}

impl std::fmt::Display for Verdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, verdict) in [
            ("roundtrip", &self.roundtrip),
            ("truncation", &self.truncation),
            ("oracle", &self.oracle),
            ("framed", &self.framed),
        ] {
            match verdict {
                Ok(()) => writeln!(f, "{name}: passed")?,
                Err(failure) => writeln!(f, "{name}: FAILED: {failure}\n")?,
            }
        }
        Ok(())
    }
}

impl<FE, FD, C, M> Target<FE, FD, C, M> {
    /// Runs `f` with the [`Spec`] of this target for frames of type `I`,
    /// decoding on a worker thread under the harness's time limit (or in
    /// line when the limit is zero).
    fn with_spec<I, E, D, R>(&self, f: impl FnOnce(&Spec<'_, I, E, D>) -> R) -> R
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder + Send + 'static,
        D::Item: Send + 'static,
        D::Error: Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
    {
        let limit = self.harness.case_time_limit();
        let worker = (!limit.is_zero())
            .then(|| Worker::<D>::start(limit))
            .flatten();
        let offload = |d: D, s, e, l, m| match &worker {
            Some(w) => w.feed(d, s, e, l, m),
            None => {
                let mut d = d;
                Some(crate::drive::feed(&mut d, &s, &e, l, m))
            }
        };
        let probe = |frame, bytes| {
            let w = worker.as_ref()?;
            let first = crate::drive::quietly(&self.decoder).ok()?;
            let second = crate::drive::quietly(&self.decoder).ok()?;
            w.probe(first, second, frame, bytes)
        };
        let on_worker = worker.is_some();
        self.spec_then(
            on_worker.then_some(&offload as _),
            on_worker.then_some(&probe as _),
            limit,
            f,
        )
    }

    /// Runs `f` with the [`Spec`] of this target, decoding on the calling
    /// thread with no time limit: for the entry points that predate the
    /// limit, which take codecs that are not `Send + 'static`.
    fn with_spec_in_line<I, E, D, R>(&self, f: impl FnOnce(&Spec<'_, I, E, D>) -> R) -> R
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
    {
        self.spec_then(None, None, Duration::ZERO, f)
    }

    /// The [`Spec`] of this target with the given worker hooks, given to `f`.
    fn spec_then<'s, I, E, D, R>(
        &'s self,
        offload: Option<crate::spec::Offload<'s, D>>,
        probe: Option<crate::spec::OffloadProbe<'s>>,
        time_limit: Duration,
        f: impl FnOnce(&Spec<'_, I, E, D>) -> R,
    ) -> R
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
    {
        let same = |d: &D::Item, s: &I| self.compare.same(d, s);
        let merge = |a: &mut D::Item, b: D::Item| self.merge.merge(a, b);
        let spec = Spec {
            encoder: &self.encoder,
            decoder: &self.decoder,
            same: &same,
            merge: self.merge.merges().then_some(&merge as _),
            limit: self.harness.read_limit,
            offload,
            probe,
            time_limit,
            blind: std::cell::Cell::new(0),
        };
        f(&spec)
    }

    /// [`Target::check_roundtrip`] on the calling thread, without the time
    /// limit and its `Send + 'static` bounds.
    #[track_caller]
    fn check_roundtrip_in_line<I, E, D, S>(&self, frames: S) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder,
        D::Item: Debug,
        D::Error: Debug,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let caller = Location::caller();
        self.with_spec_in_line(|spec| self.harness.run_roundtrip(caller, spec, &frames))
    }

    /// [`Target::check_truncation`] on the calling thread, without the time
    /// limit and its `Send + 'static` bounds.
    #[track_caller]
    fn check_truncation_in_line<I, E, D, S>(&self, frames: S) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder,
        D::Item: Debug,
        D::Error: Debug,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let caller = Location::caller();
        self.with_spec_in_line(|spec| self.harness.run_truncation(caller, spec, &frames))
    }

    /// The round-trip property: frames from `frames`, encoded once, cut
    /// into reads by the harness's chunkings, fed to a fresh decoder as
    /// `FramedRead` does, must come back exactly, in order, with a clean
    /// end. Returns the minimal failing case.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`].
    #[track_caller]
    pub fn check_roundtrip<I, E, D, S>(&self, frames: S) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let caller = Location::caller();
        self.with_spec(|spec| self.harness.run_roundtrip(caller, spec, &frames))
    }

    /// [`Target::check_roundtrip`], panicking with the report.
    ///
    /// # Panics
    ///
    /// When the property fails.
    #[track_caller]
    pub fn assert_roundtrip<I, E, D, S>(&self, frames: S)
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        if let Err(failure) = self.check_roundtrip(frames) {
            panic!("round trip failed: {failure}");
        }
    }

    /// The truncation property: the encoded stream cut short (aimed at
    /// header ends, as the decoder shows them, and frame ends) and fed in
    /// generated reads must give exactly the frames wholly inside the
    /// prefix, then an error if the cut is inside a frame, or a clean end at
    /// a frame boundary. When a frame comes out of the cut frame's bytes
    /// and it is the frame sent (by the comparison, after the merge), that
    /// is right, whatever the end: the frame's content was all there (a
    /// line ended by a CR, cut before its LF). A cut frame that comes out
    /// different is a failure.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`].
    #[track_caller]
    pub fn check_truncation<I, E, D, S>(&self, frames: S) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let caller = Location::caller();
        self.with_spec(|spec| self.harness.run_truncation(caller, spec, &frames))
    }

    /// [`Target::check_truncation`], panicking with the report.
    ///
    /// # Panics
    ///
    /// When the property fails.
    #[track_caller]
    pub fn assert_truncation<I, E, D, S>(&self, frames: S)
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        if let Err(failure) = self.check_truncation(frames) {
            panic!("truncation not detected: {failure}");
        }
    }

    /// The fuzz oracle over generated inputs: valid encodings of frames
    /// from `frames`, then bytes overwritten, inserted and cut
    /// ([`crate::fuzz::mutations`]), each decoded whole, in one-byte reads,
    /// cut at the frame ends the whole decode found, and in generated
    /// reads, all of which must agree (the oracle of [`crate::fuzz::check_input`]).
    /// Shrinks the frames and the mutations, then reduces the reads.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`].
    #[track_caller]
    pub fn check_oracle<I, E, D, S>(&self, frames: S) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + PartialEq + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let caller = Location::caller();
        self.with_spec(|spec| self.harness.run_oracle(caller, spec, &frames))
    }

    /// The round trip through tokio-util's own `FramedWrite` and
    /// `FramedRead` ([`crate::io`]): frames from `frames` sent by a
    /// `FramedWrite` over an in-memory pipe whose two ends follow generated
    /// [`schedules`] (short, one-byte, held and merged writes, `Pending`
    /// between calls) into a `FramedRead`, which must return exactly the
    /// frames sent (after the [merge](Target::merge), by the
    /// [comparison](Target::compare)), in order, with a clean end.
    ///
    /// Honours the settings as the other properties do: cases, seed, the
    /// saving and replaying of failing cases (the two schedules, under the
    /// key `framed <decoder type> <test>`), gluing, and the
    /// [time limit](Harness::time_limit): each case runs on a worker thread
    /// and one that does not finish in time is [`FailureKind::Hung`] (so
    /// the encoder and the frames, too, must be `Send + 'static`).
    /// Proptest shrinks the frames and the schedules. An asynchronous-codec
    /// decoder (in `Async`) keeps its framework's end-of-stream rule. The
    /// reads are the pipeline's (`FramedRead` reading what the scheduled
    /// reader gives it), so [`Harness::chunking`] and
    /// [`Harness::read_limit`] do not apply; [`Harness::only`] does.
    ///
    /// Slower than [`Target::check_roundtrip`] (a runtime per case, a poll
    /// per chunk), and less aimed; it runs the real async machinery.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`] (property
    /// [`Property::Framed`]), naming the two schedules.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecheck::{bytes::Bytes, strategies::bodies_of, Harness};
    /// use framecheck::proptest::collection::vec;
    /// use framecheck::tokio_util::codec::{BytesCodec, LengthDelimitedCodec};
    ///
    /// Harness::new()
    ///     .cases(16)
    ///     .split(LengthDelimitedCodec::new, LengthDelimitedCodec::new)
    ///     .compare(|got: &framecheck::bytes::BytesMut, sent: &Bytes| got == sent)
    ///     .check_framed_roundtrip(vec(bodies_of(0..300), 0..4))
    ///     .unwrap();
    /// // Raw bytes carry no frame boundary: what one write sent arrives in
    /// // the pieces the reads make.
    /// let failure = Harness::new()
    ///     .seed(1)
    ///     .split(BytesCodec::new, BytesCodec::new)
    ///     .check_framed_roundtrip(vec(bodies_of(1..300), 2..4))
    ///     .unwrap_err();
    /// assert_eq!(failure.property(), Some(framecheck::Property::Framed));
    /// ```
    #[track_caller]
    pub fn check_framed_roundtrip<I, E, D, S>(&self, frames: S) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I> + Send + 'static,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug + Send + 'static,
        S: Strategy<Value = Vec<I>>,
    {
        let caller = Location::caller();
        let limit = self.harness.case_time_limit();
        let merging = self.merge.merges();
        // The pipeline's own timeout reports a stall; the worker waits a
        // little longer, for a codec hung inside a call.
        let worker = (!limit.is_zero())
            .then(|| {
                Watched::start(limit + limit / 4, move |job: FramedJob<E, D, I>| {
                    let max = pipeline::max_items(job.frames.len(), merging);
                    pipeline::pipe(
                        job.encoder,
                        job.decoder,
                        job.frames,
                        &job.write,
                        &job.read,
                        limit,
                        max,
                    )
                })
            })
            .flatten();
        let run = |encoder: E, decoder: D, frames: Vec<I>, write: &Schedule, read: &Schedule| {
            match &worker {
                Some(worker) => worker.run(FramedJob {
                    encoder,
                    decoder,
                    frames,
                    write: write.clone(),
                    read: read.clone(),
                }),
                None => {
                    let max = pipeline::max_items(frames.len(), merging);
                    Some(pipeline::pipe(
                        encoder,
                        decoder,
                        frames,
                        write,
                        read,
                        pipeline::TIMEOUT,
                        max,
                    ))
                }
            }
        };
        let limit = match worker {
            Some(_) => Limit::Time(limit),
            None => Limit::None,
        };
        self.framed(caller, &run, limit, &frames)
    }

    /// [`Target::check_framed_roundtrip`], panicking with the report.
    ///
    /// # Panics
    ///
    /// When the property fails.
    #[track_caller]
    pub fn assert_framed_roundtrip<I, E, D, S>(&self, frames: S)
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I> + Send + 'static,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug + Send + 'static,
        S: Strategy<Value = Vec<I>>,
    {
        if let Err(failure) = self.check_framed_roundtrip(frames) {
            panic!("framed round trip failed: {failure}");
        }
    }

    /// [`Target::check_framed_roundtrip`] on the calling thread, without
    /// the time limit and its `Send + 'static` bounds.
    #[track_caller]
    fn check_framed_in_line<I, E, D, S>(&self, frames: S) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder,
        D::Item: Debug,
        D::Error: Debug,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let caller = Location::caller();
        let merging = self.merge.merges();
        let run = |encoder: E, decoder: D, frames: Vec<I>, write: &Schedule, read: &Schedule| {
            let max = pipeline::max_items(frames.len(), merging);
            Some(pipeline::pipe(
                encoder,
                decoder,
                frames,
                write,
                read,
                pipeline::TIMEOUT,
                max,
            ))
        };
        self.framed(caller, &run, Limit::None, &frames)
    }

    /// The framed property with `run` running one pipeline case (`None`:
    /// it did not come back within the time limit).
    fn framed<I, E, D, S>(
        &self,
        caller: &'static Location<'static>,
        run: &FramedRun<'_, I, E, D>,
        limit: Limit,
        frames: &S,
    ) -> Result<(), Failure>
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I>,
        D: FrameDecoder,
        D::Item: Debug,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let same = |d: &D::Item, s: &I| self.compare.same(d, s);
        let merge = |a: &mut D::Item, b: D::Item| self.merge.merge(a, b);
        let merge: Option<Merge<'_, D::Item>> = self.merge.merges().then_some(&merge as _);
        let case = |a: Vec<I>, b: &[I], write: &Schedule, read: &Schedule| {
            let piped = match quietly(|| ((self.encoder)(), (self.decoder)())) {
                Ok((encoder, decoder)) => match run(encoder, decoder, a, write, read) {
                    Some(piped) => piped,
                    None => return Err(pipeline::hung(b, write, read, limit)),
                },
                Err(message) => Piped::panicked(format!("making the codec: {message}")),
            };
            pipeline::judge(piped, b, &same, merge, write, read, limit)
        };
        self.harness.run_framed(
            caller,
            Harness::key::<D>(caller, Property::Framed),
            &case,
            frames,
        )
    }

    /// Every property on this codec, each verdict reported separately (one
    /// failure does not hide the others): round trip, truncation, the fuzz
    /// oracle and the framed round trip, each a run of its own (its own
    /// cases, its own saved failures, its own worker thread).
    #[track_caller]
    pub fn check_all<I, E, D, S>(&self, frames: S) -> Verdicts
    where
        FE: Fn() -> E,
        FD: Fn() -> D,
        E: FrameEncoder<I> + Send + 'static,
        D: FrameDecoder + Send + 'static,
        D::Item: Debug + PartialEq + Send + 'static,
        D::Error: Debug + Send + 'static,
        C: Compare<D::Item, I>,
        M: MergeItems<D::Item>,
        I: Debug + Send + 'static,
        S: Strategy<Value = Vec<I>>,
    {
        // Each property on its own worker: a hang in one does not stop
        // the others.
        Verdicts {
            roundtrip: self.check_roundtrip(&frames),
            truncation: self.check_truncation(&frames),
            oracle: self.check_oracle(&frames),
            framed: self.check_framed_roundtrip(&frames),
        }
    }
}

/// One framed case: the encoder, the decoder, the frames and the two
/// schedules; `None` when it did not come back in time.
type FramedRun<'a, I, E, D> =
    dyn Fn(E, D, Vec<I>, &Schedule, &Schedule) -> Option<Piped<<D as FrameDecoder>::Item>> + 'a;

/// One framed case judged: the frames to send, the frames to compare
/// with, the two schedules.
type FramedCase<'a, I> = dyn Fn(Vec<I>, &[I], &Schedule, &Schedule) -> Result<(), Failure> + 'a;

/// A framed case for the worker thread.
struct FramedJob<E, D, I> {
    encoder: E,
    decoder: D,
    frames: Vec<I>,
    write: Schedule,
    read: Schedule,
}

/// Two copies of each value of a strategy (its value tree's `current()`
/// twice): one to encode by value, one to compare with, with no `Clone`.
#[derive(Debug)]
struct Twice<S>(S);

#[derive(Debug)]
struct TwiceTree<T>(T);

impl<S: Strategy> Strategy for Twice<S> {
    type Tree = TwiceTree<S::Tree>;
    type Value = (S::Value, S::Value);

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        self.0.new_tree(runner).map(TwiceTree)
    }
}

impl<T: ValueTree> ValueTree for TwiceTree<T> {
    type Value = (T::Value, T::Value);

    fn current(&self) -> Self::Value {
        (self.0.current(), self.0.current())
    }

    fn simplify(&mut self) -> bool {
        self.0.simplify()
    }

    fn complicate(&mut self) -> bool {
        self.0.complicate()
    }
}

/// The user's frame lists and, in `share` of cases, a second list glued
/// behind (shrinks toward a single list); `share == 0`: the lists alone.
/// The run's first case is not an empty list (a case that tests nothing)
/// unless [`FIRST_CASE_TRIES`] draws in a row were empty.
fn glued<I: Debug, S: Strategy<Value = Vec<I>>>(frames: &S, share: f64) -> Glued<'_, S> {
    Glued {
        frames,
        share,
        first: std::cell::Cell::new(true),
    }
}

/// Draws of the user's strategy for a first case with frames in it.
const FIRST_CASE_TRIES: usize = 16;

#[derive(Debug)]
struct Glued<'a, S> {
    frames: &'a S,
    share: f64,
    /// No case has been drawn yet.
    first: std::cell::Cell<bool>,
}

/// A [`Glued`] value: one list's tree, or two.
#[derive(Debug)]
struct GluedTree<T> {
    first: T,
    second: Option<T>,
    /// The second list is left out (shrinking tries that first).
    dropped: bool,
    /// Leaving it out made the case pass: it stays.
    keep: bool,
    /// The last simplification left it out.
    last_drop: bool,
}

impl<I: Debug, S: Strategy<Value = Vec<I>>> Strategy for Glued<'_, S> {
    type Tree = GluedTree<S::Tree>;
    type Value = Vec<I>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let mut first = self.frames.new_tree(runner)?;
        if self.first.replace(false) {
            for _ in 1..FIRST_CASE_TRIES {
                if !first.current().is_empty() {
                    break;
                }
                first = self.frames.new_tree(runner)?;
            }
        }
        let glue = self.share > 0.0
            && proptest::bool::weighted(self.share)
                .new_tree(runner)?
                .current();
        let second = if glue {
            Some(self.frames.new_tree(runner)?)
        } else {
            None
        };
        Ok(GluedTree {
            first,
            second,
            dropped: false,
            keep: false,
            last_drop: false,
        })
    }
}

impl<I: Debug, T: ValueTree<Value = Vec<I>>> ValueTree for GluedTree<T> {
    type Value = Vec<I>;

    fn current(&self) -> Vec<I> {
        let mut frames = self.first.current();
        if let (Some(second), false) = (&self.second, self.dropped) {
            frames.extend(second.current());
        }
        frames
    }

    fn simplify(&mut self) -> bool {
        if self.second.is_some() && !self.dropped && !self.keep {
            self.dropped = true;
            self.last_drop = true;
            return true;
        }
        self.last_drop = false;
        self.first.simplify()
    }

    fn complicate(&mut self) -> bool {
        if self.last_drop {
            self.last_drop = false;
            self.dropped = false;
            self.keep = true;
            return true;
        }
        self.first.complicate()
    }
}

/// Share of cases with two frame lists glued, when gluing is on.
const GLUE_SHARE: f64 = 0.3;

/// A case kept for reduction: frames by index into the encoded pieces.
#[derive(Debug, Clone)]
struct Kept<X> {
    keep: Vec<usize>,
    extra: X,
}

impl Harness {
    fn case_time_limit(&self) -> Duration {
        self.time_limit.unwrap_or(DEFAULT_TIME_LIMIT)
    }

    fn glue_share(&self) -> f64 {
        if self.glue.unwrap_or(true) {
            GLUE_SHARE
        } else {
            0.0
        }
    }

    fn chunkings(&self) -> proptest::strategy::BoxedStrategy<Chunking> {
        match &self.chunking {
            Some(c) => Just(c.clone()).boxed(),
            None => chunkings().boxed(),
        }
    }

    fn counts(&self, failure: &Failure) -> bool {
        matches!(
            failure.kind(),
            FailureKind::EncodeRefused { .. } | FailureKind::Hung { .. }
        ) || self.only.is_none_or(|wanted| wanted(failure.kind()))
    }

    /// The key saved cases are filed under: property, decoder type, test.
    fn key<D>(caller: &Location<'_>, property: Property) -> String {
        let thread = std::thread::current();
        let test = match thread.name() {
            Some(name) if name != "main" => name.to_owned(),
            _ => format!("{}:{}", caller.file(), caller.line()),
        };
        format!("{property} {} {test}", type_name::<D>())
    }

    pub(crate) fn runner(
        &self,
        caller: &'static Location<'static>,
        key: String,
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
            match &self.regressions_dir {
                Some(dir) => Some(persist::Store::in_dir(dir, caller.file(), key)),
                None => persist::Store::for_source(caller.file(), key),
            }
        } else {
            None
        };
        config.failure_persistence = store
            .as_ref()
            .map(|s| Box::new(persist::Seeds(s.clone())) as _);
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

    fn run_roundtrip<I, E, D, S>(
        &self,
        caller: &'static Location<'static>,
        spec: &Spec<'_, I, E, D>,
        frames: &S,
    ) -> Result<(), Failure>
    where
        E: FrameEncoder<I>,
        D: FrameDecoder,
        D::Item: Debug,
        D::Error: Debug,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let (mut runner, store) = self.runner(caller, Self::key::<D>(caller, Property::RoundTrip));
        let encode =
            |a: Vec<I>, b: &[I]| Pieces::encode(spec.encoder, a, &|i| format!("{:?}", b[i]));
        let case = |b: &[I], pieces: &Pieces, kept: &Kept<Chunking>| {
            let (stream, layout) = pieces.stream(&kept.keep);
            let expected: Vec<&I> = kept.keep.iter().map(|&k| &b[k]).collect();
            roundtrip::check(spec, &stream, &layout, &expected, &kept.extra)
        };
        let hang: RefCell<Option<Failure>> = RefCell::new(None);
        let test = |((a, b), chunking): ((Vec<I>, Vec<I>), Chunking)| {
            if hang.borrow().is_some() {
                return Ok(());
            }
            let pieces = encode(a, &b).map_err(|f| TestCaseError::fail(f.headline().to_owned()))?;
            let kept = Kept {
                keep: (0..b.len()).collect(),
                extra: chunking,
            };
            self.verdict(case(&b, &pieces, &kept), &hang)
        };
        let strategy = glued(frames, self.glue_share());
        let mut result = Ok(());
        if let Some(store) = &store {
            for chunking in store.load() {
                let mut replay = TestRunner::new(replay_config());
                result = replay.run(&(Twice(&strategy), Just(chunking)), test);
                if result.is_err() {
                    break;
                }
            }
        }
        if result.is_ok() {
            result = runner.run(&(Twice(&strategy), self.chunkings()), test);
        }
        let value = match self.failed(result, &hang)? {
            Some(value) => value,
            None => return Ok(()),
        };
        let ((a, b), chunking) = value;
        let pieces = encode(a, &b)?;
        let fails = |k: &Kept<Chunking>| case(&b, &pieces, k).is_err_and(|f| self.counts(&f));
        let simpler = |k: &Kept<Chunking>| {
            let (_, layout) = pieces.stream(&k.keep);
            let mut out: Vec<Kept<Chunking>> = reduce::without_each(&k.keep)
                .map(|keep| Kept {
                    keep,
                    extra: k.extra.clone(),
                })
                .collect();
            out.extend(
                reduce::simpler_chunkings(&k.extra, Some(&layout), layout.total())
                    .into_iter()
                    .map(|c| Kept {
                        keep: k.keep.clone(),
                        extra: c,
                    }),
            );
            out
        };
        let start = Kept {
            keep: (0..b.len()).collect(),
            extra: chunking,
        };
        let kept = reduce::reduce(start, &simpler, &fails);
        if let Some(store) = &store {
            store.save(&kept.extra.to_string());
        }
        self.report(case(&b, &pieces, &kept), &runner, &kept)
    }

    fn run_truncation<I, E, D, S>(
        &self,
        caller: &'static Location<'static>,
        spec: &Spec<'_, I, E, D>,
        frames: &S,
    ) -> Result<(), Failure>
    where
        E: FrameEncoder<I>,
        D: FrameDecoder,
        D::Item: Debug,
        D::Error: Debug,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let (mut runner, store) = self.runner(caller, Self::key::<D>(caller, Property::Truncation));
        let encode =
            |a: Vec<I>, b: &[I]| Pieces::encode(spec.encoder, a, &|i| format!("{:?}", b[i]));
        let case = |b: &[I], pieces: &Pieces, kept: &Kept<(Point, Chunking)>| {
            let (stream, layout) = pieces.stream(&kept.keep);
            let expected: Vec<&I> = kept.keep.iter().map(|&k| &b[k]).collect();
            let (cut, chunking) = &kept.extra;
            truncation::check(spec, &stream, &layout, &expected, cut, chunking)
        };
        let hang: RefCell<Option<Failure>> = RefCell::new(None);
        let test = |((a, b), cut, chunking): ((Vec<I>, Vec<I>), Point, Chunking)| {
            if hang.borrow().is_some() {
                return Ok(());
            }
            let pieces = encode(a, &b).map_err(|f| TestCaseError::fail(f.headline().to_owned()))?;
            let kept = Kept {
                keep: (0..b.len()).collect(),
                extra: (cut, chunking),
            };
            self.verdict(case(&b, &pieces, &kept), &hang)
        };
        let strategy = glued(frames, self.glue_share());
        let mut result = Ok(());
        if let Some(store) = &store {
            for line in store.load_lines() {
                let Some((cut, chunking)) = persist::parse_truncation(&line) else {
                    continue;
                };
                let mut replay = TestRunner::new(replay_config());
                result = replay.run(&(Twice(&strategy), Just(cut), Just(chunking)), test);
                if result.is_err() {
                    break;
                }
            }
        }
        if result.is_ok() {
            result = runner.run(&(Twice(&strategy), points(), self.chunkings()), test);
        }
        let value = match self.failed(result, &hang)? {
            Some(value) => value,
            None => return Ok(()),
        };
        let ((a, b), cut, chunking) = value;
        let pieces = encode(a, &b)?;
        let fails =
            |k: &Kept<(Point, Chunking)>| case(&b, &pieces, k).is_err_and(|f| self.counts(&f));
        let simpler = |k: &Kept<(Point, Chunking)>| {
            let (_, layout) = pieces.stream(&k.keep);
            let (cut, chunking) = &k.extra;
            let limit = cut.resolve(&layout);
            let with = |extra| Kept {
                keep: k.keep.clone(),
                extra,
            };
            let mut out: Vec<Kept<(Point, Chunking)>> = reduce::without_each(&k.keep)
                .map(|keep| Kept {
                    keep,
                    extra: k.extra.clone(),
                })
                .collect();
            if let Point::Fraction { .. } = cut {
                out.push(with((reduce::point_at(&layout, limit), chunking.clone())));
            }
            out.extend(
                reduce::simpler_chunkings(chunking, Some(&layout), limit)
                    .into_iter()
                    .map(|c| with((*cut, c))),
            );
            out
        };
        let start = Kept {
            keep: (0..b.len()).collect(),
            extra: (cut, chunking),
        };
        let kept = reduce::reduce(start, &simpler, &fails);
        if let Some(store) = &store {
            store.save(&format!("cut {} reads {}", kept.extra.0, kept.extra.1));
        }
        self.report(case(&b, &pieces, &kept), &runner, &kept)
    }

    fn run_oracle<I, E, D, S>(
        &self,
        caller: &'static Location<'static>,
        spec: &Spec<'_, I, E, D>,
        frames: &S,
    ) -> Result<(), Failure>
    where
        E: FrameEncoder<I>,
        D: FrameDecoder,
        D::Item: Debug + PartialEq,
        D::Error: Debug,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let (mut runner, _store) = self.runner(caller, Self::key::<D>(caller, Property::Oracle));
        let input = |a: Vec<I>, b: &[I], mutations: &[crate::fuzz::Mutation]| {
            let pieces = Pieces::encode(spec.encoder, a, &|i| format!("{:?}", b[i]))?;
            let keep: Vec<usize> = (0..b.len()).collect();
            let (stream, _) = pieces.stream(&keep);
            Ok::<_, Failure>(crate::fuzz::mutate(&stream, mutations))
        };
        let case =
            |stream: &[u8], chunking: &Chunking| crate::fuzz::check_with(spec, stream, chunking);
        let hang: RefCell<Option<Failure>> = RefCell::new(None);
        let test = |((a, b), mutations, chunking): (
            (Vec<I>, Vec<I>),
            Vec<crate::fuzz::Mutation>,
            Chunking,
        )| {
            if hang.borrow().is_some() {
                return Ok(());
            }
            let stream = input(a, &b, &mutations)
                .map_err(|f| TestCaseError::fail(f.headline().to_owned()))?;
            self.verdict(case(&stream, &chunking), &hang)
        };
        let strategy = glued(frames, self.glue_share());
        let result = runner.run(
            &(Twice(&strategy), crate::fuzz::mutations(), self.chunkings()),
            test,
        );
        let value = match self.failed(result, &hang)? {
            Some(value) => value,
            None => return Ok(()),
        };
        let ((a, b), mutations, chunking) = value;
        let stream = input(a, &b, &mutations)?;
        let (stream, chunking) =
            crate::fuzz::reduce_input(spec, stream, chunking, &|f| self.counts(f));
        self.report(case(&stream, &chunking), &runner, &chunking)
    }

    /// A case's result for proptest: a failure that counts fails it; a hang
    /// is kept aside (and every later case passes at once, so that nothing
    /// more waits on a hung decoder).
    fn verdict(
        &self,
        result: Result<(), Failure>,
        hang: &RefCell<Option<Failure>>,
    ) -> Result<(), TestCaseError> {
        match result {
            Ok(()) => Ok(()),
            Err(failure) if matches!(failure.kind(), FailureKind::Hung { .. }) => {
                let headline = failure.headline().to_owned();
                *hang.borrow_mut() = Some(failure);
                Err(TestCaseError::fail(headline))
            }
            Err(failure) if self.counts(&failure) => {
                Err(TestCaseError::fail(failure.headline().to_owned()))
            }
            Err(_) => Ok(()),
        }
    }

    /// The failing value of a run, if any; a hang or an abort as the
    /// failure itself.
    fn failed<V>(
        &self,
        result: Result<(), TestError<V>>,
        hang: &RefCell<Option<Failure>>,
    ) -> Result<Option<V>, Failure> {
        if let Some(failure) = hang.borrow_mut().take() {
            return Err(failure.with_note(
                "the case that hung, as generated (not shrunk: each attempt would wait for the \
                 time limit; Harness::time_limit sets it):",
            ));
        }
        match result {
            Ok(()) => Ok(None),
            Err(TestError::Abort(reason)) => Err(Failure::new(
                FailureKind::Aborted,
                format!("proptest gave up: {reason}"),
                "the frame strategy rejected too many values; build frames with prop_map \
                 rather than filters"
                    .to_owned(),
            )),
            Err(TestError::Fail(_, value)) => Ok(Some(value)),
        }
    }

    /// The report of the minimal case (run once more).
    fn report<V: Debug>(
        &self,
        result: Result<(), Failure>,
        runner: &TestRunner,
        value: &V,
    ) -> Result<(), Failure> {
        let cases = runner.config().cases;
        match result {
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

    /// [`check_roundtrip`] with these settings (one codec for both
    /// directions; see [`Harness::split`] for two).
    ///
    /// This form decodes on the calling thread, so it takes codecs that are
    /// not `Send + 'static`, and the [time limit](Harness::time_limit) does
    /// not apply: for a decoder that may hang, use
    /// `harness.codec(make_codec).check_roundtrip(frames)`.
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
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        self.split(&make_codec, &make_codec)
            .check_roundtrip_in_line(frames)
    }

    /// [`check_truncation_detected`] with these settings.
    ///
    /// Like [`Harness::check_roundtrip`], this form decodes on the calling
    /// thread without the time limit; `harness.codec(make_codec)
    /// .check_truncation(frames)` has it.
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
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        self.split(&make_codec, &make_codec)
            .check_truncation_in_line(frames)
    }

    /// The framed round trip of [`crate::io`] with these settings: frames
    /// through tokio-util's `FramedWrite` and `FramedRead` with both ends
    /// scheduled ([`Target::check_framed_roundtrip`], whose docs say what
    /// it checks), honouring cases, seed, gluing, and the saving and
    /// replaying of failing cases.
    ///
    /// Like [`Harness::check_roundtrip`], this form decodes on the calling
    /// thread, without the time limit and its `Send + 'static` bounds (a
    /// case that takes more than 10 s is a [`FailureKind::Runaway`]
    /// failure, when the codec yields at all); `harness.codec(make_codec)
    /// .check_framed_roundtrip(frames)` has the limit.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`].
    #[track_caller]
    pub fn check_framed_roundtrip<C, I, F, S>(
        &self,
        make_codec: F,
        frames: S,
    ) -> Result<(), Failure>
    where
        F: Fn() -> C,
        C: TestableCodec<I>,
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        self.split(&make_codec, &make_codec)
            .check_framed_in_line(frames)
    }

    /// The framed property's runner: `case` runs one case (the frames to
    /// send, the frames to compare with, the two schedules).
    fn run_framed<I, S>(
        &self,
        caller: &'static Location<'static>,
        key: String,
        case: &FramedCase<'_, I>,
        frames: &S,
    ) -> Result<(), Failure>
    where
        I: Debug,
        S: Strategy<Value = Vec<I>>,
    {
        let (mut runner, store) = self.runner(caller, key);
        let hang: RefCell<Option<Failure>> = RefCell::new(None);
        let test = |((a, b), write, read): ((Vec<I>, Vec<I>), Schedule, Schedule)| {
            if hang.borrow().is_some() {
                return Ok(());
            }
            self.verdict(case(a, &b, &write, &read), &hang)
        };
        let strategy = glued(frames, self.glue_share());
        let mut result = Ok(());
        if let Some(store) = &store {
            for line in store.load_lines() {
                let Some((write, read)) = persist::parse_framed(&line) else {
                    continue;
                };
                let mut replay = TestRunner::new(replay_config());
                result = replay.run(&(Twice(&strategy), Just(write), Just(read)), test);
                if result.is_err() {
                    break;
                }
            }
        }
        if result.is_ok() {
            result = runner.run(&(Twice(&strategy), schedules(), schedules()), test);
        }
        let Some(((a, b), write, read)) = self.failed(result, &hang)? else {
            return Ok(());
        };
        if let Some(store) = &store {
            store.save(&persist::framed_line(&write, &read));
        }
        let again = case(a, &b, &write, &read);
        self.report(again, &runner, &(&b, &write, &read))
    }
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
    I: Debug,
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
    I: Debug,
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
/// and end of stream at a frame boundary must be clean. A frame decoded
/// from the cut frame's bytes that is the frame sent is right too (a line
/// ended by a CR, cut before its LF; `docs/testing-a-real-codec.md`,
/// "Frames that may end before their encoding does").
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
    I: Debug,
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
    I: Debug,
    S: Strategy<Value = Vec<I>>,
{
    if let Err(failure) = Harness::new().check_truncation_detected(make_codec, frames) {
        panic!("truncation not detected: {failure}");
    }
}
