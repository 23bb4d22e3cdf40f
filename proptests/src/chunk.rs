//! Where reads end: chunkings of an encoded byte stream, described in the
//! frames' terms so that they mean the same thing whatever the frames are.
//!
//! A [`Chunking`] is a list of [`Cut`]s. Each cut names one or more places
//! in the stream relative to its frames (the encoded frames are laid out
//! back to back; a [`Layout`] records where each one ends):
//!
//! ```text
//!  frame 0                     frame 1                  frame 2
//! |hhhh|bbbbbbbbbbbbbbbbbbbbbb|hhhh|bbbbbbbbbbbbbbbbbbb|hhhh|bbbbbbb|
//!  ^^^^^                       ^ Point::IntoFrame { frame: 1, offset: 0 }
//!  Cut::FrameHeads { len: 5 }      (also every frame's first 5 bytes)
//!                           ^ Point::BeforeEnd { frame: 0, back: 1 }
//!                                             ^ Point::Fraction { at: 0x8000 }
//! ```
//!
//! Frame indices wrap around the number of frames and offsets are clamped
//! to the frame, so any chunking applies to any frames: a chunking that once
//! broke a decoder can be replayed against new frames, and it shrinks
//! towards fewer cuts. Resolving a chunking against a layout
//! ([`Chunking::read_ends`]) gives the byte offsets where reads end.
//!
//! [`chunkings`] is the proptest strategy the harness uses; it aims where
//! decoders break without knowing the format: every offset among each
//! frame's first bytes (where any header is), where each frame's header
//! ends as the decoder shows it (a variable-length text header included),
//! frame boundaries and one byte either side, one-byte reads, everything
//! in one read (several frames merged), and uniform random cuts.
//!
//! A bug needs one bad read, so the early cases should hold many shapes
//! at once: three cases in four are [`mixed_chunkings`], one stream cut
//! several ways (one-byte reads through one frame's first bytes, a read
//! ending one byte before every frame's end and, in half the mixed cases, one
//! byte after it, one byte before a header's end, fixed-size and
//! scattered reads elsewhere). What one stream cannot hold at once stays
//! in the fourth case, [`sparse_chunkings`]: the whole stream in one read,
//! a single cut, one pattern through every frame (a read ending at every
//! boundary, or one-byte reads through every header). The mix never aims
//! at the boundaries themselves, because a read that ends at every
//! boundary hides the bugs that need a read across one: a decoder that
//! mishandles a buffer holding one whole frame and part of the next (as
//! rustls's deframer did, FrameBench's `rustls-2159`) is found only when
//! some read spans a frame's end and stops inside the next frame.
//! This repository's FrameBench (`framebench/`) measures the effect: in
//! how many seeds the first case finds each of its bugs (`cargo run
//! --release -p framebench --example first_cases`).

use std::{fmt, str::FromStr};

use arbitrary::Arbitrary;
use proptest::{collection::vec, prelude::*};

/// One place in the stream, relative to the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Arbitrary)]
pub enum Point {
    /// `offset` bytes after the start of frame `frame` (clamped to the
    /// frame's end). Offsets `0` and the frame's length are its boundaries.
    IntoFrame {
        /// Frame index, modulo the number of frames.
        frame: u16,
        /// Bytes into the frame.
        offset: u32,
    },
    /// `back` bytes before the end of frame `frame` (clamped to its start);
    /// `back == 1` is the last byte's start, one byte short of a whole frame.
    BeforeEnd {
        /// Frame index, modulo the number of frames.
        frame: u16,
        /// Bytes before the frame's end.
        back: u32,
    },
    /// `at / 65536` of the way through the whole stream.
    Fraction {
        /// Position, in 65536ths of the stream's length.
        at: u16,
    },
    /// `shift` bytes from where frame `frame`'s header ends, as the decoder
    /// shows it (the bytes it consumes before the body arrives: learned by
    /// feeding it the frame, see [`Layout::with_heads`]); clamped to the
    /// frame. A frame whose header end is unknown (a decoder that consumes
    /// nothing early, as `LinesCodec`) is taken as all header: the point is
    /// `shift` bytes from its end.
    AfterHead {
        /// Frame index, modulo the number of frames.
        frame: u16,
        /// Bytes after (positive) or before (negative) the header's end.
        shift: i8,
    },
}

