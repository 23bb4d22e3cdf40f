//! The round-trip property: frames encoded, cut into reads, decoded by a
//! fresh decoder, come back exactly, in order, with a clean end.

use std::fmt::{Debug, Write as _};

use crate::TestableCodec;
use crate::{
    case::{encode_all, probe_heads},
    chunk::{Chunking, Layout},
    drive::{feed, Run, Stop, When},
    failure::{
        cuts_summary, layout_line, read_headline, reads_in_frame, reads_line, side_by_side,
        Failure, FailureKind, Heads,
    },
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
    let (stream, layout) = encode_all(&mut make_codec(), frames)?;
    let read_ends = chunking.read_ends(&layout);
    let run = feed(&mut make_codec(), &stream, &read_ends, frames.len() + 8);
    let first_bad = first_difference(&run.items, frames);
    if first_bad.is_none() && run.items.len() == frames.len() && matches!(run.stop, Stop::Clean) {
        return Ok(());
    }
    let heads = probe_heads(&make_codec, &stream, &layout);
    let ctx = Context {
        layout: &layout,
        heads: &heads,
        read_ends: &read_ends,
        chunking,
        fed: stream.len(),
    };
    let (kind, headline) = match (first_bad, &run.stop) {
        (Some(i), _) => (
            FailureKind::WrongFrame { frame: i },
            format!(
                "{}; it came out different from the frame sent{}",
                reads_in_frame(&layout, &heads, &read_ends, i),
                ctx.earlier_cuts(i)
            ),
        ),
        (None, stop @ (Stop::Error { .. } | Stop::Panic { .. } | Stop::Runaway { .. })) => {
            ctx.stop_headline(stop, run.items.len())
        }
        (None, Stop::Clean) if run.items.len() < frames.len() => (
            FailureKind::MissingFrames {
                decoded: run.items.len(),
                expected: frames.len(),
            },
            format!(
                "{}; the decoder ended the stream cleanly without it ({} of {} came out)",
                reads_in_frame(&layout, &heads, &read_ends, run.items.len()),
                run.items.len(),
                crate::failure::frames(frames.len())
            ),
        ),
        (None, Stop::Clean) => ctx.extra_headline(&run, frames.len()),
    };
    let body = ctx.body(&run, frames, "sent");
    Err(Failure::new(kind, headline, body).with_chunking(chunking))
}

pub(crate) fn first_difference<T: PartialEq<I>, I>(got: &[T], want: &[I]) -> Option<usize> {
    got.iter().zip(want).position(|(g, w)| g != w)
}

/// What the report's pieces need to know about a case.
pub(crate) struct Context<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) heads: &'a Heads,
    pub(crate) read_ends: &'a [usize],
    pub(crate) chunking: &'a Chunking,
    /// Bytes fed to the decoder (the stream, or its cut prefix).
    pub(crate) fed: usize,
}

