//! The fuzz oracle: a decoder must give the same frames, and stop the same
//! way, whether its input arrives in one read or in many.
//!
//! It knows nothing of the format, so it works on any decoder and any
//! bytes: the frame boundaries it aims its cuts at are where the decoder
//! itself, reading everything at once, says its frames ended. Every input
//! is decoded in one read and compared with the same bytes in one-byte
//! reads, in reads cut at each boundary the whole decode found (and one
//! byte either side), and, when the input carries one, in the reads a
//! fuzzer chose.
//!
//! Input layout: raw bytes are the stream, whatever they are (a captured
//! session, a seed corpus of real traffic, random bytes). A fuzzer-chosen
//! chunking is appended after the stream, behind a trailer, so that no raw
//! stream is taken for one unless it ends with the 4-byte magic:
//!
//! ```text
//! +---------------------------+------------------------+-------+----------------+
//! | the stream to decode      | n bytes: the chunking  | n: u8 | "\xFCchk" magic|
//! +---------------------------+------------------------+-------+----------------+
//!                              (read as a Chunking through `arbitrary`)
//! ```
//!
//! Cost: an input that passes (almost every input a fuzzer runs) is decided
//! with one decoding per way of reading, the frames of each compared with
//! the one-byte reads' as they come out, nothing else kept; a way whose
//! reads are those of a way already decoded (a short stream) is not decoded
//! again. Only an input that fails is decoded again with everything kept,
//! to build its report. [`check_input_alloc`] also holds the one-read
//! decoding to an allocation bound, under the same decoding.
//!
//! [`with_chunking`] writes that layout; [`parse_input`] reads it.
//! [`split_input`] reads the layout of framecheck 0.1 (first byte `n`, then
//! `n` chunking bytes, then the stream) for old corpora.

use std::fmt::Debug;

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use framecheck_alloc::Watch;
use proptest::{collection::vec, prelude::*};
use tokio_util::codec::Decoder;

use crate::{
    alloc_bound::{not_installed, tracking_installed, AllocBound, Watched, READ_BUFFER},
    chunk::{Chunking, Cut, Layout},
    drive::{feed, feed_with, quietly, Fed, ReadLimit, Run, Sink, Stop, When},
    failure::{frames, reads_in_frame, Context, Failure, FailureKind, Property},
    framework::FrameDecoder,
    reduce,
    roundtrip::hung,
    spec::{texts, Spec},
};

/// The trailer that marks a fuzzer-chosen chunking at the end of an input.
pub const MAGIC: [u8; 4] = *b"\xFCchk";

/// Splits fuzz input into the stream and the chunking behind its trailer
/// (`None` when the input has no trailer: all of it is the stream).
///
/// ```
/// use framecheck::{chunk::Chunking, fuzz::{parse_input, with_chunking}};
///
/// assert_eq!(parse_input(b"\0abc"), (None, &b"\0abc"[..]));
/// let data = with_chunking(b"abc", &[7, 1]);
/// let (chunking, stream) = parse_input(&data);
/// assert_eq!(stream, b"abc");
/// assert!(chunking.is_some());
/// ```
pub fn parse_input(data: &[u8]) -> (Option<Chunking>, &[u8]) {
    let Some(rest) = data.strip_suffix(&MAGIC[..]) else {
        return (None, data);
    };
    let Some((&n, rest)) = rest.split_last() else {
        return (None, data);
    };
    let Some(split) = rest.len().checked_sub(usize::from(n)) else {
        return (None, data);
    };
    let (stream, spec) = rest.split_at(split);
    let chunking = Chunking::arbitrary_take_rest(Unstructured::new(spec)).ok();
    (chunking, stream)
}

/// `stream` with `chunking_bytes` (at most 255, read as a [`Chunking`]
/// through `arbitrary`) behind the trailer: the layout [`parse_input`]
/// reads.
pub fn with_chunking(stream: &[u8], chunking_bytes: &[u8]) -> Vec<u8> {
    let spec = &chunking_bytes[..chunking_bytes.len().min(255)];
    let mut out = Vec::with_capacity(stream.len() + spec.len() + 5);
    out.extend_from_slice(stream);
    out.extend_from_slice(spec);
    out.push(u8::try_from(spec.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&MAGIC);
    out
}

/// Splits input in framecheck 0.1's layout (first byte `n`, `n` bytes of
/// chunking, then the stream; `n = 0` means one-byte reads). Kept for old
/// corpora: the oracle now reads [`parse_input`]'s layout.
///
/// ```
/// use framecheck::{chunk::Chunking, fuzz::split_input};
///
/// assert_eq!(split_input(b"\0abc"), (Chunking::one_byte_reads(), &b"abc"[..]));
/// assert_eq!(split_input(b""), (Chunking::one_byte_reads(), &b""[..]));
/// ```
pub fn split_input(data: &[u8]) -> (Chunking, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (Chunking::one_byte_reads(), data);
    };
    let (spec, stream) = rest.split_at(usize::from(n).min(rest.len()));
    if spec.is_empty() {
        return (Chunking::one_byte_reads(), stream);
    }
    let chunking = Chunking::arbitrary_take_rest(Unstructured::new(spec))
        .unwrap_or_else(|_| Chunking::one_byte_reads());
    (chunking, stream)
}