/// One or more places where a read ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Arbitrary)]
pub enum Cut {
    /// A read ends at this point.
    At(Point),
    /// A read ends after each of the first `len` bytes of every frame, and
    /// at every frame's start: one-byte reads through every header whatever
    /// its length, or the format's.
    FrameHeads {
        /// How many leading bytes of each frame are read one at a time.
        len: u16,
    },
    /// A read ends at every frame boundary moved by `shift` bytes (so
    /// `-1` ends each read one byte before a frame's end).
    Boundaries {
        /// Bytes after (positive) or before (negative) each boundary.
        shift: i8,
    },
    /// A read ends every `step` bytes through the whole stream (`0` is
    /// taken as `1`: one-byte reads).
    Every {
        /// Read size.
        step: u16,
    },
    /// A read ends at every frame's header end (see [`Point::AfterHead`])
    /// moved by `shift` bytes.
    HeadEnds {
        /// Bytes after (positive) or before (negative) each header's end.
        shift: i8,
    },
}

/// Where the reads of one test case end, as a list of [`Cut`]s; no cut at
/// all means the whole stream arrives in one read.
///
/// # Examples
///
/// ```
/// use framecheck::chunk::{Chunking, Cut, Layout, Point};
///
/// // Two frames of 6 and 4 bytes.
/// let layout = Layout::from_lens([6, 4]);
/// let chunking = Chunking::new(vec![
///     Cut::At(Point::IntoFrame { frame: 1, offset: 1 }),
///     Cut::At(Point::BeforeEnd { frame: 0, back: 1 }),
/// ]);
/// assert_eq!(chunking.read_ends(&layout), vec![5, 7]);
/// assert_eq!(chunking.to_string(), "into(1,1) before_end(0,1)");
/// assert_eq!("into(1,1) before_end(0,1)".parse::<Chunking>().unwrap(), chunking);
/// assert_eq!(Chunking::whole().read_ends(&layout), Vec::<usize>::new());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Arbitrary)]
pub struct Chunking {
    cuts: Vec<Cut>,
}

/// Where each encoded frame ends in the stream (frames are back to back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    ends: Vec<usize>,
    /// Each frame's header length as the decoder showed it (empty: not
    /// probed).
    heads: Vec<Option<usize>>,
}

impl Layout {
    /// A layout from the end offset of each frame; `ends` must not decrease.
    ///
    /// # Panics
    ///
    /// If `ends` decreases somewhere.
    pub fn new(ends: Vec<usize>) -> Self {
        assert!(
            ends.windows(2).all(|w| w[0] <= w[1]),
            "frame ends must not decrease: {ends:?}"
        );
        Layout {
            ends,
            heads: Vec::new(),
        }
    }

    /// This layout with each frame's header length, as the decoder showed
    /// it (`None`: unknown). [`Point::AfterHead`] and [`Cut::HeadEnds`]
    /// aim there.
    #[must_use]
    pub fn with_heads(mut self, heads: Vec<Option<usize>>) -> Self {
        self.heads = heads;
        self
    }

    /// Frame `i`'s header length, when known.
    pub fn head(&self, i: usize) -> Option<usize> {
        self.heads.get(i).copied().flatten()
    }

    /// Where frame `i`'s header ends, shifted by `shift` and clamped to the
    /// frame (an unknown header: the frame's end, shifted).
    fn head_end(&self, i: usize, shift: i8) -> usize {
        let (start, end) = (self.start(i), self.end(i));
        let at = self.head(i).map_or(end, |h| (start + h).min(end));
        at.saturating_add_signed(isize::from(shift))
            .clamp(start, end)
    }

    /// A layout from each frame's encoded length.
    pub fn from_lens(lens: impl IntoIterator<Item = usize>) -> Self {
        let mut at = 0usize;
        let ends = lens
            .into_iter()
            .map(|len| {
                at += len;
                at
            })
            .collect();
        Layout {
            ends,
            heads: Vec::new(),
        }
    }

    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.ends.len()
    }

    /// Length of the whole stream.
    pub fn total(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Offset where frame `i` starts.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`Layout::frames`].
    pub fn start(&self, i: usize) -> usize {
        assert!(i < self.ends.len(), "frame {i} of {}", self.ends.len());
        if i == 0 {
            0
        } else {
            self.ends[i - 1]
        }
    }

    /// Offset where frame `i` ends.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`Layout::frames`].
    pub fn end(&self, i: usize) -> usize {
        self.ends[i]
    }

    /// Each frame's end offset.
    pub fn ends(&self) -> &[usize] {
        &self.ends
    }

    /// The frame that byte `offset` belongs to (`None` at or past the end).
    /// Zero-length frames own no byte.
    pub fn frame_at(&self, offset: usize) -> Option<usize> {
        let i = self.ends.partition_point(|&end| end <= offset);
        (i < self.ends.len()).then_some(i)
    }

    /// Whether `offset` is a frame boundary (or the start or end of the
    /// stream).
    pub fn is_boundary(&self, offset: usize) -> bool {
        offset == 0 || self.ends.binary_search(&offset).is_ok()
    }

    /// Number of frames that end at or before `offset`.
    pub fn complete_before(&self, offset: usize) -> usize {
        self.ends.partition_point(|&end| end <= offset)
    }
}

