//! The round-trip property: frames encoded, cut into reads, decoded by a
//! fresh decoder, come back exactly, in order, with a clean end.

use std::fmt::Debug;

use bytes::Bytes;

use crate::TestableCodec;
use crate::{
    case::Pieces,
    chunk::{Chunking, Layout},
    drive::{ReadLimit, Run, Stop, FRAMED_READ_CAPACITY},
    failure::{reads_in_frame, reads_line, Context, Failure, FailureKind, Property},
    framework::FrameDecoder,
    spec::{texts, Spec},
};

/// One round-trip case, without a proptest runner: encodes `frames` with
/// one codec from `make_codec`, feeds the bytes to a fresh one in reads
/// ending where `chunking` says, as `FramedRead` does, and checks that
/// exactly `frames` come out, in order, and that the stream ends cleanly.
///
/// This is what [`check_roundtrip`](crate::check_roundtrip) runs for each
/// generated case; benches and fuzz targets call it directly.
///
/// # Errors
///
/// A [`Failure`] saying what went wrong, where: the encoder refused a
/// frame, the decoder erred, panicked, or returned other frames.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use framecheck::chunk::{Chunking, Cut, Point};
/// use tokio_util::codec::LengthDelimitedCodec;
///
/// let frames = vec![Bytes::from_static(b"hello"), Bytes::new()];
/// // A read ends 3 bytes into frame 1 (inside its 4-byte length field).
/// let chunking = Chunking::new(vec![Cut::At(Point::IntoFrame { frame: 1, offset: 3 })]);
/// framecheck::roundtrip_case(LengthDelimitedCodec::new, &frames, &chunking).unwrap();
/// ```
pub fn roundtrip_case<C, I, F>(
    make_codec: F,
    frames: &[I],
    chunking: &Chunking,
) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
{
    let same = |d: &<C as tokio_util::codec::Decoder>::Item, s: &I| d == s;
    let spec = Spec::in_line(&make_codec, &make_codec, &same);
    let (stream, layout) = Pieces::encode_all(&make_codec, frames)?;
    let expected: Vec<&I> = frames.iter().collect();
    check(&spec, &stream, &layout, &expected, chunking)
}

/// The round-trip property on one encoded case: `stream` (laid out as
/// `layout`) fed in reads ending where `chunking` says must give exactly
/// `expected`, in order, and a clean end.
pub(crate) fn check<I, E, D>(
    spec: &Spec<'_, I, E, D>,
    stream: &Bytes,
    layout: &Layout,
    expected: &[&I],
    chunking: &Chunking,
) -> Result<(), Failure>
where
    I: Debug,
    D: FrameDecoder,
    D::Item: Debug,
    D::Error: Debug,
{
    let probed;
    let layout = if chunking.needs_heads() && layout.frames() > 0 {
        probed = layout
            .clone()
            .with_heads(spec.heads_for_cuts(stream, layout, chunking.cuts()));
        &probed
    } else {
        layout
    };
    let read_ends = chunking.read_ends(layout);
    let verdict = |limit: ReadLimit| -> Option<Outcome<D>> {
        let run = spec.feed(
            stream,
            &read_ends,
            limit,
            spec.max_items(expected.len(), stream.len()),
        )?;
        let clean = matches!(run.stop, Stop::Clean);
        let largest = run.largest_read(stream.len());
        let Run {
            items,
            consumed,
            when,
            stop,
            reads,
        } = run;
        let merging = spec.merge.is_some();
        let (items, last) = spec.merged(items);
        let first_bad = spec.first_difference(&items, expected);
        let passed = first_bad.is_none() && items.len() == expected.len() && clean;
        Some(Outcome {
            run: Run {
                items,
                // Without a merge every item is its own last piece.
                consumed: if merging {
                    last.iter().map(|&i| consumed[i]).collect()
                } else {
                    consumed
                },
                when: if merging {
                    last.iter().map(|&i| when[i]).collect()
                } else {
                    when
                },
                stop,
                reads,
            },
            first_bad,
            passed,
            largest,
        })
    };
    let Some(outcome) = verdict(spec.limit) else {
        return Err(hung(
            spec,
            stream,
            &read_ends,
            chunking,
            Property::RoundTrip,
        ));
    };
    if outcome.passed {
        return Ok(());
    }
    let limit_note = limit_note(spec.limit, outcome.largest, || {
        verdict(ReadLimit::FramedRead {
            capacity: FRAMED_READ_CAPACITY,
        })
        .map(|o| o.passed)
    });
    let Outcome { run, first_bad, .. } = outcome;
    let heads = spec.heads(stream, layout);
    let read_ends = &run.reads;
    let ctx = Context {
        layout,
        heads: &heads,
        read_ends,
        chunking,
        fed: stream.len(),
        limit_note,
    };
    let (kind, headline) = match (first_bad, &run.stop) {
        (Some(i), _) => (
            FailureKind::WrongFrame { frame: i },
            format!(
                "{}; it came out different from the frame sent{}",
                reads_in_frame(layout, &heads, read_ends, i),
                ctx.earlier_cuts(i)
            ),
        ),
        (None, stop @ (Stop::Error { .. } | Stop::Panic { .. } | Stop::Runaway { .. })) => {
            ctx.stop_headline(stop, run.items.len())
        }
        (None, Stop::Clean) if run.items.len() < expected.len() => (
            FailureKind::MissingFrames {
                decoded: run.items.len(),
                expected: expected.len(),
            },
            format!(
                "{}; the decoder ended the stream cleanly without it ({} of {} came out)",
                reads_in_frame(layout, &heads, read_ends, run.items.len()),
                run.items.len(),
                crate::failure::frames(expected.len())
            ),
        ),
        (None, Stop::Clean) => ctx.extra_headline(&run, expected.len()),
    };
    let sent = texts(expected);
    let decoded = texts(&run.items);
    let same = |i: usize| match (run.items.get(i), expected.get(i)) {
        (Some(g), Some(w)) => (spec.same)(g, w),
        _ => false,
    };
    let body = ctx.body(&run, "sent", &sent, &decoded, &same);
    Err(Failure::new(kind, headline, body)
        .with_chunking(chunking)
        .with_property(Property::RoundTrip)
        .with_case(stream, read_ends, sent, decoded))
}