/// One change to a valid encoding, for [`Target::check_oracle`]'s
/// generated inputs. Positions are in 65536ths of the stream's length.
///
/// [`Target::check_oracle`]: crate::Target::check_oracle
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// The byte at `at` becomes `byte`.
    Overwrite {
        /// Position.
        at: u16,
        /// New value.
        byte: u8,
    },
    /// `bytes` inserted at `at`.
    Insert {
        /// Position.
        at: u16,
        /// Bytes to insert.
        bytes: Vec<u8>,
    },
    /// The stream cut at `at`.
    Cut {
        /// Position.
        at: u16,
    },
}

/// Zero to three [`Mutation`]s; shrinks toward none.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        3 => (any::<u16>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Overwrite { at, byte }),
        2 => (any::<u16>(), vec(any::<u8>(), 1..4)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => any::<u16>().prop_map(|at| Mutation::Cut { at }),
    ];
    vec(one, 0..=3)
}

/// `stream` with `mutations` applied in order.
pub fn mutate(stream: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = stream.to_vec();
    let pos = |len: usize, at: u16| (len as u128 * u128::from(at) / 65536) as usize;
    for m in mutations {
        match m {
            Mutation::Overwrite { at, byte } if !out.is_empty() => {
                let i = pos(out.len(), *at);
                out[i] = *byte;
            }
            Mutation::Overwrite { .. } => {}
            Mutation::Insert { at, bytes } => {
                let i = pos(out.len() + 1, *at);
                out.splice(i..i, bytes.iter().copied());
            }
            Mutation::Cut { at } => out.truncate(pos(out.len() + 1, *at)),
        }
    }
    out
}

/// The chunkings every stream is checked in, besides the fuzzer's.
fn standard_chunkings() -> [Chunking; 2] {
    [
        Chunking::one_byte_reads(),
        Chunking::new(vec![
            Cut::Boundaries { shift: -1 },
            Cut::Boundaries { shift: 0 },
            Cut::Boundaries { shift: 1 },
        ]),
    ]
}

/// What [`agrees`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Every decoding gave the same frames and ended the same way (and the
    /// watched one stayed within its bound).
    Agree,
    /// Something differed, panicked, ran away or went over the bound: the
    /// full check runs again to say what, with its report.
    Recheck,
}

/// A [`Sink`] that keeps the frames only: the reference of [`agrees`].
struct Frames<T>(Vec<T>);

impl<T> Sink<T> for Frames<T> {
    fn item(&mut self, item: T, _: usize, _: When) -> bool {
        self.0.push(item);
        true
    }
}

/// A [`Sink`] that compares each frame with the reference as it comes out,
/// keeping none, and stops at the first that differs; the one-read
/// decoding also records where its frames ended and, when an allocation
/// bound is checked, runs under its watch ([`Watched`]).
struct Same<'a, T> {
    want: &'a [T],
    seen: usize,
    differs: bool,
    ends: Option<&'a mut Vec<usize>>,
    watched: Option<Watched<'a>>,
}

impl<'a, T> Same<'a, T> {
    fn new(want: &'a [T]) -> Self {
        Same {
            want,
            seen: 0,
            differs: false,
            ends: None,
            watched: None,
        }
    }

    /// Whether the feeding that filled this sink ended as the reference's
    /// did (`reference_clean`: with `Stop::Clean`, else with an error)
    /// with the same frames.
    fn agreed<E>(&self, fed: &Fed<E>, reference_clean: bool) -> bool {
        let same_stop = match fed {
            Fed::Stopped(Stop::Clean) => reference_clean,
            Fed::Stopped(Stop::Error { .. }) => !reference_clean,
            _ => false,
        };
        same_stop && !self.differs && self.seen == self.want.len()
    }
}