impl Point {
    /// The byte offset this point names in `layout`, in `0..=total`.
    pub fn resolve(&self, layout: &Layout) -> usize {
        let n = layout.frames();
        match *self {
            Point::IntoFrame { frame, offset } if n > 0 => {
                let i = usize::from(frame) % n;
                let (start, end) = (layout.start(i), layout.end(i));
                start + (offset as usize).min(end - start)
            }
            Point::BeforeEnd { frame, back } if n > 0 => {
                let i = usize::from(frame) % n;
                let (start, end) = (layout.start(i), layout.end(i));
                end - (back as usize).min(end - start)
            }
            Point::AfterHead { frame, shift } if n > 0 => {
                layout.head_end(usize::from(frame) % n, shift)
            }
            Point::IntoFrame { .. } | Point::BeforeEnd { .. } | Point::AfterHead { .. } => 0,
            Point::Fraction { at } => {
                let total = layout.total() as u128;
                (total * u128::from(at) / 65536) as usize
            }
        }
    }
}

impl Point {
    /// Whether resolving this point needs the frames' header ends
    /// ([`Layout::with_heads`]).
    pub fn needs_heads(&self) -> bool {
        matches!(self, Point::AfterHead { .. })
    }
}

/// Marks in `want` (one flag per frame) the frames whose header end
/// resolving `cut` needs.
pub(crate) fn mark_head_frames(cut: &Cut, want: &mut [bool]) {
    let n = want.len();
    match cut {
        Cut::At(Point::AfterHead { frame, .. }) if n > 0 => want[usize::from(*frame) % n] = true,
        Cut::HeadEnds { .. } => want.iter_mut().for_each(|w| *w = true),
        _ => {}
    }
}

impl Chunking {
    /// Whether resolving this chunking needs the frames' header ends
    /// ([`Layout::with_heads`]).
    pub fn needs_heads(&self) -> bool {
        self.cuts.iter().any(|c| match c {
            Cut::At(p) => p.needs_heads(),
            Cut::HeadEnds { .. } => true,
            _ => false,
        })
    }

    /// A chunking made of these cuts.
    pub fn new(cuts: Vec<Cut>) -> Self {
        Chunking { cuts }
    }

    /// Everything in one read.
    pub fn whole() -> Self {
        Chunking { cuts: Vec::new() }
    }

    /// One byte per read.
    pub fn one_byte_reads() -> Self {
        Chunking {
            cuts: vec![Cut::Every { step: 1 }],
        }
    }

    /// The cuts.
    pub fn cuts(&self) -> &[Cut] {
        &self.cuts
    }

    /// The offsets where reads end in a stream laid out as `layout`, sorted,
    /// without duplicates, strictly between `0` and the stream's end (the
    /// last read always ends at the end of the stream).
    pub fn read_ends(&self, layout: &Layout) -> Vec<usize> {
        let mut ends = Vec::new();
        self.read_ends_into(layout, layout.total(), &mut ends);
        ends
    }