/// A run judged.
pub(crate) struct Outcome<D: FrameDecoder> {
    pub(crate) run: Run<D::Item, D::Error>,
    pub(crate) first_bad: Option<usize>,
    pub(crate) passed: bool,
    pub(crate) largest: usize,
}

/// The report line about read sizes: a failing case with a read larger
/// than `FramedRead::new` would make, and whether it passes with
/// FramedRead's reads (`passes_framed` runs it so).
pub(crate) fn limit_note(
    limit: ReadLimit,
    largest: usize,
    passes_framed: impl FnOnce() -> Option<bool>,
) -> Option<String> {
    if limit != ReadLimit::Unlimited || largest <= FRAMED_READ_CAPACITY {
        return None;
    }
    let verdict = match passes_framed() {
        Some(true) => {
            "with FramedRead's read sizes this case passes: the failure needs a larger \
                       read (a transport other than FramedRead::new, or \
                       FramedRead::with_capacity); Harness::read_limit models FramedRead"
        }
        Some(false) => "it fails with FramedRead's read sizes too",
        None => "with FramedRead's read sizes the decoder hung",
    };
    Some(format!(
        "read size: the largest read was {largest} bytes; tokio-util's FramedRead::new reads at \
         most its buffer's spare capacity ({FRAMED_READ_CAPACITY} bytes at first); {verdict}"
    ))
}

/// The failure of a case that did not finish within the time limit.
pub(crate) fn hung<I, E, D: FrameDecoder>(
    spec: &Spec<'_, I, E, D>,
    stream: &[u8],
    read_ends: &[usize],
    chunking: &Chunking,
    property: Property,
) -> Failure {
    let limit = spec.time_limit;
    let shown: String = stream
        .iter()
        .take(256)
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    Failure::new(
        FailureKind::Hung {
            limit_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        },
        format!(
            "the decoder did not return within {limit:?} on a {}-byte stream in {} reads: \
             it hangs inside decode (the thread running it cannot be stopped and is left behind)",
            stream.len(),
            read_ends.len() + 1
        ),
        format!(
            "chunking: {chunking}\n{}\nstream ({} bytes{}): b\"{shown}\"\n",
            reads_line(read_ends, stream.len(), 0),
            stream.len(),
            if stream.len() > 256 {
                ", first 256 shown"
            } else {
                ""
            }
        ),
    )
    .with_chunking(chunking)
    .with_property(property)
    .with_case(stream, read_ends, Vec::new(), Vec::new())
}