impl<T: PartialEq> Sink<T> for Same<'_, T> {
    fn read(&mut self, read: usize, end: usize) {
        if let Some(w) = &mut self.watched {
            Sink::<T>::read(w, read, end);
        }
    }

    fn eof(&mut self) {
        if let Some(w) = &mut self.watched {
            Sink::<T>::eof(w);
        }
    }

    fn item(&mut self, item: T, consumed: usize, at: When) -> bool {
        if self.want.get(self.seen) != Some(&item) {
            self.differs = true;
            return false;
        }
        self.seen += 1;
        match (&mut self.ends, &mut self.watched) {
            // The oracle's bookkeeping, not the decoder's memory.
            (Some(ends), Some(w)) => w.watch().paused(|| ends.push(consumed)),
            (Some(ends), None) => ends.push(consumed),
            (None, _) => {}
        }
        match &mut self.watched {
            Some(w) => w.item(item, consumed, at),
            None => true,
        }
    }

    fn halt(&mut self, buf: &BytesMut) -> bool {
        self.watched
            .as_mut()
            .is_some_and(|w| Sink::<T>::halt(w, buf))
    }
}

/// The oracle's question without its report, at the least cost: do one
/// read, one-byte reads, the cuts at the boundaries and `chunking` all
/// give the same frames and end the same way? Each way is decoded once
/// with the frames compared as they come out (only the reference, the
/// one-byte reads, keeps them: equality is transitive, so agreeing with
/// it is agreeing with the one read), and a way whose reads are those of
/// a way already decoded is not decoded again. With `bound`, the one-read
/// decoding runs under an allocation watch held to it, as
/// [`alloc_case`](crate::alloc_case) with no read ends would. Panics in
/// the decoder propagate.
fn agrees<D>(
    decoder: &dyn Fn() -> D,
    stream: &[u8],
    chunking: &Chunking,
    bound: Option<AllocBound>,
) -> Verdict
where
    D: FrameDecoder,
    D::Item: PartialEq,
{
    let len = stream.len();
    let max_items = len + 1;
    let unlimited = ReadLimit::Unlimited;
    // One-byte reads, frames kept: the reference.
    let mut reference = Frames(Vec::new());
    let mut buf = BytesMut::with_capacity(len);
    let fed = feed_with(
        &mut decoder(),
        &mut buf,
        stream,
        1..len,
        unlimited,
        max_items,
        &mut reference,
    );
    let clean = match fed {
        Fed::Stopped(Stop::Clean) => true,
        Fed::Stopped(Stop::Error { .. }) => false,
        _ => return Verdict::Recheck,
    };
    let want = &reference.0[..];
    // One read, recording where the frames ended, watched if asked.
    let mut consumed = Vec::with_capacity(want.len() + 1);
    let mut buf = BytesMut::with_capacity(match bound {
        Some(_) => READ_BUFFER.max(len),
        None => len,
    });
    let watch = bound.map(|_| {
        let watch = Watch::start();
        watch.set_input(stream);
        watch
    });
    let mut same = Same::new(want);
    same.ends = Some(&mut consumed);
    same.watched = watch
        .as_ref()
        .zip(bound)
        .map(|(w, b)| Watched::new(w, b, len));
    let fed = feed_with(
        &mut decoder(),
        &mut buf,
        stream,
        [],
        unlimited,
        max_items,
        &mut same,
    );
    let over = watch.as_ref().is_some_and(|w| w.violation().is_some());
    let agreed = same.agreed(&fed, clean);
    drop(watch);
    if over || !agreed {
        return Verdict::Recheck;
    }
    // The frame ends, then the unconsumed tail as one more "frame" (as
    // `whole_run` lays them out).
    let mut ends = Vec::with_capacity(consumed.len() + 1);
    let mut last = 0;
    for c in consumed {
        last = c.clamp(last, len);
        ends.push(last);
    }
    if last < len {
        ends.push(len);
    }
    let layout = Layout::new(ends);
    let [_, boundaries] = standard_chunkings();
    let extra = (!chunking.cuts().is_empty()).then_some(chunking);
    let mut done: Vec<Vec<usize>> = Vec::new();
    let mut read_ends = Vec::new();
    for c in [&boundaries].into_iter().chain(extra) {
        c.read_ends_into(&layout, len, &mut read_ends);
        // The reads of one read (none inside the stream), of one-byte
        // reads (every offset inside it) or of a way already decoded.
        if read_ends.is_empty() || read_ends.len() + 1 == len || done.contains(&read_ends) {
            continue;
        }
        let mut same = Same::new(want);
        let mut buf = BytesMut::with_capacity(len);
        let fed = feed_with(
            &mut decoder(),
            &mut buf,
            stream,
            read_ends.iter().copied(),
            unlimited,
            max_items,
            &mut same,
        );
        if !same.agreed(&fed, clean) {
            return Verdict::Recheck;
        }
        done.push(std::mem::take(&mut read_ends));
    }
    Verdict::Agree
}