    /// As [`Chunking::read_ends`], for a stream that stops at `limit`
    /// (`limit <= layout.total()`), into a reused vector.
    pub fn read_ends_into(&self, layout: &Layout, limit: usize, out: &mut Vec<usize>) {
        out.clear();
        if limit < 2 {
            return;
        }
        // A bit per offset in 1..limit: sorted and without duplicates for
        // free, in one pass however the cuts overlap.
        let mut bits = vec![0u64; limit.div_ceil(64)];
        let mut set = |at: usize| {
            if at > 0 && at < limit {
                bits[at / 64] |= 1 << (at % 64);
            }
        };
        for cut in &self.cuts {
            match *cut {
                Cut::At(point) => set(point.resolve(layout)),
                Cut::FrameHeads { len } => {
                    for i in 0..layout.frames() {
                        let (start, end) = (layout.start(i), layout.end(i));
                        if start >= limit {
                            break;
                        }
                        let stop = end.min(start + usize::from(len)).min(limit);
                        (start..=stop).for_each(&mut set);
                    }
                }
                Cut::Boundaries { shift } => {
                    let shift = isize::from(shift);
                    for &end in layout.ends() {
                        if let Some(at) = end.checked_add_signed(shift) {
                            set(at);
                        }
                        if end > limit {
                            break;
                        }
                    }
                }
                Cut::Every { step } => {
                    let step = usize::from(step.max(1));
                    (step..limit).step_by(step).for_each(&mut set);
                }
                Cut::HeadEnds { shift } => {
                    for i in 0..layout.frames() {
                        if layout.start(i) >= limit {
                            break;
                        }
                        set(layout.head_end(i, shift));
                    }
                }
            }
        }
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                out.push(w * 64 + word.trailing_zeros() as usize);
                word &= word - 1;
            }
        }
    }
}

impl From<Vec<Cut>> for Chunking {
    fn from(cuts: Vec<Cut>) -> Self {
        Chunking { cuts }
    }
}

// ---------------------------------------------------------------------------
// Text form, used in failure reports and in the regression files.

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Point::IntoFrame { frame, offset } => write!(f, "into({frame},{offset})"),
            Point::BeforeEnd { frame, back } => write!(f, "before_end({frame},{back})"),
            Point::Fraction { at } => write!(f, "fraction({at})"),
            Point::AfterHead { frame, shift } => write!(f, "after_head({frame},{shift})"),
        }
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cut::At(point) => point.fmt(f),
            Cut::FrameHeads { len } => write!(f, "heads({len})"),
            Cut::Boundaries { shift } => write!(f, "boundaries({shift})"),
            Cut::Every { step } => write!(f, "every({step})"),
            Cut::HeadEnds { shift } => write!(f, "head_ends({shift})"),
        }
    }
}

impl fmt::Display for Chunking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cuts.is_empty() {
            return f.write_str("whole");
        }
        for (i, cut) in self.cuts.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            cut.fmt(f)?;
        }
        Ok(())
    }
}

/// A [`Chunking`], [`Cut`] or [`Point`] that could not be parsed from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseChunkingError {
    token: String,
}

impl fmt::Display for ParseChunkingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a cut (expected into(F,N), before_end(F,N), fraction(N), \
             after_head(F,S), heads(N), boundaries(N), every(N) or head_ends(S))",
            self.token
        )
    }
}

impl std::error::Error for ParseChunkingError {}

fn call<'a>(token: &'a str, name: &str) -> Option<Vec<&'a str>> {
    let args = token
        .strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    Some(args.split(',').map(str::trim).collect())
}

impl FromStr for Cut {
    type Err = ParseChunkingError;

    fn from_str(token: &str) -> Result<Self, Self::Err> {
        let err = || ParseChunkingError {
            token: token.to_owned(),
        };
        let num = |s: &str| s.parse::<i64>().map_err(|_| err());
        let two = |args: &[&str]| -> Result<(u16, u32), ParseChunkingError> {
            match args {
                [a, b] => Ok((
                    u16::try_from(num(a)?).map_err(|_| err())?,
                    u32::try_from(num(b)?).map_err(|_| err())?,
                )),
                _ => Err(err()),
            }
        };
        let one = |args: &[&str]| match args {
            [a] => num(a),
            _ => Err(err()),
        };
        if let Some(args) = call(token, "into") {
            let (frame, offset) = two(&args)?;
            Ok(Cut::At(Point::IntoFrame { frame, offset }))
        } else if let Some(args) = call(token, "before_end") {
            let (frame, back) = two(&args)?;
            Ok(Cut::At(Point::BeforeEnd { frame, back }))
        } else if let Some(args) = call(token, "fraction") {
            let at = u16::try_from(one(&args)?).map_err(|_| err())?;
            Ok(Cut::At(Point::Fraction { at }))
        } else if let Some(args) = call(token, "after_head") {
            match args.as_slice() {
                [a, b] => Ok(Cut::At(Point::AfterHead {
                    frame: u16::try_from(num(a)?).map_err(|_| err())?,
                    shift: i8::try_from(num(b)?).map_err(|_| err())?,
                })),
                _ => Err(err()),
            }
        } else if let Some(args) = call(token, "head_ends") {
            let shift = i8::try_from(one(&args)?).map_err(|_| err())?;
            Ok(Cut::HeadEnds { shift })
        } else if let Some(args) = call(token, "heads") {
            let len = u16::try_from(one(&args)?).map_err(|_| err())?;
            Ok(Cut::FrameHeads { len })
        } else if let Some(args) = call(token, "boundaries") {
            let shift = i8::try_from(one(&args)?).map_err(|_| err())?;
            Ok(Cut::Boundaries { shift })
        } else if let Some(args) = call(token, "every") {
            let step = u16::try_from(one(&args)?).map_err(|_| err())?;
            Ok(Cut::Every { step })
        } else {
            Err(err())
        }
    }
}