impl Context<'_> {
    /// Headline for an error, a panic or a runaway, `decoded` frames in.
    pub(crate) fn stop_headline<E: Debug>(
        &self,
        stop: &Stop<E>,
        decoded: usize,
    ) -> (FailureKind, String) {
        let (kind, what, at) = match stop {
            Stop::Error { at, error } => (
                FailureKind::DecodeError {
                    at_eof: *at == When::AtEof,
                },
                format!("the decoder returned an error: {error:?}"),
                *at,
            ),
            Stop::Panic { at, message } => (
                FailureKind::Panicked,
                format!("the decoder panicked: {message}"),
                *at,
            ),
            Stop::Runaway { at } => (
                FailureKind::Runaway,
                format!("the decoder kept returning frames ({decoded} and counting)"),
                *at,
            ),
            Stop::Clean => unreachable!("not a stop with a headline"),
        };
        let headline = match at {
            When::AfterRead { read, end } => {
                format!(
                    "{}; {what}",
                    read_headline(self.layout, self.heads, read, end)
                )
            }
            When::AtEof => {
                let frame = decoded.min(self.layout.frames().saturating_sub(1));
                let context = if self.layout.frames() == 0 {
                    "empty stream".to_owned()
                } else {
                    reads_in_frame(self.layout, self.heads, self.read_ends, frame)
                };
                format!("{context}; at end of stream (decode_eof), {what}")
            }
        };
        (kind, headline)
    }

    /// When no read ended inside frame `i`: the cuts before it, which must
    /// have done the damage.
    pub(crate) fn earlier_cuts(&self, i: usize) -> String {
        if i >= self.layout.frames() {
            return String::new();
        }
        let (start, end) = (self.layout.start(i), self.layout.end(i));
        if self.read_ends.iter().any(|&e| e > start && e <= end) {
            return String::new();
        }
        let before: Vec<usize> = self
            .read_ends
            .iter()
            .copied()
            .filter(|&e| e <= start)
            .collect();
        if before.iter().all(|&e| self.layout.is_boundary(e)) {
            return String::new();
        }
        format!(
            " (earlier: {})",
            cuts_summary(self.layout, self.heads, &before, 3)
        )
    }

    /// Headline when more frames came out than expected.
    pub(crate) fn extra_headline<T, E>(
        &self,
        run: &Run<T, E>,
        expected: usize,
    ) -> (FailureKind, String) {
        let what = format!(
            "the decoder returned frame {expected}, but {}",
            match expected {
                0 => "no frame was sent".to_owned(),
                1 => "only 1 frame was sent".to_owned(),
                n => format!("only {n} frames were sent"),
            }
        );
        let cuts = cuts_summary(self.layout, self.heads, self.read_ends, 3);
        let headline = match run.when.get(expected) {
            Some(When::AfterRead { read, end }) if !self.layout.is_boundary(*end) => {
                format!(
                    "{}; {what}",
                    read_headline(self.layout, self.heads, *read, *end)
                )
            }
            Some(When::AfterRead { read, .. }) => format!("{cuts}; after read {read}, {what}"),
            _ => format!("{cuts}; at end of stream (decode_eof), {what}"),
        };
        (
            FailureKind::ExtraFrames {
                decoded: run.items.len(),
                expected,
            },
            headline,
        )
    }

    /// The report's body: chunking, reads, layout, how it stopped, frames.
    pub(crate) fn body<T: PartialEq<I> + Debug, I: Debug, E: Debug>(
        &self,
        run: &Run<T, E>,
        frames: &[I],
        sent: &str,
    ) -> String {
        let mut out = String::new();
        let focus = match run.stop {
            Stop::Error {
                at: When::AfterRead { read, .. },
                ..
            }
            | Stop::Panic {
                at: When::AfterRead { read, .. },
                ..
            } => read,
            _ => self.read_ends.len(),
        };
        let _ = writeln!(out, "chunking: {}", self.chunking);
        let _ = writeln!(out, "{}", reads_line(self.read_ends, self.fed, focus));
        let _ = writeln!(
            out,
            "cuts: {}",
            cuts_summary(self.layout, self.heads, self.read_ends, 8)
        );
        let _ = writeln!(out, "{}", layout_line(self.layout, self.heads));
        let stop = match &run.stop {
            Stop::Clean => "clean end of stream".to_owned(),
            Stop::Error { error, .. } => format!("error {error:?}"),
            Stop::Panic { message, .. } => format!("panic: {message}"),
            Stop::Runaway { .. } => "stopped: too many frames".to_owned(),
        };
        let _ = writeln!(out, "decoder stopped with: {stop}");
        let left: Vec<&dyn Debug> = frames.iter().map(|f| f as &dyn Debug).collect();
        let right: Vec<&dyn Debug> = run.items.iter().map(|f| f as &dyn Debug).collect();
        let same = |i: usize| match (run.items.get(i), frames.get(i)) {
            (Some(g), Some(w)) => g == w,
            _ => false,
        };
        out.push_str(&side_by_side(sent, &left, "decoded", &right, &same));
        out
    }
}
