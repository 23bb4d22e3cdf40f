//! The truncation property: a stream cut short gives exactly the frames
//! wholly inside it, then an error if it stopped inside a frame and a clean
//! end if it stopped at a frame boundary.

use std::fmt::Debug;

use crate::TestableCodec;
use crate::{
    case::{encode_all, probe_heads},
    chunk::{Chunking, Point},
    drive::{feed, Stop, When},
    failure::{self, locate, Failure, FailureKind},
    roundtrip::{first_difference, Context},
};

/// One truncation case, without a proptest runner: encodes `frames`, cuts
/// the stream at `cut`, feeds that prefix in reads ending where `chunking`
/// says (those before the cut), and checks that exactly the frames wholly
/// inside the prefix come out, unchanged, with no error before end of
/// stream; that end of stream inside a frame is reported as an error (from
/// `decode_eof`); and that end of stream at a frame boundary is clean.
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
    let (stream, layout) = encode_all(&mut make_codec(), frames)?;
    let at = cut.resolve(&layout);
    let mut read_ends = Vec::new();
    chunking.read_ends_into(&layout, at, &mut read_ends);
    let complete = layout.complete_before(at);
    let inside = !layout.is_boundary(at);
    let expected = &frames[..complete];
    let run = feed(&mut make_codec(), &stream[..at], &read_ends, complete + 8);
    let first_bad = first_difference(&run.items, expected);
    let enough = run.items.len() == complete;
    let passed = first_bad.is_none()
        && enough
        && match run.stop {
            Stop::Clean => !inside,
            Stop::Error {
                at: When::AtEof, ..
            } => inside,
            _ => false,
        };
    if passed {
        return Ok(());
    }

    let heads = probe_heads(&make_codec, &stream, &layout);
    let ctx = Context {
        layout: &layout,
        heads: &heads,
        read_ends: &read_ends,
        chunking,
        fed: at,
    };
    let (frame, phrase) = locate(&layout, &heads, at);
    let end = match frame {
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
        (None, _) if run.items.len() > complete => (
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
    let body = format!(
        "cut: {cut} (stream of {} bytes cut to {at})\n{}",
        layout.total(),
        ctx.body(&run, expected, "complete frames sent")
    );
    Err(Failure::new(kind, headline, body).with_chunking(chunking))
}