impl FromStr for Point {
    type Err = ParseChunkingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<Cut>()? {
            Cut::At(point) => Ok(point),
            _ => Err(ParseChunkingError {
                token: s.to_owned(),
            }),
        }
    }
}

impl FromStr for Chunking {
    type Err = ParseChunkingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "whole" {
            return Ok(Chunking::whole());
        }
        s.split_whitespace()
            .map(str::parse)
            .collect::<Result<Vec<Cut>, _>>()
            .map(Chunking::new)
    }
}

// ---------------------------------------------------------------------------
// Strategies.

/// Frame indices: mostly the first few frames (indices wrap around the
/// number of frames, so any index names some frame).
pub fn frame_indices() -> impl Strategy<Value = u16> + Clone {
    prop_oneof![3 => 0u16..4, 1 => 0u16..64]
}

/// Offsets into a frame: every offset of a short header often, longer
/// headers (JSON, text) less often, anything up to 1 KiB now and then.
pub fn head_offsets() -> impl Strategy<Value = u32> + Clone {
    prop_oneof![6 => 0u32..=8, 3 => 0u32..=72, 1 => 0u32..=1024]
}

/// Single points, aimed at headers and frame ends: into a frame by a
/// [`head_offsets`] offset, up to two bytes before a frame's end, up to two
/// bytes either side of where the decoder showed a header ends, or
/// uniformly anywhere.
pub fn points() -> impl Strategy<Value = Point> + Clone {
    prop_oneof![
        5 => (frame_indices(), head_offsets())
            .prop_map(|(frame, offset)| Point::IntoFrame { frame, offset }),
        3 => (frame_indices(), 0u32..=2).prop_map(|(frame, back)| Point::BeforeEnd { frame, back }),
        2 => any::<u16>().prop_map(|at| Point::Fraction { at }),
        4 => (frame_indices(), -2i8..=2).prop_map(|(frame, shift)| Point::AfterHead { frame, shift }),
    ]
}

/// One cut: mostly a single [`point`](points), sometimes one-byte reads
/// through every frame's first bytes, every boundary ±2, every header end
/// ±1, or fixed-size reads.
pub fn cuts() -> impl Strategy<Value = Cut> + Clone {
    prop_oneof![
        14 => points().prop_map(Cut::At),
        2 => prop_oneof![3 => 1u16..=24, 1 => 1u16..=300].prop_map(|len| Cut::FrameHeads { len }),
        2 => (-2i8..=2).prop_map(|shift| Cut::Boundaries { shift }),
        1 => prop_oneof![1u16..=1, 1u16..=16, 1u16..=1500].prop_map(|step| Cut::Every { step }),
        2 => (-1i8..=1).prop_map(|shift| Cut::HeadEnds { shift }),
    ]
}

/// Zero to eight [`cuts`], each aimed at one shape: the whole stream in
/// one read (no cut, about one case in nine), a single point, or one
/// pattern through every frame.
pub fn sparse_chunkings() -> impl Strategy<Value = Chunking> + Clone {
    vec(cuts(), 0..=8).prop_map(Chunking::new)
}

