//! [`Failure`]: what went wrong, told in the frames' terms.

use std::fmt::{self, Debug, Write as _};

use crate::{
    chunk::{Chunking, Layout},
    drive::{Run, Stop, When},
};

/// What kind of failure the harness found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The encoder refused frame `frame` (the frame strategy generated
    /// something the codec cannot send).
    EncodeRefused {
        /// Index of the refused frame.
        frame: usize,
    },
    /// The decoder returned an error on bytes that a valid stream starts
    /// with (`at_eof`: from `decode_eof`, after the last read).
    DecodeError {
        /// Whether the error came from `decode_eof`.
        at_eof: bool,
    },
    /// The decoder panicked.
    Panicked,
    /// Frame `frame` came out different from the one sent.
    WrongFrame {
        /// Index of the first frame that differs.
        frame: usize,
    },
    /// The decoder ended cleanly with frames missing.
    MissingFrames {
        /// Frames that came out.
        decoded: usize,
        /// Frames that should have come out.
        expected: usize,
    },
    /// More frames came out than were sent (or, for truncation, than were
    /// complete in the prefix).
    ExtraFrames {
        /// Frames that came out.
        decoded: usize,
        /// Frames that should have come out.
        expected: usize,
    },
    /// The decoder kept returning frames without end.
    Runaway,
    /// Truncation: the stream ended `offset` bytes into frame `frame`
    /// (`len` bytes encoded) and the decoder reported a clean end.
    CleanEndInsideFrame {
        /// The frame the stream ended in.
        frame: usize,
        /// Bytes of it received.
        offset: usize,
        /// Its encoded length.
        len: usize,
    },
    /// Fuzz oracle: decoding in one read and in chunks gave different
    /// frames or stopped differently.
    Diverged,
    /// A case failed, then passed when run again: the codec depends on
    /// something besides its input.
    Nondeterministic,
    /// proptest gave up before running enough cases (the frame strategy
    /// rejected too many values).
    Aborted,
    /// A request of `size` bytes (`usize::MAX`: past `isize::MAX`) took one
    /// allocation or the live bytes over `bound` when `fed` bytes had arrived.
    AllocationOverBound {
        /// Bytes requested.
        size: usize,
        /// Bytes fed to the decoder by then.
        fed: usize,
        /// The bound at that point, in bytes.
        bound: usize,
    },
    /// The allocation property ran without framecheck's tracking allocator.
    AllocatorNotInstalled,
    /// One `decode` call (or the whole case) took longer than the
    /// harness's time limit: the decoder hangs on this input.
    Hung {
        /// The time limit, in milliseconds.
        limit_ms: u64,
    },
}

/// The property a [`Failure`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Property {
    /// Frames in, the same frames out, whatever the reads.
    RoundTrip,
    /// A stream cut short: the complete frames, then an error.
    Truncation,
    /// The fuzz oracle: the same frames whole and in reads.
    Oracle,
    /// The round trip through `FramedWrite` and `FramedRead` ([`crate::io`]).
    Framed,
}