/// [`agrees`] with the decoder's panics caught (a panic means: recheck).
fn quick<D>(
    decoder: &dyn Fn() -> D,
    stream: &[u8],
    chunking: &Chunking,
    bound: Option<AllocBound>,
) -> bool
where
    D: FrameDecoder,
    D::Item: PartialEq,
{
    quietly(|| agrees(decoder, stream, chunking, bound)) == Ok(Verdict::Agree)
}

/// The oracle on one stream: one read against one-byte reads, against
/// cuts at the boundaries the whole decode found, and against `chunking`
/// (when it has cuts). The whole decode runs once.
pub(crate) fn check_with<I, E, D>(
    spec: &Spec<'_, I, E, D>,
    stream: &[u8],
    chunking: &Chunking,
) -> Result<(), Failure>
where
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    // Most inputs pass: decide that cheaply, and build the reports (with
    // every decoding kept) only for an input that does not.
    if spec.offload.is_none() && quick(spec.decoder, stream, chunking, None) {
        return Ok(());
    }
    check_reported(spec, stream, chunking)
}

/// [`check_with`] without the quick decision: every decoding kept, the
/// report built from them.
fn check_reported<I, E, D>(
    spec: &Spec<'_, I, E, D>,
    stream: &[u8],
    chunking: &Chunking,
) -> Result<(), Failure>
where
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    let whole = whole_run(spec, stream)?;
    let [bytewise, boundaries] = standard_chunkings();
    let extra = (!chunking.cuts().is_empty()).then_some(chunking);
    for c in extra.into_iter().chain([&bytewise, &boundaries]) {
        compare(spec, stream, &whole, c)?;
    }
    Ok(())
}

/// One read against the reads of `chunking`.
pub(crate) fn pair<I, E, D>(
    spec: &Spec<'_, I, E, D>,
    stream: &[u8],
    chunking: &Chunking,
) -> Result<(), Failure>
where
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    let whole = whole_run(spec, stream)?;
    compare(spec, stream, &whole, chunking)
}

/// Feeds `stream` to a fresh decoder: in line when the spec has no worker
/// (no copy of the input), else on the worker.
fn run_on<I, E, D: FrameDecoder>(
    spec: &Spec<'_, I, E, D>,
    stream: &[u8],
    read_ends: &[usize],
) -> Option<Run<D::Item, D::Error>> {
    let max_items = stream.len() + 1;
    match spec.offload {
        None => {
            let mut decoder = (spec.decoder)();
            Some(feed(
                &mut decoder,
                stream,
                read_ends,
                ReadLimit::Unlimited,
                max_items,
            ))
        }
        Some(_) => spec.feed(
            &Bytes::copy_from_slice(stream),
            read_ends,
            ReadLimit::Unlimited,
            max_items,
        ),
    }
}

/// The whole stream in one read, and the frame ends it showed.
pub(crate) struct Whole<T, E> {
    run: Run<T, E>,
    layout: Layout,
}

fn whole_run<I, E, D: FrameDecoder>(
    spec: &Spec<'_, I, E, D>,
    stream: &[u8],
) -> Result<Whole<D::Item, D::Error>, Failure> {
    let Some(run) = run_on(spec, stream, &[]) else {
        return Err(hung(
            spec,
            stream,
            &[],
            &Chunking::whole(),
            Property::Oracle,
        ));
    };
    // Frame ends as the decoder consumed them, then the unconsumed tail as
    // one more "frame", so cuts aim inside it too.
    let mut ends = Vec::with_capacity(run.consumed.len() + 1);
    let mut last = 0;
    for &c in &run.consumed {
        last = c.clamp(last, stream.len());
        ends.push(last);
    }
    if last < stream.len() {
        ends.push(stream.len());
    }
    Ok(Whole {
        run,
        layout: Layout::new(ends),
    })
}