/// Many shapes in one stream, for codecs of any format:
///
/// - one-byte reads through the first 2 to 72 bytes of one frame (every
///   prefix of a header up to that long: 2 to 12 bytes three times in
///   four);
/// - a read ending one byte before every frame's end, so that the next
///   read holds that frame's last byte and the start of the following one
///   (a whole frame completed with part of the next behind it), and in
///   half the cases one byte after every frame's end as well;
/// - one byte before where the decoder showed a header ends: every frame's
///   ([`Cut::HeadEnds`]) or one frame's ([`Point::AfterHead`]);
/// - in half the cases fixed-size reads through the whole stream (8 to 128
///   bytes, now and then 2 to 7), and up to four cuts anywhere.
///
/// Nothing in it aims at a frame boundary itself (a read ending at every
/// boundary would hide every bug that needs a read across one); the whole
/// stream in one read and single cuts are [`sparse_chunkings`]'s.
pub fn mixed_chunkings() -> impl Strategy<Value = Chunking> + Clone {
    (
        (
            frame_indices(),
            prop_oneof![3 => 2u32..=12, 1 => 13u32..=72],
        ),
        any::<bool>(),
        prop_oneof![
            Just(Cut::HeadEnds { shift: -1 }),
            frame_indices().prop_map(|frame| Cut::At(Point::AfterHead { frame, shift: -1 })),
        ],
        prop::option::weighted(0.5, prop_oneof![1 => 2u16..=7, 3 => 8u16..=128]),
        vec(any::<u16>(), 0..=4),
    )
        .prop_map(|((head, len), after, head_end, every, fractions)| {
            let mut cuts: Vec<Cut> = (1..=len)
                .map(|offset| {
                    Cut::At(Point::IntoFrame {
                        frame: head,
                        offset,
                    })
                })
                .collect();
            cuts.push(Cut::Boundaries { shift: -1 });
            if after {
                cuts.push(Cut::Boundaries { shift: 1 });
            }
            cuts.push(head_end);
            cuts.extend(every.map(|step| Cut::Every { step }));
            cuts.extend(
                fractions
                    .into_iter()
                    .map(|at| Cut::At(Point::Fraction { at })),
            );
            Chunking::new(cuts)
        })
}