impl Property {
    /// The name used in saved cases and reports.
    pub fn name(self) -> &'static str {
        match self {
            Property::RoundTrip => "roundtrip",
            Property::Truncation => "truncation",
            Property::Oracle => "oracle",
            Property::Framed => "framed",
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failing case, with a report a person can act on.
///
/// `Display` is the report: the headline says in the frames' terms where
/// the reads ended ("frame 3: read 2 ended 3 bytes into its 4-byte header")
/// and what the decoder did; then the chunking, the reads, and the frames
/// sent beside the decoder's output.
#[derive(Clone)]
pub struct Failure(Box<Details>);

#[derive(Clone)]
struct Details {
    kind: FailureKind,
    property: Option<Property>,
    headline: String,
    body: String,
    chunking: Option<Chunking>,
    bytes: Vec<u8>,
    reads: Vec<usize>,
    sent: Vec<String>,
    decoded: Vec<String>,
}

impl Failure {
    /// What kind of failure this is.
    pub fn kind(&self) -> &FailureKind {
        &self.0.kind
    }

    /// The first line of the report.
    pub fn headline(&self) -> &str {
        &self.0.headline
    }

    /// The chunking of the failing case, when it had one.
    pub fn chunking(&self) -> Option<&Chunking> {
        self.0.chunking.as_ref()
    }

    /// The property that failed (`None` for a failure of the run itself,
    /// such as [`FailureKind::Aborted`]).
    pub fn property(&self) -> Option<Property> {
        self.0.property
    }

    /// The bytes fed to the decoder in the failing case (the encoded
    /// stream, its cut prefix, or the fuzz input's stream).
    pub fn bytes(&self) -> &[u8] {
        &self.0.bytes
    }

    /// Where the reads of the failing case ended: offsets into
    /// [`Failure::bytes`], strictly inside it (the last read ends at its
    /// end).
    pub fn reads(&self) -> &[usize] {
        &self.0.reads
    }

    /// The frames sent (or expected), each as its `Debug` text.
    pub fn sent(&self) -> &[String] {
        &self.0.sent
    }

    /// The items the decoder returned, each as its `Debug` text.
    pub fn decoded(&self) -> &[String] {
        &self.0.decoded
    }

    /// The report without the headline.
    pub fn body(&self) -> &str {
        &self.0.body
    }

    pub(crate) fn new(kind: FailureKind, headline: String, body: String) -> Self {
        Failure(Box::new(Details {
            kind,
            property: None,
            headline,
            body,
            chunking: None,
            bytes: Vec::new(),
            reads: Vec::new(),
            sent: Vec::new(),
            decoded: Vec::new(),
        }))
    }

    pub(crate) fn with_property(mut self, property: Property) -> Self {
        self.0.property = Some(property);
        self
    }

    pub(crate) fn with_case(
        mut self,
        bytes: &[u8],
        reads: &[usize],
        sent: Vec<String>,
        decoded: Vec<String>,
    ) -> Self {
        self.0.bytes = bytes.to_vec();
        self.0.reads = reads.to_vec();
        self.0.sent = sent;
        self.0.decoded = decoded;
        self
    }

    pub(crate) fn with_chunking(mut self, chunking: &Chunking) -> Self {
        self.0.chunking = Some(chunking.clone());
        self
    }

    /// Adds a line after the headline (the property runner's summary).
    pub(crate) fn with_note(mut self, note: &str) -> Self {
        self.0.body = format!("{note}\n{}", self.0.body);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.0.headline)?;
        f.write_str(self.0.body.trim_end())
    }
}

impl Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Result::unwrap` and `assert!` show the Debug form: make it the
        // report too.
        writeln!(f, "{:?}", self.0.kind)?;
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Failure {}

/// Where each frame's header ends, as far as the decoder shows it: the
/// number of bytes it consumed before the body arrived (`None` when it
/// consumes nothing until a whole frame is there, as `LinesCodec`).
pub(crate) type Heads = Vec<Option<usize>>;

/// "1 frame", "3 frames".
pub(crate) fn frames(n: usize) -> String {
    if n == 1 {
        "1 frame".to_owned()
    } else {
        format!("{n} frames")
    }
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_owned()
    } else {
        format!("{n} bytes")
    }
}

/// `offset` in the frames' terms: the frame it falls in (or ends) and a
/// phrase about "its" parts.
pub(crate) fn locate(layout: &Layout, heads: &Heads, offset: usize) -> (Option<usize>, String) {
    if offset == 0 {
        return (None, "at the very start of the stream".to_owned());
    }
    if layout.is_boundary(offset) {
        // The last non-empty frame ending here.
        let i = layout.ends().partition_point(|&e| e < offset);
        let i = (i..layout.frames())
            .take_while(|&j| layout.end(j) == offset)
            .last()
            .unwrap_or(i);
        return (Some(i), "exactly at its end".to_owned());
    }
    let Some(i) = layout.frame_at(offset) else {
        return (None, format!("at byte {offset}, past the last frame"));
    };
    let (start, end) = (layout.start(i), layout.end(i));
    let (k, len) = (offset - start, end - start);
    let last = if k + 1 == len {
        " (one byte before its end)"
    } else {
        ""
    };
    let phrase = match heads.get(i).copied().flatten() {
        Some(h) if h > 0 && h <= len => {
            if k < h {
                format!("{} into its {}-byte header", bytes(k), h)
            } else if k == h {
                format!(
                    "exactly between its {h}-byte header and its {}-byte body",
                    len - h
                )
            } else {
                format!("{} into its {}-byte body{last}", bytes(k - h), len - h)
            }
        }
        _ => format!("{} into its {}-byte encoding{last}", bytes(k), len),
    };
    (Some(i), phrase)
}

/// "frame 3: read 2 ended 3 bytes into its 4-byte header"
pub(crate) fn read_headline(layout: &Layout, heads: &Heads, read: usize, end: usize) -> String {
    match locate(layout, heads, end) {
        (Some(i), phrase) => format!("frame {i}: read {read} ended {phrase}"),
        (None, phrase) => format!("read {read} ended {phrase}"),
    }
}

/// The reads that ended inside a frame (not at a boundary), described:
/// each when there are at most `max`, else how many.
pub(crate) fn cuts_summary(
    layout: &Layout,
    heads: &Heads,
    read_ends: &[usize],
    max: usize,
) -> String {
    let inside: Vec<(usize, usize)> = read_ends
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, e)| !layout.is_boundary(e))
        .collect();
    if inside.is_empty() {
        return "every read ended at a frame boundary".to_owned();
    }
    if inside.len() > max {
        return format!("{} reads ended inside frames", inside.len());
    }
    let parts: Vec<String> = inside
        .iter()
        .map(|&(r, e)| read_headline(layout, heads, r, e))
        .collect();
    parts.join("; ")
}

/// The reads that ended inside frame `frame` (or at its end), described.
pub(crate) fn reads_in_frame(
    layout: &Layout,
    heads: &Heads,
    read_ends: &[usize],
    frame: usize,
) -> String {
    if frame >= layout.frames() {
        return cuts_summary(layout, heads, read_ends, 3);
    }
    let (start, end) = (layout.start(frame), layout.end(frame));
    let inside: Vec<(usize, usize)> = read_ends
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, e)| e > start && e <= end)
        .collect();
    let last_read = read_ends.len();
    let mut out = String::new();
    let describe = |(r, e): (usize, usize)| {
        let (_, phrase) = locate(layout, heads, e);
        format!("read {r} ended {phrase}")
    };
    match inside.as_slice() {
        [] => {
            let first = read_ends.partition_point(|&e| e <= start);
            let _ = write!(
                out,
                "frame {frame} arrived whole inside read {first}{}",
                if first == last_read {
                    " (the last)"
                } else {
                    ""
                }
            );
        }
        [one] => out = format!("frame {frame}: {}", describe(*one)),
        few if few.len() <= 6 => {
            let parts: Vec<String> = few.iter().map(|&p| describe(p)).collect();
            out = format!("frame {frame}: {}", parts.join("; "));
        }
        [first, .., last] => {
            out = format!(
                "frame {frame}: {} reads ended inside it, from {} to {}",
                inside.len(),
                describe(*first),
                describe(*last)
            );
        }
    }
    out
}

/// Characters of a value shown in a report: `FRAMECHECK_WIDTH`, or 160.
pub fn value_width() -> usize {
    std::env::var("FRAMECHECK_WIDTH")
        .ok()
        .and_then(|w| w.trim().parse().ok())
        .filter(|&w: &usize| w >= 16)
        .unwrap_or(DEFAULT_WIDTH)
}

/// Characters of a value shown when `FRAMECHECK_WIDTH` is not set.
pub const DEFAULT_WIDTH: usize = 160;

pub(crate) fn short(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    let keep: String = text.chars().take(width.saturating_sub(12)).collect();
    format!("{keep}…(+{} chars)", count - keep.chars().count())
}

/// Where two `Debug` texts first differ: a line pointing at it, with up
/// to `width` characters of each around it.
pub(crate) fn first_difference_line(sent: &str, decoded: &str, width: usize) -> String {
    let a: Vec<char> = sent.chars().collect();
    let b: Vec<char> = decoded.chars().collect();
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(width / 4);
    let window = |v: &[char]| -> String {
        let to = (from + width / 2).min(v.len());
        let mut text: String = v[from.min(v.len())..to].iter().collect();
        if from > 0 {
            text.insert(0, '…');
        }
        if to < v.len() {
            text.push('…');
        }
        text
    };
    format!(
        "first difference at character {at} of the Debug text:\n    sent:    {}\n    decoded: {}\n             {}^",
        window(&a),
        window(&b),
        " ".repeat(at - from + usize::from(from > 0))
    )
}

/// The frames sent beside the decoder's output, one row per index.
pub(crate) fn side_by_side(
    left_title: &str,
    left: &[String],
    right_title: &str,
    right: &[String],
    same: &dyn Fn(usize) -> bool,
) -> String {
    const ROWS: usize = 24;
    let width = value_width();
    let mut out = String::new();
    let rows = left.len().max(right.len());
    let _ = writeln!(
        out,
        "{left_title} ({}) beside {right_title} ({}), one row per index \
         (values cut at {width} characters; FRAMECHECK_WIDTH sets it):",
        left.len(),
        right.len()
    );
    // Show the rows around the first difference when there are many.
    let first_bad = (0..rows).find(|&i| !same(i)).unwrap_or(rows);
    let from = first_bad
        .saturating_sub(ROWS / 2)
        .min(rows.saturating_sub(ROWS));
    if from > 0 {
        let _ = writeln!(out, "  …  | ({from} equal frames before)");
    }
    for i in from..rows.min(from + ROWS) {
        let cell = |side: &[String]| match side.get(i) {
            Some(v) => short(v, width),
            None => "-".to_owned(),
        };
        let mark = if same(i) { "" } else { "  <- differs" };
        let _ = writeln!(out, "{i:>4} {left_title:>8}: {}{mark}", cell(left));
        let _ = writeln!(out, "     {right_title:>8}: {}", cell(right));
        if i == first_bad {
            if let (Some(a), Some(b)) = (left.get(i), right.get(i)) {
                let _ = writeln!(out, "     {}", first_difference_line(a, b, width));
            }
        }
    }
    if rows > from + ROWS {
        let _ = writeln!(out, "  …  | ({} more rows)", rows - from - ROWS);
    }
    out
}

/// The reads, in byte ranges, marking frame boundaries: at most `limit`
/// ranges around read `focus`.
pub(crate) fn reads_line(read_ends: &[usize], total: usize, focus: usize) -> String {
    const LIMIT: usize = 16;
    let n = read_ends.len() + 1;
    let bound = |r: usize| {
        let start = if r == 0 { 0 } else { read_ends[r - 1] };
        let end = read_ends.get(r).copied().unwrap_or(total);
        format!("{start}..{end}")
    };
    let from = focus.saturating_sub(LIMIT / 2).min(n.saturating_sub(LIMIT));
    let to = (from + LIMIT).min(n);
    let mut parts: Vec<String> = (from..to).map(|r| format!("#{r} {}", bound(r))).collect();
    if from > 0 {
        parts.insert(0, format!("({from} before)"));
    }
    if to < n {
        parts.push(format!("({} after)", n - to));
    }
    format!("reads ({n}): {}", parts.join(", "))
}

/// The frame layout: each frame's encoded range (and header, when known).
pub(crate) fn layout_line(layout: &Layout, heads: &Heads) -> String {
    const LIMIT: usize = 12;
    let mut parts: Vec<String> = (0..layout.frames().min(LIMIT))
        .map(|i| {
            let (s, e) = (layout.start(i), layout.end(i));
            match heads.get(i).copied().flatten() {
                Some(h) if h > 0 && h < e - s => format!("#{i} {s}..{e} (header {h})"),
                Some(h) if h == e - s => format!("#{i} {s}..{e} (header only)"),
                _ => format!("#{i} {s}..{e}"),
            }
        })
        .collect();
    if layout.frames() > LIMIT {
        parts.push(format!("… {} more", layout.frames() - LIMIT));
    }
    format!(
        "encoded frames ({} bytes): {}",
        layout.total(),
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    )
}

/// What the report's pieces need to know about a case.
pub(crate) struct Context<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) heads: &'a Heads,
    pub(crate) read_ends: &'a [usize],
    pub(crate) chunking: &'a Chunking,
    /// Bytes fed to the decoder (the stream, or its cut prefix).
    pub(crate) fed: usize,
    /// A line about read sizes (a read larger than `FramedRead` makes).
    pub(crate) limit_note: Option<String>,
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

    /// The report's body: chunking, reads, layout, how it stopped, frames
    /// (`left` beside `right`, `same(i)` when row `i` matches).
    pub(crate) fn body<T, E: Debug>(
        &self,
        run: &Run<T, E>,
        sent: &str,
        left: &[String],
        right: &[String],
        same: &dyn Fn(usize) -> bool,
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
        if let Some(line) = &self.limit_note {
            let _ = writeln!(out, "{line}");
        }
        out.push_str(&side_by_side(sent, left, "decoded", right, same));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_names_header_boundary_body_and_end() {
        let layout = Layout::from_lens([10, 10]);
        let heads: Heads = vec![Some(4), Some(4)];
        let at = |o| locate(&layout, &heads, o);
        assert_eq!(
            at(13),
            (Some(1), "3 bytes into its 4-byte header".to_owned())
        );
        assert_eq!(
            at(11),
            (Some(1), "1 byte into its 4-byte header".to_owned())
        );
        assert_eq!(
            at(14),
            (
                Some(1),
                "exactly between its 4-byte header and its 6-byte body".to_owned()
            )
        );
        assert_eq!(
            at(19),
            (
                Some(1),
                "5 bytes into its 6-byte body (one byte before its end)".to_owned()
            )
        );
        assert_eq!(at(10), (Some(0), "exactly at its end".to_owned()));
        let unknown: Heads = vec![None, None];
        assert_eq!(
            locate(&layout, &unknown, 3).1,
            "3 bytes into its 10-byte encoding"
        );
        assert_eq!(
            read_headline(&layout, &heads, 2, 13),
            "frame 1: read 2 ended 3 bytes into its 4-byte header"
        );
    }

    #[test]
    fn side_by_side_marks_differences() {
        let sent = vec!["\"ab\"".to_owned(), "\"cd\"".to_owned()];
        let got = vec!["\"ab\"".to_owned()];
        let table = side_by_side("sent", &sent, "decoded", &got, &|i| i == 0);
        assert!(table.contains("sent (2) beside decoded (1)"), "{table}");
        assert!(
            table.contains(r#""cd""#) && table.contains("<- differs"),
            "{table}"
        );
    }

    #[test]
    fn first_difference_points_far_into_a_value() {
        let sent = format!("Msg {{ id: 1, {}tail: 7 }}", "x".repeat(300));
        let decoded = format!("Msg {{ id: 1, {}tail: 8 }}", "x".repeat(300));
        let line = first_difference_line(&sent, &decoded, 80);
        assert!(line.contains("character 319"), "{line}");
        assert!(
            line.contains("tail: 7") && line.contains("tail: 8"),
            "{line}"
        );
        let caret = line.lines().last().unwrap().find('^').unwrap();
        let decoded_line = line.lines().nth(2).unwrap();
        assert_eq!(decoded_line.chars().nth(caret), Some('8'), "{line}");
    }
}
