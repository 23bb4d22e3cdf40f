//! The truncation property: a stream cut short gives exactly the frames
//! wholly inside it, then an error if it stopped inside a frame and a clean
//! end if it stopped at a frame boundary.
//!
//! ```text
//!             frame 0            frame 1 (cut)
//! stream  |  head | body  |  head | bo|dy     |
//!                                     ^ cut: the stream ends here
//! wanted  frame 0, then an error from decode_eof
//! also    frame 0, then frame 1 equal to the frame sent (clean end or error)
//! ```
//!
//! One exception, for grammars in which a frame can end before its
//! encoding does: a frame decoded from the cut frame's bytes is not an
//! error when it is the frame sent (by the target's comparison, after the
//! merge). A line protocol where a CR alone ends a line encodes
//! `"line"` as `"line\r\n"`; cut between the CR and the LF, the stream
//! holds the complete line, and a decoder that returns it is right. The
//! frame's content was all there, so nothing was lost or made up; the
//! stream may then end cleanly or with an error. Everything else stays a
//! failure: a frame made from a cut one that is *not* the frame sent (a
//! shorter line, a body with bytes missing), any frame past it, and a clean
//! end with bytes of a frame missing when no frame came out of them. The
//! exception cannot tell a frame whose content happened to be complete
//! from one a decoder made up (an empty frame made out of half a length
//! field); such a decoder makes up a frame that differs on other frames,
//! where the property catches it.

use std::fmt::Debug;

use bytes::Bytes;

use crate::TestableCodec;
use crate::{
    case::Pieces,
    chunk::{Chunking, Cut, Layout, Point},
    drive::{ReadLimit, Run, Stop, When, FRAMED_READ_CAPACITY},
    failure::{self, locate, Context, Failure, FailureKind, Property},
    framework::FrameDecoder,
    roundtrip::{hung, limit_note, Outcome},
    spec::{texts, Spec},
};

/// One truncation case, without a proptest runner: encodes `frames`, cuts
/// the stream at `cut`, feeds that prefix in reads ending where `chunking`
/// says (those before the cut), and checks that exactly the frames wholly
/// inside the prefix come out, unchanged, with no error before end of
/// stream; that end of stream inside a frame is reported as an error (from
/// `decode_eof`); and that end of stream at a frame boundary is clean. A
/// frame decoded from the cut frame's bytes that is the frame sent is
/// right too (`docs/testing-a-real-codec.md`, "Frames that may end before
/// their encoding does", says when and why).
///
/// # Errors
///
/// A [`Failure`]; [`FailureKind::CleanEndInsideFrame`] when the decoder
/// took a cut frame for a clean end.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use framecheck::{chunk::{Chunking, Point}, FailureKind};
/// use framecheck_codec::StrictLengthCodec;
/// use tokio_util::codec::LengthDelimitedCodec;
///
/// let frames = vec![Bytes::from_static(b"hello")];
/// // The stream stops right after frame 0's 4-byte length field.
/// let cut = Point::IntoFrame { frame: 0, offset: 4 };
/// let whole = Chunking::whole();
/// framecheck::truncation_case(|| StrictLengthCodec::new(1024), &frames, &cut, &whole).unwrap();
///
/// // tokio-util 0.7's LengthDelimitedCodec ends cleanly there.
/// let failure = framecheck::truncation_case(LengthDelimitedCodec::new, &frames, &cut, &whole)
///     .unwrap_err();
/// assert_eq!(failure.kind(), &FailureKind::CleanEndInsideFrame { frame: 0, offset: 4, len: 9 });
/// ```
pub fn truncation_case<C, I, F>(
    make_codec: F,
    frames: &[I],
    cut: &Point,
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
    check(&spec, &stream, &layout, &expected, cut, chunking)
}