/// The harness's chunkings: [`mixed_chunkings`] three cases in four,
/// [`sparse_chunkings`] the fourth. Shrinking removes cuts, then simplifies
/// each one.
pub fn chunkings() -> impl Strategy<Value = Chunking> + Clone {
    prop_oneof![1 => sparse_chunkings(), 3 => mixed_chunkings()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_resolve_relative_to_frames_and_clamp() {
        let layout = Layout::from_lens([4, 10, 0, 3]);
        let into = |frame, offset| Point::IntoFrame { frame, offset }.resolve(&layout);
        let back = |frame, back| Point::BeforeEnd { frame, back }.resolve(&layout);
        assert_eq!(into(0, 3), 3);
        assert_eq!(into(1, 0), 4);
        assert_eq!(into(1, 99), 14);
        assert_eq!(into(5, 2), 6, "index 5 wraps to frame 1");
        assert_eq!(into(2, 7), 14, "empty frame");
        assert_eq!(back(1, 1), 13);
        assert_eq!(back(3, 99), 14);
        assert_eq!(Point::Fraction { at: 32768 }.resolve(&layout), 8);
        assert_eq!(into(3, 1), 15);
        assert_eq!(
            Point::IntoFrame {
                frame: 0,
                offset: 3
            }
            .resolve(&Layout::default()),
            0
        );
    }

    #[test]
    fn set_cuts_cover_heads_boundaries_and_steps() {
        let layout = Layout::from_lens([4, 5]);
        let ends = |cut| Chunking::new(vec![cut]).read_ends(&layout);
        assert_eq!(ends(Cut::FrameHeads { len: 2 }), vec![1, 2, 4, 5, 6]);
        assert_eq!(ends(Cut::Boundaries { shift: -1 }), vec![3, 8]);
        assert_eq!(ends(Cut::Boundaries { shift: 1 }), vec![5]);
        assert_eq!(ends(Cut::Every { step: 0 }), (1..9).collect::<Vec<_>>());
        assert_eq!(ends(Cut::Every { step: 4 }), vec![4, 8]);
    }

    #[test]
    fn read_ends_stop_before_a_limit() {
        let layout = Layout::from_lens([4, 5]);
        let chunking = Chunking::new(vec![Cut::FrameHeads { len: 3 }, Cut::Every { step: 2 }]);
        let mut out = Vec::new();
        chunking.read_ends_into(&layout, 5, &mut out);
        assert_eq!(out, vec![1, 2, 3, 4]);
    }

    /// Frames long enough that no cut of the mix is clamped to a frame's
    /// end: 100 bytes each, a 4-byte header learned.
    fn long_frames() -> Layout {
        Layout::from_lens([100; 5]).with_heads(vec![Some(4); 5])
    }

    #[test]
    fn mixed_chunkings_cut_many_shapes_and_span_every_boundary() {
        use proptest::{strategy::ValueTree, test_runner::TestRunner};
        let layout = long_frames();
        let mut runner = TestRunner::deterministic();
        for _ in 0..500 {
            let chunking = mixed_chunkings().new_tree(&mut runner).unwrap().current();
            let ends = chunking.read_ends(&layout);
            // Only the fixed-size reads and the scattered cuts may land on
            // a boundary (by chance); the aimed cuts leave a read across
            // every frame's end.
            let aimed = Chunking::new(
                chunking
                    .cuts()
                    .iter()
                    .copied()
                    .filter(|c| !matches!(c, Cut::Every { .. } | Cut::At(Point::Fraction { .. })))
                    .collect(),
            );
            assert!(
                aimed
                    .read_ends(&layout)
                    .iter()
                    .all(|&at| !layout.is_boundary(at)),
                "{chunking}"
            );
            // One byte short of every frame's end.
            for &end in layout.ends() {
                assert!(ends.contains(&(end - 1)), "{chunking}: {ends:?}");
            }
            // One-byte reads through the first two bytes of some frame.
            assert!(
                (0..layout.frames()).any(|i| {
                    let start = layout.start(i);
                    [start + 1, start + 2].iter().all(|at| ends.contains(at))
                }),
                "{chunking}: {ends:?}"
            );
            // One byte before a learned header's end.
            assert!(
                (0..layout.frames()).any(|i| ends.contains(&(layout.start(i) + 3))),
                "{chunking}: {ends:?}"
            );
        }
    }

    #[test]
    fn chunkings_keep_the_sparse_shapes_a_mix_cannot_hold() {
        use proptest::{strategy::ValueTree, test_runner::TestRunner};
        let layout = long_frames();
        let mut runner = TestRunner::deterministic();
        let (mut whole, mut at_every_boundary, mut mixed) = (0, 0, 0);
        let n = 2000;
        for _ in 0..n {
            let chunking = chunkings().new_tree(&mut runner).unwrap().current();
            let ends = chunking.read_ends(&layout);
            whole += usize::from(ends.is_empty());
            at_every_boundary +=
                usize::from(layout.ends()[..4].iter().all(|end| ends.contains(end)));
            mixed += usize::from(chunking.cuts().contains(&Cut::Boundaries { shift: -1 }));
        }
        // Sparse a case in four; of those, no cut one in nine.
        assert!((n / 60..n / 20).contains(&whole), "{whole}");
        assert!(at_every_boundary > n / 50, "{at_every_boundary}");
        assert!((n * 7 / 10..n * 17 / 20).contains(&mixed), "{mixed}");
    }

    #[test]
    fn layout_locates_offsets() {
        let layout = Layout::from_lens([4, 0, 5]);
        assert_eq!(layout.frame_at(0), Some(0));
        assert_eq!(layout.frame_at(4), Some(2));
        assert_eq!(layout.frame_at(9), None);
        assert!(layout.is_boundary(4));
        assert!(!layout.is_boundary(5));
        assert_eq!(layout.complete_before(4), 2);
        assert_eq!(layout.complete_before(8), 2);
        assert_eq!(layout.complete_before(9), 3);
    }

    #[test]
    fn text_form_round_trips_and_rejects_garbage() {
        let chunking = Chunking::new(vec![
            Cut::At(Point::Fraction { at: 7 }),
            Cut::FrameHeads { len: 3 },
            Cut::Boundaries { shift: -2 },
            Cut::Every { step: 1 },
            Cut::At(Point::BeforeEnd { frame: 2, back: 1 }),
        ]);
        let text = chunking.to_string();
        assert_eq!(
            text,
            "fraction(7) heads(3) boundaries(-2) every(1) before_end(2,1)"
        );
        assert_eq!(text.parse::<Chunking>(), Ok(chunking));
        assert_eq!("whole".parse::<Chunking>(), Ok(Chunking::whole()));
        let err = "into(1) every(2)".parse::<Chunking>().unwrap_err();
        assert_eq!(err.token, "into(1)");
        assert!("heads(70000)".parse::<Chunking>().is_err());
    }
}