/// The whole run against the reads of `chunking`.
fn compare<I, E, D>(
    spec: &Spec<'_, I, E, D>,
    stream: &[u8],
    whole: &Whole<D::Item, D::Error>,
    chunking: &Chunking,
) -> Result<(), Failure>
where
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    let Whole { run: whole, layout } = whole;
    let layout = layout.clone();
    let read_ends = chunking.read_ends(&layout);
    let chunked = if matches!(whole.stop, Stop::Panic { .. } | Stop::Runaway { .. }) {
        None
    } else {
        match run_on(spec, stream, &read_ends) {
            Some(run) => Some(run),
            None => return Err(hung(spec, stream, &read_ends, chunking, Property::Oracle)),
        }
    };
    let same_stop = |a: &Stop<D::Error>, b: &Stop<D::Error>| {
        matches!(
            (a, b),
            (Stop::Clean, Stop::Clean) | (Stop::Error { .. }, Stop::Error { .. })
        )
    };
    let first_bad = chunked
        .as_ref()
        .and_then(|c| c.items.iter().zip(&whole.items).position(|(a, b)| a != b));
    if let Some(c) = &chunked {
        if first_bad.is_none()
            && c.items.len() == whole.items.len()
            && same_stop(&whole.stop, &c.stop)
        {
            return Ok(());
        }
    }

    let heads = spec.heads(stream, &layout);
    let one_read = texts(&whole.items);
    let Some(chunked) = chunked else {
        let ctx = Context {
            layout: &layout,
            heads: &heads,
            read_ends: &[],
            chunking: &Chunking::whole(),
            fed: stream.len(),
            limit_note: None,
        };
        let (kind, headline) = ctx.stop_headline(&whole.stop, whole.items.len());
        let body = format!(
            "in one read of {} bytes\n{}",
            stream.len(),
            ctx.body(whole, "before", &one_read, &one_read, &|_| true)
        );
        return Err(Failure::new(kind, headline, body)
            .with_chunking(&Chunking::whole())
            .with_property(Property::Oracle)
            .with_case(stream, &[], one_read.clone(), one_read));
    };
    let ctx = Context {
        layout: &layout,
        heads: &heads,
        read_ends: &chunked.reads,
        chunking,
        fed: stream.len(),
        limit_note: None,
    };
    let stop_text = |s: &Stop<D::Error>| match s {
        Stop::Clean => "a clean end".to_owned(),
        Stop::Error { error, .. } => format!("an error ({error:?})"),
        Stop::Panic { message, .. } => format!("a panic ({message})"),
        Stop::Runaway { .. } => "endless frames".to_owned(),
    };
    let (kind, headline) = match (first_bad, &chunked.stop) {
        (None, stop @ (Stop::Panic { .. } | Stop::Runaway { .. })) => {
            ctx.stop_headline(stop, chunked.items.len())
        }
        (Some(i), _) => (
            FailureKind::Diverged,
            format!(
                "{}; frame {i} came out different in these reads than in one read",
                reads_in_frame(&layout, &heads, &chunked.reads, i)
            ),
        ),
        (None, _) if chunked.items.len() != whole.items.len() => {
            let i = chunked.items.len().min(whole.items.len());
            (
                FailureKind::Diverged,
                format!(
                    "{}; {} came out in these reads, {} in one read",
                    reads_in_frame(&layout, &heads, &chunked.reads, i),
                    frames(chunked.items.len()),
                    frames(whole.items.len())
                ),
            )
        }
        (None, _) => (
            FailureKind::Diverged,
            format!(
                "{}; same frames, but decoding ended with {} in these reads and {} in one read",
                reads_in_frame(
                    &layout,
                    &heads,
                    &chunked.reads,
                    whole.items.len().min(layout.frames().saturating_sub(1))
                ),
                stop_text(&chunked.stop),
                stop_text(&whole.stop)
            ),
        ),
    };
    let decoded = texts(&chunked.items);
    let same = |i: usize| match (chunked.items.get(i), whole.items.get(i)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    let body = format!(
        "in one read: {}, then {}\n{}",
        frames(whole.items.len()),
        stop_text(&whole.stop),
        ctx.body(&chunked, "one read", &one_read, &decoded, &same)
    );
    Err(Failure::new(kind, headline, body)
        .with_chunking(chunking)
        .with_property(Property::Oracle)
        .with_case(stream, &chunked.reads, one_read, decoded))
}