/// The truncation property on one encoded case: `stream` (laid out as
/// `layout`, carrying `frames`) cut at `cut` and fed in the reads
/// `chunking` makes before it.
pub(crate) fn check<I, E, D>(
    spec: &Spec<'_, I, E, D>,
    stream: &Bytes,
    layout: &Layout,
    frames: &[&I],
    cut: &Point,
    chunking: &Chunking,
) -> Result<(), Failure>
where
    I: Debug,
    D: FrameDecoder,
    D::Item: Debug,
    D::Error: Debug,
{
    let probed;
    let layout = if (cut.needs_heads() || chunking.needs_heads()) && layout.frames() > 0 {
        let mut cuts = chunking.cuts().to_vec();
        cuts.push(Cut::At(*cut));
        probed = layout
            .clone()
            .with_heads(spec.heads_for_cuts(stream, layout, &cuts));
        &probed
    } else {
        layout
    };
    let at = cut.resolve(layout);
    let mut read_ends = Vec::new();
    chunking.read_ends_into(layout, at, &mut read_ends);
    let complete = layout.complete_before(at);
    let inside = !layout.is_boundary(at);
    let expected = &frames[..complete];
    let prefix = stream.slice(..at);
    let verdict = |limit: ReadLimit| -> Option<Outcome<D>> {
        let run = spec.feed(&prefix, &read_ends, limit, spec.max_items(complete, at))?;
        let largest = run.largest_read(at);
        let Run {
            items,
            consumed,
            when,
            stop,
            reads,
        } = run;
        let (mut items, last) = spec.merged(items);
        // The frame the cut falls in, decoded whole from the bytes before
        // the cut: right (see the module docs).
        let whole = whole_cut_frame(spec, &items, frames, complete, inside);
        // With a merge, the pieces of the frame the cut falls in may come
        // out before the error: one item more than the complete frames.
        let partial = !whole && spec.merge.is_some() && inside && items.len() == complete + 1;
        if partial {
            items.truncate(complete);
        }
        let first_bad = spec.first_difference(&items, expected);
        let enough = items.len() == complete + usize::from(whole);
        let passed = first_bad.is_none()
            && enough
            && match stop {
                Stop::Clean => !inside || whole,
                Stop::Error {
                    at: When::AtEof, ..
                } => inside,
                _ => false,
            };
        let last = &last[..items.len()];
        Some(Outcome {
            run: Run {
                consumed: last.iter().map(|&i| consumed[i]).collect(),
                when: last.iter().map(|&i| when[i]).collect(),
                items,
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
            &prefix,
            &read_ends,
            chunking,
            Property::Truncation,
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
    let read_ends = &run.reads;
    // The cut frame, decoded whole, counts with the complete ones.
    let whole = whole_cut_frame(spec, &run.items, frames, complete, inside);
    let complete_and_whole = complete + usize::from(whole);
    let enough = run.items.len() == complete_and_whole;

    let heads = spec.heads(stream, layout);
    let ctx = Context {
        layout,
        heads: &heads,
        read_ends,
        chunking,
        fed: at,
        limit_note,
    };
    let (frame, phrase) = locate(layout, &heads, at);
    let end = match frame {
        _ if at == layout.total() && at > 0 => {
            format!("the whole {at}-byte stream (nothing cut)")
        }
        Some(i) if layout.is_boundary(at) => {
            format!("the stream was cut at byte {at}, exactly at the end of frame {i}")
        }
        Some(i) => format!("the stream was cut at byte {at}, in frame {i}: {phrase}"),
        None if at == 0 => "the stream was empty".to_owned(),
        None => format!("the stream was cut at byte {at}"),
    };
    let (kind, headline) = match (first_bad, &run.stop) {
        (Some(i), _) => (
            FailureKind::WrongFrame { frame: i },
            format!(
                "{end}; frame {i} came out different from the frame sent{}",
                ctx.earlier_cuts(i)
            ),
        ),
        (None, _) if inside && run.items.len() == complete + 1 && !whole => (
            FailureKind::ExtraFrames {
                decoded: run.items.len(),
                expected: complete,
            },
            format!(
                "{end}; the decoder made frame {complete} out of the cut one, and it is not the \
                 frame sent ({})",
                match complete {
                    0 => "no frame was complete".to_owned(),
                    1 => "only 1 frame was complete".to_owned(),
                    n => format!("only {n} frames were complete"),
                }
            ),
        ),
        (None, _) if run.items.len() > complete_and_whole => (
            FailureKind::ExtraFrames {
                decoded: run.items.len(),
                expected: complete,
            },
            format!(
                "{end}; the decoder returned {} but only {} complete \
                 (it made a frame out of a cut one)",
                failure::frames(run.items.len()),
                match complete {
                    1 => "1 was".to_owned(),
                    n => format!("{n} were"),
                }
            ),
        ),
        (
            None,
            Stop::Error {
                at: When::AtEof,
                error,
            },
        ) if !inside => (
            FailureKind::DecodeError { at_eof: true },
            format!(
                "{end}, a frame boundary; the decoder should end cleanly there but returned \
                 an error: {error:?}"
            ),
        ),
        (
            None,
            Stop::Error {
                at: When::AtEof, ..
            }
            | Stop::Clean,
        ) if !enough => (
            FailureKind::MissingFrames {
                decoded: run.items.len(),
                expected: complete,
            },
            format!(
                "{end}; only {} of the {complete} complete frames came out",
                run.items.len()
            ),
        ),
        (None, Stop::Clean) => {
            let i = frame.expect("a cut inside a frame names it");
            let (start, len) = (layout.start(i), layout.end(i) - layout.start(i));

            (
                FailureKind::CleanEndInsideFrame {
                    frame: i,
                    offset: at - start,
                    len,
                },
                format!("{end}; the decoder reported a clean end of stream instead of an error"),
            )
        }
        (None, stop) => {
            let (kind, what) = ctx.stop_headline(stop, run.items.len());
            (kind, format!("{end}; before that: {what}"))
        }
    };
    // The frames sent beside the decoded ones: the complete frames, and
    // the cut one when something came out of it.
    let shown = if inside && run.items.len() > complete {
        complete + 1
    } else {
        complete
    }
    .min(frames.len());
    let expected = &frames[..shown];
    let label = if shown > complete { "sent" } else { "complete" };
    let sent = texts(expected);
    let decoded = texts(&run.items);
    let same = |i: usize| match (run.items.get(i), expected.get(i)) {
        (Some(g), Some(w)) => (spec.same)(g, w),
        _ => false,
    };
    let body = format!(
        "cut: {cut} (stream of {} bytes cut to {at})\n{}",
        layout.total(),
        ctx.body(&run, label, &sent, &decoded, &same)
    );
    Err(Failure::new(kind, headline, body)
        .with_chunking(chunking)
        .with_property(Property::Truncation)
        .with_case(&prefix, read_ends, sent, decoded))
}

/// Whether `items` are the complete frames and then the frame the cut
/// falls in, equal to the frame sent: the cut frame decoded whole from the
/// bytes before the cut, which is right (the module docs say why).
fn whole_cut_frame<I, E, D: FrameDecoder>(
    spec: &Spec<'_, I, E, D>,
    items: &[D::Item],
    frames: &[&I],
    complete: usize,
    inside: bool,
) -> bool {
    inside
        && items.len() == complete + 1
        && frames
            .get(complete)
            .is_some_and(|sent| (spec.same)(&items[complete], sent))
}