/// Reduces a failing oracle input: the diverging chunking to its fewest
/// reads, then the stream to its shortest failing form (tail cut, bytes
/// removed), alternating until nothing simpler fails.
pub(crate) fn reduce_input<I, E, D>(
    spec: &Spec<'_, I, E, D>,
    stream: Vec<u8>,
    chunking: Chunking,
    counts: &dyn Fn(&Failure) -> bool,
) -> (Vec<u8>, Chunking)
where
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    // The chunking that diverges: the fuzzer's or one of the standard ones.
    let bytes = Bytes::from(stream);
    let diverging = match check_with(spec, &bytes, &chunking) {
        Err(failure) if counts(&failure) => failure.chunking().cloned().unwrap_or(chunking),
        _ => return (bytes.to_vec(), chunking),
    };
    // A candidate that hangs is kept as the one to report, and nothing
    // after it counts: past a hang the worker is gone, and every later
    // decode would "hang" at once without showing anything.
    let hung = std::cell::Cell::new(false);
    let fails = |(s, c): &(Bytes, Chunking)| {
        if hung.get() {
            return false;
        }
        match pair(spec, s, c) {
            Ok(()) => false,
            Err(f) if matches!(f.kind(), FailureKind::Hung { .. }) => {
                hung.set(true);
                true
            }
            Err(f) => counts(&f),
        }
    };
    let simpler = |(s, c): &(Bytes, Chunking)| {
        let mut out = Vec::new();
        let len = s.len();
        let mut step = len / 2;
        while step > 0 {
            out.push((s.slice(..len - step), c.clone()));
            for at in (0..len.saturating_sub(step)).step_by(step.max(len / 8).max(1)) {
                let mut shorter = s[..at].to_vec();
                shorter.extend_from_slice(&s[at + step..]);
                out.push((Bytes::from(shorter), c.clone()));
            }
            step /= 2;
        }
        // Fewest reads: the chunking as explicit points, one dropped at a
        // time (the boundaries as the whole decode of `s` found them). The
        // decode runs where the spec says, so a decoder that hangs on `s`
        // stops at the time limit and only this reduction step is skipped.
        if let Ok(Some(whole)) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_on(spec, s, &[]).map(|run| run.consumed)
        })) {
            let mut ends: Vec<usize> = whole.into_iter().filter(|&e| e <= len).collect();
            ends.dedup();
            if ends.last() != Some(&len) && len > 0 {
                ends.push(len);
            }
            if ends.windows(2).all(|w| w[0] <= w[1]) {
                let layout = Layout::new(ends);
                out.extend(
                    reduce::simpler_chunkings(c, Some(&layout), len)
                        .into_iter()
                        .map(|c| (s.clone(), c)),
                );
            }
        }
        out
    };
    let (s, c) = reduce::reduce((bytes, diverging), &simpler, &fails);
    (s.to_vec(), c)
}

/// A spec for one decoder factory alone, decoding in line.
fn inline_spec<'a, D: FrameDecoder>(
    decoder: &'a dyn Fn() -> D,
    never: &'a dyn Fn(&D::Item, &()) -> bool,
) -> Spec<'a, (), (), D> {
    Spec {
        encoder: &|| (),
        decoder,
        same: never,
        merge: None,
        limit: ReadLimit::Unlimited,
        offload: None,
        probe: None,
        time_limit: std::time::Duration::ZERO,
        blind: std::cell::Cell::new(0),
    }
}

/// The oracle on fuzz input `data` (layout in the [module docs](self)):
/// fresh decoders from `make_codec` decode the stream in one read, in
/// one-byte reads, cut at the frame ends the whole decode found, and in
/// the input's own chunking when it has one; all must agree. The failure
/// is reduced to the fewest reads and the shortest stream.
///
/// # Errors
///
/// A [`Failure`] when the frames differ, when one way ends in an error and
/// the other does not, when the decoder panics, or when it returns frames
/// without end (more frames than bytes).
///
/// # Examples
///
/// ```
/// use framecheck::FailureKind;
/// use tokio_util::codec::{Decoder, LengthDelimitedCodec};
///
/// // Whatever the bytes, LengthDelimitedCodec decodes them the same way
/// // whole and in reads.
/// framecheck::fuzz::check_input(LengthDelimitedCodec::new, b"\0\0\0\x02hi\0\0").unwrap();
///
/// // A decoder that returns whatever it has, as one frame.
/// struct Whatever;
/// impl Decoder for Whatever {
///     type Item = Vec<u8>;
///     type Error = std::io::Error;
///     fn decode(&mut self, src: &mut bytes::BytesMut) -> std::io::Result<Option<Vec<u8>>> {
///         Ok((!src.is_empty()).then(|| src.split().to_vec()))
///     }
/// }
/// let failure = framecheck::fuzz::check_input(|| Whatever, b"abc").unwrap_err();
/// assert_eq!(failure.kind(), &FailureKind::Diverged);
/// ```
pub fn check_input<D, F>(make_codec: F, data: &[u8]) -> Result<(), Failure>
where
    F: Fn() -> D,
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    let never = |_: &D::Item, _: &()| false;
    let spec = inline_spec(&make_codec, &never);
    let (chunking, stream) = parse_input(data);
    let chunking = chunking.unwrap_or_default();
    if check_with(&spec, stream, &chunking).is_ok() {
        return Ok(());
    }
    let (stream, chunking) = reduce_input(&spec, stream.to_vec(), chunking, &|_| true);
    let bytes = Bytes::from(stream);
    match pair(&spec, &bytes, &chunking) {
        Err(failure) => Err(failure.with_note(&format!(
            "reduced from a {}-byte input to the fewest reads and the shortest stream:",
            data.len()
        ))),
        Ok(()) => check_with(&spec, &bytes, &chunking),
    }
}

/// [`check_input`] without the reduction: the first failure as found, for
/// a loop that shrinks its inputs itself (a proptest run), where reducing
/// every failing candidate again would cost more than it tells.
///
/// # Errors
///
/// As [`check_input`], unreduced.
pub fn check_input_unreduced<D, F>(make_codec: F, data: &[u8]) -> Result<(), Failure>
where
    F: Fn() -> D,
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    let never = |_: &D::Item, _: &()| false;
    let spec = inline_spec(&make_codec, &never);
    let (chunking, stream) = parse_input(data);
    check_with(&spec, stream, &chunking.unwrap_or_default())
}

/// [`check_input`] and, on the same one-read decoding of the stream, the
/// allocation property of [`alloc_case`](crate::alloc_case): while the
/// decoder has been fed `N` bytes, no single allocation of this thread and
/// none of its live totals may exceed `bound.at(N)`. One decoding serves
/// both checks, so the bound costs a fuzz target almost nothing; the test
/// binary (or fuzz target) must install framecheck's tracking allocator.
///
/// # Errors
///
/// The oracle's [`Failure`] as [`check_input`] gives it, first; then
/// [`FailureKind::AllocationOverBound`] as
/// [`alloc_case`](crate::alloc_case)`(make_codec(), stream, &[], bound)`
/// gives it; [`FailureKind::AllocatorNotInstalled`] when the tracking
/// allocator is not installed.
///
/// # Examples
///
/// ```
/// use framecheck::{fuzz::check_input_alloc, AllocBound, FailureKind};
/// use tokio_util::codec::{Decoder, LengthDelimitedCodec};
///
/// #[global_allocator]
/// static ALLOC: framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();
///
/// let bound = AllocBound::default();
/// check_input_alloc(LengthDelimitedCodec::new, b"\0\0\0\x02hi", bound).unwrap();
///
/// // Reserves whatever a 4-byte count claims, as soon as it arrives.
/// struct Greedy;
/// impl Decoder for Greedy {
///     type Item = ();
///     type Error = std::io::Error;
///     fn decode(&mut self, src: &mut bytes::BytesMut) -> std::io::Result<Option<()>> {
///         if let Some(&[a, b, c, d]) = src.get(..4) {
///             src.reserve(u32::from_be_bytes([a, b, c, d]) as usize);
///         }
///         Ok(None)
///     }
/// }
/// let failure = check_input_alloc(|| Greedy, b"\x10\0\0\0", bound).unwrap_err();
/// assert!(matches!(failure.kind(), FailureKind::AllocationOverBound { fed: 4, .. }));
/// ```
pub fn check_input_alloc<D, F>(make_codec: F, data: &[u8], bound: AllocBound) -> Result<(), Failure>
where
    F: Fn() -> D,
    D: tokio_util::codec::Decoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    if !tracking_installed() {
        return Err(not_installed());
    }
    let (chunking, stream) = parse_input(data);
    let chunking = chunking.unwrap_or_default();
    if quick(&make_codec, stream, &chunking, Some(bound)) {
        return Ok(());
    }
    check_input(&make_codec, data)?;
    crate::alloc_case(&mut make_codec(), stream, &[], bound).map(|_| ())
}

/// [`check_input`], panicking with the report: the body of a fuzz target.
///
/// # Panics
///
/// When [`check_input`] returns a failure.
#[track_caller]
pub fn assert_input<D, F>(make_codec: F, data: &[u8])
where
    F: Fn() -> D,
    D: FrameDecoder,
    D::Item: PartialEq + Debug,
    D::Error: Debug,
{
    if let Err(failure) = check_input(make_codec, data) {
        panic!("decoder check failed: {failure}");
    }
}

/// The old name of [`check_input`], kept for existing fuzz targets and
/// tests; new code follows the crate's rule (`check_*` returns the
/// failure) and calls [`check_input`].
///
/// # Errors
///
/// As [`check_input`].
#[deprecated(
    since = "0.2.0",
    note = "renamed `fuzz::check_input` (`check_*` returns the failure)"
)]
pub fn try_check_decoder<C, F>(make_codec: F, data: &[u8]) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: Decoder,
    C::Item: PartialEq + Debug,
    C::Error: Debug,
{
    check_input(make_codec, data)
}

/// The old name of [`assert_input`] (it panics, despite its name), kept
/// for existing fuzz targets; new code calls [`assert_input`].
///
/// # Panics
///
/// As [`assert_input`].
#[deprecated(
    since = "0.2.0",
    note = "renamed `fuzz::assert_input` (`assert_*` panics)"
)]
#[track_caller]
pub fn check_decoder<C, F>(make_codec: F, data: &[u8])
where
    F: Fn() -> C,
    C: Decoder,
    C::Item: PartialEq + Debug,
    C::Error: Debug,
{
    assert_input(make_codec, data);
}

#[cfg(test)]
mod tests {
    use bytes::{Buf, BytesMut};
    use tokio_util::codec::{Decoder, LengthDelimitedCodec, LinesCodec};

    use super::*;

    /// A length-prefixed decoder (1-byte length) with planted bugs, each
    /// seen only in some ways of reading.
    #[derive(Default)]
    struct Planted {
        bug: u8,
        calls: usize,
    }

    impl Decoder for Planted {
        type Item = Vec<u8>;
        type Error = std::io::Error;

        fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<Vec<u8>>> {
            self.calls += 1;
            let Some(&n) = src.first() else {
                return Ok(None);
            };
            let n = usize::from(n % 8);
            match self.bug {
                // Takes what is there when the body is one byte short.
                1 if src.len() == n => return Ok(Some(src.split().to_vec())),
                // Fails on a read that ends inside the length byte's frame.
                2 if src.len() > 1 && src.len() <= n => {
                    return Err(std::io::Error::other("partial"))
                }
                // Panics after many calls (one-byte reads).
                3 if self.calls > 12 => panic!("too many calls"),
                // Returns frames forever once it saw a zero length.
                4 if n == 0 => return Ok(Some(Vec::new())),
                _ => {}
            }
            if src.len() <= n {
                return Ok(None);
            }
            src.advance(1);
            Ok(Some(src.split_to(n).to_vec()))
        }
    }

    fn inputs() -> impl Iterator<Item = Vec<u8>> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..400).map(move |i| {
            let len = (next() % 24) as usize;
            let mut data: Vec<u8> = (0..len)
                .map(|_| match next() % 4 {
                    0 => b'\n',
                    1 => (next() % 8) as u8,
                    _ => (next() >> 24) as u8,
                })
                .collect();
            if i % 3 == 0 {
                let spec: Vec<u8> = (0..(next() % 12)).map(|_| next() as u8).collect();
                data = with_chunking(&data, &spec);
            }
            data
        })
    }

    /// The quick decision passes exactly the inputs the full check passes.
    fn same_verdicts<D>(make: &dyn Fn() -> D) -> (usize, usize)
    where
        D: FrameDecoder,
        D::Item: PartialEq + Debug,
        D::Error: Debug,
    {
        let never = |_: &D::Item, _: &()| false;
        let spec = inline_spec(make, &never);
        let (mut passed, mut failed) = (0, 0);
        for data in inputs() {
            let (chunking, stream) = parse_input(&data);
            let chunking = chunking.unwrap_or_default();
            let full = check_reported(&spec, stream, &chunking).is_ok();
            assert_eq!(quick(make, stream, &chunking, None), full, "input {data:?}");
            if full {
                passed += 1;
            } else {
                failed += 1;
            }
        }
        (passed, failed)
    }

    #[test]
    fn quick_decision_agrees_with_the_full_check() {
        assert_eq!(same_verdicts(&LengthDelimitedCodec::new).1, 0);
        assert_eq!(same_verdicts(&|| LinesCodec::new_with_max_length(5)).1, 0);
        assert_eq!(same_verdicts(&Planted::default).1, 0);
        for bug in 1..=4 {
            let (passed, failed) = same_verdicts(&|| Planted { bug, calls: 0 });
            assert!(
                passed > 0 && failed > 0,
                "bug {bug}: {passed} passed, {failed} failed"
            );
        }
    }

    #[test]
    fn with_the_tracking_allocator_missing_check_input_alloc_says_so() {
        let failure =
            check_input_alloc(LengthDelimitedCodec::new, b"", AllocBound::default()).unwrap_err();
        assert_eq!(failure.kind(), &FailureKind::AllocatorNotInstalled);
    }
}
