//! Memory bounded by bytes received: while a decoder has been fed `N`
//! bytes, its largest single allocation and its live bytes stay at most
//! `k × N + C`.
//!
//! A decoder that sizes a buffer from a count the peer claims
//! (`Vec::with_capacity(n)` from an array header, a body reserved from a
//! length field before its limit check) lets a 15-byte input ask for
//! terabytes. The property feeds the decoder streams an attacker could
//! send, read by read as `FramedRead` does, and watches every allocation
//! the decoding thread makes ([`framecheck_alloc`], which the test binary
//! installs as its global allocator):
//!
//! ```text
//!   reads:       |--- read 0 ---|------ read 1 ------|---- read 2 ----|
//!   bytes fed:                  4                   12               20
//!   budget:             k×4 + C            k×12 + C         k×20 + C
//!   decoder:  head parsed, Vec::with_capacity(0xffffffff × 4)
//!                       ^ 17 179 869 184 bytes > k×4 + C: the failure
//! ```
//!
//! The streams ([`Hostile`]) start from frames the codec itself encodes,
//! so they get past its first checks, and then make claims big: the first
//! bytes of a frame overwritten with `ff` or with a number (any length or
//! count field in the first 16 bytes, either byte order), a run of ASCII
//! digits replaced by a number (text counts such as RESP's `*3\r\n` or
//! JSON's `"data_size":12`; a length field before it changed to match, so
//! that the frame still parses), the honest stream cut short, or left as it
//! is. A number is tried at every length from 12 to 36 bits, so that a
//! claim between the bound and the decoder's own limit is always among
//! them when the field is hit.
//!
//! The bound defaults to `k = 8` ([`DEFAULT_PER_BYTE`]: the read buffer
//! doubling as it grows, the frames decoded from it, and a parse tree
//! several times the size of its text) and `C = 1 MiB`
//! ([`DEFAULT_CONSTANT`]: what a decoder may hold before any byte arrives,
//! buffers of fixed size and limit-bounded reservations).
//! [`Harness::alloc_bound`] changes both: a decoder that reserves up to its
//! frame limit as soon as a header arrives (tokio-util's
//! `LengthDelimitedCodec` does, up to its 8 MiB `max_frame_length`) needs
//! `C` above that limit, or a smaller limit.

use std::fmt::{self, Debug, Write as _};
use std::panic::Location;

use bytes::BytesMut;
use framecheck_alloc::{Served, Stats, Violation, Watch};
use proptest::{
    prelude::*,
    test_runner::{TestCaseError, TestError},
};
use tokio_util::codec::Decoder;

use crate::{
    case::Pieces,
    chunk::{chunkings, points, Chunking, Layout, Point},
    drive::{feed_with, quietly, ReadLimit, Sink, When},
    failure::{Failure, FailureKind},
    Harness, TestableCodec,
};

/// Default `k` of the bound `k × N + C`: bytes of allocation allowed per
/// byte received.
pub const DEFAULT_PER_BYTE: usize = 8;

/// Default `C` of the bound `k × N + C`, in bytes (1 MiB).
pub const DEFAULT_CONSTANT: usize = 1 << 20;

/// The read buffer's capacity before the first read, as `FramedRead`'s (it
/// is allocated before the watch starts, so it is not counted).
pub(crate) const READ_BUFFER: usize = 8 * 1024;

/// Bytes of the stream shown in a report.
const SHOWN: usize = 64;

/// The bound `k × N + C` of the allocation property.
///
/// ```
/// use framecheck::AllocBound;
///
/// let bound = AllocBound::default();
/// assert_eq!(bound.at(0), 1 << 20);
/// assert_eq!(AllocBound::new(2, 100).at(10), 120);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocBound {
    per_byte: usize,
    constant: usize,
}

impl Default for AllocBound {
    fn default() -> Self {
        AllocBound::new(DEFAULT_PER_BYTE, DEFAULT_CONSTANT)
    }
}

impl AllocBound {
    /// `per_byte × N + constant`.
    pub const fn new(per_byte: usize, constant: usize) -> Self {
        AllocBound { per_byte, constant }
    }

    /// `k`: bytes allowed per byte received.
    pub fn per_byte(&self) -> usize {
        self.per_byte
    }

    /// `C`: bytes allowed before any byte is received.
    pub fn constant(&self) -> usize {
        self.constant
    }

    /// The bound once `fed` bytes have arrived (saturating).
    pub fn at(&self, fed: usize) -> usize {
        self.per_byte
            .saturating_mul(fed)
            .saturating_add(self.constant)
    }
}

impl fmt::Display for AllocBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} × N + {} bytes",
            self.per_byte,
            grouped(self.constant)
        )
    }
}

/// What the property does to the codec's own encoding before feeding it:
/// the stream an attacker would send.
///
/// Frame indices wrap around the number of frames; a write past the end of
/// the stream extends it with zeros (so an empty list of frames still gets
/// hostile bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// The stream as encoded.
    Honest,
    /// The stream cut short at a point: every claim true, bytes missing.
    Truncated {
        /// Where the stream ends.
        at: Point,
    },
    /// `len` bytes from `offset` into frame `frame` set to `byte`.
    Fill {
        /// Frame index, modulo the number of frames.
        frame: u16,
        /// Bytes into the frame.
        offset: u8,
        /// How many bytes.
        len: u8,
        /// Their new value.
        byte: u8,
    },
    /// `value` written `offset` bytes into frame `frame`, in `width` bytes.
    Number {
        /// Frame index, modulo the number of frames.
        frame: u16,
        /// Bytes into the frame.
        offset: u8,
        /// 1, 2, 4 or 8 bytes.
        width: u8,
        /// Byte order.
        big_endian: bool,
        /// The number (its low `width` bytes).
        value: u64,
    },
    /// The `run`-th run of ASCII digits in frame `frame` (modulo the
    /// number of runs; nothing if it has none) replaced by `value` in
    /// decimal, and the number in `length` (a field counting the bytes
    /// that follow, which must change with them) changed by as many bytes.
    Digits {
        /// Frame index, modulo the number of frames.
        frame: u16,
        /// Which run of digits.
        run: u8,
        /// The new number.
        value: u64,
        /// The field that counts the bytes after it, if any.
        length: Option<Field>,
    },
}

/// A number field in a frame's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Bytes into the frame.
    pub offset: u8,
    /// 1, 2, 4 or 8 bytes.
    pub width: u8,
    /// Byte order.
    pub big_endian: bool,
}

impl Field {
    /// Adds `n` to the field (wrapping at its width) at `at` in `bytes`, if
    /// it lies inside.
    fn add(&self, bytes: &mut [u8], at: usize, n: i64) {
        let width = usize::from(self.width.clamp(1, 8));
        let Some(field) = bytes
            .get_mut(at + usize::from(self.offset)..)
            .and_then(|rest| rest.get_mut(..width))
        else {
            return;
        };
        let mut buf = [0u8; 8];
        let value = if self.big_endian {
            buf[8 - width..].copy_from_slice(field);
            u64::from_be_bytes(buf)
        } else {
            buf[..width].copy_from_slice(field);
            u64::from_le_bytes(buf)
        };
        let sum = value.wrapping_add_signed(n);
        if self.big_endian {
            field.copy_from_slice(&sum.to_be_bytes()[8 - width..]);
        } else {
            field.copy_from_slice(&sum.to_le_bytes()[..width]);
        }
    }
}

impl Hostile {
    /// The stream fed to the decoder: `stream` (laid out as `layout`)
    /// changed as this says.
    ///
    /// ```
    /// use framecheck::{chunk::Layout, Field, Hostile};
    ///
    /// let layout = Layout::from_lens([4, 6]);
    /// let fill = Hostile::Fill { frame: 1, offset: 0, len: 2, byte: 0xff };
    /// assert_eq!(fill.apply(b"aaaabbbbbb", &layout), b"aaaa\xff\xffbbbb");
    /// let digits = Hostile::Digits { frame: 0, run: 0, value: 12999, length: None };
    /// assert_eq!(digits.apply(b"*12\r\n", &Layout::from_lens([5])), b"*12999\r\n");
    /// // A JSON header after its 4-byte little-endian length, kept consistent.
    /// let length = Some(Field { offset: 0, width: 4, big_endian: false });
    /// let digits = Hostile::Digits { frame: 0, run: 0, value: 500, length };
    /// let frame = b"\x0a\0\0\0{\"size\":5}";
    /// assert_eq!(digits.apply(frame, &Layout::from_lens([14])), b"\x0c\0\0\0{\"size\":500}");
    /// ```
    pub fn apply(&self, stream: &[u8], layout: &Layout) -> Vec<u8> {
        let start = |frame: u16| match layout.frames() {
            0 => 0,
            n => layout.start(usize::from(frame) % n),
        };
        let mut out = stream.to_vec();
        let mut write = |at: usize, bytes: &[u8]| {
            if out.len() < at + bytes.len() {
                out.resize(at + bytes.len(), 0);
            }
            out[at..at + bytes.len()].copy_from_slice(bytes);
        };
        match *self {
            Hostile::Honest => {}
            Hostile::Truncated { at } => out.truncate(at.resolve(layout)),
            Hostile::Fill {
                frame,
                offset,
                len,
                byte,
            } => write(
                start(frame) + usize::from(offset),
                &vec![byte; usize::from(len)],
            ),
            Hostile::Number {
                frame,
                offset,
                width,
                big_endian,
                value,
            } => {
                let width = usize::from(width.clamp(1, 8));
                let bytes = if big_endian {
                    value.to_be_bytes()[8 - width..].to_vec()
                } else {
                    value.to_le_bytes()[..width].to_vec()
                };
                write(start(frame) + usize::from(offset), &bytes);
            }
            Hostile::Digits {
                frame,
                run,
                value,
                length,
            } => {
                let Some(i) = (layout.frames() > 0).then(|| usize::from(frame) % layout.frames())
                else {
                    return out;
                };
                let bytes = &stream[layout.start(i)..layout.end(i)];
                let runs: Vec<usize> = (0..bytes.len())
                    .filter(|&j| {
                        bytes[j].is_ascii_digit()
                            && bytes.get(j + 1).is_none_or(|b| !b.is_ascii_digit())
                    })
                    .collect();
                if let Some(&last) = runs.get(usize::from(run) % runs.len().max(1)) {
                    let first = (0..=last)
                        .rev()
                        .take_while(|&j| bytes[j].is_ascii_digit())
                        .last()
                        .unwrap_or(last);
                    let (from, to) = (layout.start(i) + first, layout.start(i) + last + 1);
                    let text = value.to_string();
                    let grown = text.len() as i64 - (to - from) as i64;
                    out.splice(from..to, text.bytes());
                    if let Some(field) = length {
                        field.add(&mut out, layout.start(i), grown);
                    }
                }
            }
        }
        out
    }
}

/// The magnitudes [`Hostile::magnitudes`] tries, in bits.
const MAGNITUDES: [u32; 13] = [12, 14, 16, 18, 20, 21, 22, 23, 24, 26, 28, 32, 36];

impl Hostile {
    /// This change, then, for a [`Hostile::Number`] or [`Hostile::Digits`],
    /// the same change with its number made 12, 14, … 36 bits long (its
    /// low bits kept): the variants one case feeds.
    ///
    /// ```
    /// use framecheck::Hostile;
    ///
    /// let digits = Hostile::Digits { frame: 0, run: 0, value: 5, length: None };
    /// let values: Vec<u64> = digits
    ///     .magnitudes()
    ///     .map(|h| match h { Hostile::Digits { value, .. } => value, _ => unreachable!() })
    ///     .collect();
    /// assert_eq!(values[..3], [5, 2048 | 5, 8192 | 5]);
    /// assert_eq!(values.len(), 14);
    /// ```
    pub fn magnitudes(&self) -> impl Iterator<Item = Hostile> + '_ {
        let sweep = matches!(self, Hostile::Number { .. } | Hostile::Digits { .. });
        let with = move |bits: u32| {
            let mut h = *self;
            if let Hostile::Number { value, .. } | Hostile::Digits { value, .. } = &mut h {
                let low = (1u64 << (bits - 1)) - 1;
                *value = (1 << (bits - 1)) | (*value & low);
            }
            h
        };
        std::iter::once(*self).chain(
            MAGNITUDES
                .iter()
                .filter(move |_| sweep)
                .map(move |&bits| with(bits)),
        )
    }
}

impl fmt::Display for Hostile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Hostile::Honest => f.write_str("the stream as encoded"),
            Hostile::Truncated { at } => write!(f, "the stream cut short at {at}"),
            Hostile::Fill {
                frame,
                offset,
                len,
                byte,
            } => write!(
                f,
                "frame {frame}: {len} bytes from byte {offset} set to {byte:02x}"
            ),
            Hostile::Number {
                frame,
                offset,
                width,
                big_endian,
                value,
            } => write!(
                f,
                "frame {frame}: {value} written at byte {offset} as a {width}-byte {} number",
                if big_endian {
                    "big-endian"
                } else {
                    "little-endian"
                }
            ),
            Hostile::Digits {
                frame,
                run,
                value,
                length,
            } => {
                write!(f, "frame {frame}: its digit run {run} replaced by {value}")?;
                match length {
                    Some(l) => write!(
                        f,
                        ", the {}-byte {} field at byte {} changed to match",
                        l.width,
                        if l.big_endian {
                            "big-endian"
                        } else {
                            "little-endian"
                        },
                        l.offset
                    ),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The hostile changes the property makes, aimed at length and count
/// fields without knowing the format: mostly the first 16 bytes of a frame
/// (offsets 0 to 7 most often) set to `ff` or to a number of 12 to 36 bits
/// in either byte order, a digit run (mostly a frame's first) replaced by
/// such a number, and now and then the honest stream, whole or cut short.
/// Each case with a number also tries it at every length from 12 to 36
/// bits ([`Hostile::magnitudes`]), so that a claim just above the bound and
/// below the decoder's own limit is not left to chance. Claims stay below
/// 2^47 bytes for element sizes up to 1 KiB, so that they can be reserved
/// (see [`framecheck_alloc`]).
pub fn hostiles() -> impl Strategy<Value = Hostile> + Clone {
    let frame = prop_oneof![3 => 0u16..2, 1 => 0u16..8];
    let offset = prop_oneof![3 => 0u8..8, 1 => 0u8..16];
    let length = prop_oneof![
        1 => Just(None),
        2 => any::<bool>().prop_map(|big_endian| Some(Field { offset: 0, width: 4, big_endian })),
        1 => (0u8..4, prop_oneof![Just(1u8), Just(2), Just(4)], any::<bool>())
            .prop_map(|(offset, width, big_endian)| Some(Field { offset, width, big_endian })),
    ];
    prop_oneof![
        1 => Just(Hostile::Honest),
        1 => points().prop_map(|at| Hostile::Truncated { at }),
        4 => (frame.clone(), offset.clone(), 1u8..=8, prop_oneof![3 => Just(0xffu8), 1 => any::<u8>()])
            .prop_map(|(frame, offset, len, byte)| Hostile::Fill { frame, offset, len, byte }),
        3 => (frame.clone(), offset, prop_oneof![Just(2u8), Just(4), Just(8)], any::<bool>(), 12u32..=36, any::<u64>())
            .prop_map(|(frame, offset, width, big_endian, bits, noise)| Hostile::Number {
                frame,
                offset,
                width,
                big_endian,
                value: (1 << (bits - 1)) | (noise & ((1 << (bits - 1)) - 1)),
            }),
        3 => (frame, prop_oneof![3 => Just(0u8), 1 => 0u8..4], 12u32..=36, any::<u64>(), length)
            .prop_map(|(frame, run, bits, noise, length)| Hostile::Digits {
                frame,
                run,
                value: (1 << (bits - 1)) | (noise & ((1 << (bits - 1)) - 1)),
                length,
            }),
    ]
}

/// Where a watched feeding stopped being within the bound.
struct Over {
    /// The first request over the budget (none for a capacity overflow).
    violation: Option<Violation>,
    /// Rust's "capacity overflow" panic: a request above `isize::MAX`.
    overflow: Option<String>,
    /// The read (`None`: in `decode_eof`) and the bytes fed by then.
    read: Option<usize>,
    fed: usize,
    /// Frames decoded before.
    frames: usize,
}

/// A [`Sink`] for a watched feeding: sets the budget to `bound.at(bytes
/// fed)` before each read, counts the frames (dropping each at once, so
/// they never add to the live bytes), and stops the feeding at the first
/// request over the budget.
pub(crate) struct Watched<'w> {
    watch: &'w Watch,
    bound: AllocBound,
    total: usize,
    /// Frames decoded so far.
    pub(crate) frames: usize,
    /// The read in progress (`None`: in `decode_eof`) and the bytes fed.
    pub(crate) read: Option<usize>,
    pub(crate) fed: usize,
}

impl<'w> Watched<'w> {
    /// Budgets `watch` for a stream of `total` bytes, none of them fed yet.
    pub(crate) fn new(watch: &'w Watch, bound: AllocBound, total: usize) -> Self {
        watch.set_fed(0);
        watch.set_budget(bound.at(0));
        Watched {
            watch,
            bound,
            total,
            frames: 0,
            read: None,
            fed: 0,
        }
    }

    /// The watch it budgets.
    pub(crate) fn watch(&self) -> &'w Watch {
        self.watch
    }

    fn fed(&mut self, fed: usize) {
        self.fed = fed;
        self.watch.set_fed(fed);
        self.watch.set_budget(self.bound.at(fed));
    }
}

impl<T> Sink<T> for Watched<'_> {
    fn read(&mut self, read: usize, end: usize) {
        self.read = Some(read);
        self.fed(end);
    }

    fn eof(&mut self) {
        self.read = None;
        self.fed(self.total);
    }

    fn item(&mut self, item: T, _: usize, _: When) -> bool {
        drop(item);
        self.frames += 1;
        true
    }

    fn halt(&mut self, _: &BytesMut) -> bool {
        self.watch.violation().is_some()
    }
}

/// Feeds `stream` to `decoder` in reads ending at `ends` (sorted, inside
/// the stream) through the crate's one FramedRead-style loop
/// ([`feed_with`]), with this thread's allocations watched and budgeted at
/// `bound.at(bytes fed)` during each read ([`Watched`]). Stops at the
/// first request over the budget, the first error or panic, or a decoder
/// returning more frames than the stream has bytes. The read buffer (8
/// KiB, as `FramedRead`'s) is allocated before the watch starts.
fn watch_feed<D: Decoder>(
    decoder: &mut D,
    stream: &[u8],
    ends: &[usize],
    bound: AllocBound,
) -> (Stats, Option<Over>) {
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    let watch = Watch::start();
    watch.set_input(stream);
    let mut sink = Watched::new(&watch, bound, stream.len());
    let result = quietly(|| {
        feed_with(
            decoder,
            &mut buf,
            stream,
            ends.iter().copied(),
            ReadLimit::Unlimited,
            stream.len(),
            &mut sink,
        )
    });
    let stats = watch.stats();
    let violation = watch.violation();
    let Watched {
        frames, read, fed, ..
    } = sink;
    drop(watch);
    let overflow = result.err().filter(|m| m.contains("capacity overflow"));
    let over = (violation.is_some() || overflow.is_some()).then_some(Over {
        violation,
        overflow,
        read,
        fed,
        frames,
    });
    (stats, over)
}

/// Sorted, deduplicated read ends strictly inside a stream of `len` bytes.
fn inside(read_ends: &[usize], len: usize) -> Vec<usize> {
    let mut ends: Vec<usize> = read_ends
        .iter()
        .copied()
        .filter(|&e| e > 0 && e < len)
        .collect();
    ends.sort_unstable();
    ends.dedup();
    ends
}

/// Whether framecheck's tracking allocator is this program's global
/// allocator ([`framecheck_alloc::installed`]), asked once: a program's
/// global allocator is fixed when it is linked.
pub(crate) fn tracking_installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(framecheck_alloc::installed)
}

/// The failure of a run without framecheck's tracking allocator.
pub(crate) fn not_installed() -> Failure {
    Failure::new(
        FailureKind::AllocatorNotInstalled,
        "the allocation property needs framecheck's tracking allocator, and this test binary \
         does not install it"
            .to_owned(),
        "add these two lines to the test file (once per test binary; framecheck::alloc is the \
         framecheck-alloc crate):\n\n    #[global_allocator]\n    static ALLOC: \
         framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();\n\nwithout them \
         no allocation can be seen, and the property would pass whatever the decoder does\n"
            .to_owned(),
    )
}

/// The report of a feeding that went over the bound. `layout` and `what`
/// (the frames and how the stream was made) when the stream came from
/// frames.
fn over_failure(
    over: &Over,
    stream: &[u8],
    ends: &[usize],
    bound: AllocBound,
    frames_text: Option<(&Layout, String)>,
) -> Failure {
    let fed = over.fed;
    let limit = bound.at(fed);
    let after = format!(
        "after {} of the stream's {} bytes had arrived",
        grouped(fed),
        grouped(stream.len())
    );
    let bound_text = format!(
        "bound {} × {} + {} = {} bytes",
        bound.per_byte(),
        grouped(fed),
        grouped(bound.constant()),
        grouped(limit)
    );
    let (size, headline) = match (&over.violation, &over.overflow) {
        (Some(v), _) if v.single() => (
            v.size,
            format!(
                "the decoder asked for {} bytes in one allocation {after} ({bound_text})",
                grouped(v.size)
            ),
        ),
        (Some(v), _) => (
            v.size,
            format!(
                "the decoder held {} live bytes {after} ({bound_text}); its last allocation was \
                 {} bytes",
                grouped(v.live),
                grouped(v.size)
            ),
        ),
        (None, overflow) => (
            usize::MAX,
            format!(
                "the decoder asked for more than isize::MAX bytes {after}: {}",
                overflow.as_deref().unwrap_or("capacity overflow")
            ),
        ),
    };
    let mut body = String::new();
    let at = match over.read {
        Some(r) => format!("during read {r}, which ended at byte {}", grouped(fed)),
        None => "in decode_eof, after the whole stream".to_owned(),
    };
    let _ = writeln!(
        body,
        "where: {at}{}",
        frames_text
            .as_ref()
            .map_or(String::new(), |(layout, _)| locate(layout, fed))
    );
    if let Some(v) = &over.violation {
        let served = match v.served {
            Served::Lazy => "reserved lazily (address space only: the test process survives)",
            Served::Refused => "refused: not even the address space was there",
            _ => "served by the system allocator",
        };
        let _ = writeln!(body, "the request was {served}");
    }
    let _ = writeln!(body, "frames decoded before it: {}", over.frames);
    if let Some((_, what)) = &frames_text {
        let _ = writeln!(body, "{what}");
    }
    let _ = writeln!(body, "stream ({} bytes): {}", stream.len(), hex(stream));
    let _ = writeln!(
        body,
        "reads ({}): {}",
        ends.len() + 1,
        reads_text(ends, stream.len())
    );
    let _ = writeln!(
        body,
        "bound: {bound} (Harness::alloc_bound(k, C) sets it; a decoder that reserves up to a \
         limit before the bytes arrive needs C above that limit)"
    );
    Failure::new(
        FailureKind::AllocationOverBound {
            size,
            fed,
            bound: limit,
        },
        headline,
        body,
    )
}

/// ", frame 2, 4 bytes into its 10-byte encoding"
fn locate(layout: &Layout, offset: usize) -> String {
    match layout.frame_at(offset) {
        Some(i) if offset > layout.start(i) => format!(
            ", {} bytes into frame {i}'s {}-byte encoding",
            offset - layout.start(i),
            layout.end(i) - layout.start(i)
        ),
        Some(i) => format!(", where frame {i} starts"),
        None if layout.frames() > 0 && offset == layout.total() => {
            ", the end of the last frame".to_owned()
        }
        None => String::new(),
    }
}

fn reads_text(ends: &[usize], total: usize) -> String {
    const LIMIT: usize = 12;
    let mut start = 0;
    let mut parts = Vec::new();
    for &end in ends.iter().chain(std::iter::once(&total)).take(LIMIT) {
        parts.push(format!("{start}..{end}"));
        start = end;
    }
    if ends.len() + 1 > LIMIT {
        parts.push(format!("… {} more", ends.len() + 1 - LIMIT));
    }
    parts.join(", ")
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for b in bytes.iter().take(SHOWN) {
        let _ = write!(out, "{b:02x} ");
    }
    if bytes.len() > SHOWN {
        let _ = write!(out, "… (+{} bytes)", bytes.len() - SHOWN);
    }
    out.trim_end().to_owned()
}

/// 17179869184 as "17 179 869 184".
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// One case of the allocation property, for any decoder and any bytes (a
/// fuzz target's, say): feeds `stream` to `decoder` in reads ending at
/// `read_ends` (as [`decode_in_reads`](crate::decode_in_reads) takes them)
/// and checks that after each read of `N` bytes in all, no single
/// allocation and no live total of the decoding thread went over
/// `bound.at(N)`. Returns what the watch counted.
///
/// # Errors
///
/// [`FailureKind::AllocationOverBound`] for the first request over the
/// bound (or a request past `isize::MAX`, which Rust turns into a
/// "capacity overflow" panic); [`FailureKind::AllocatorNotInstalled`]
/// when the test binary does not install
/// [`framecheck::alloc::Tracking`](framecheck_alloc::Tracking).
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use framecheck::{alloc_case, AllocBound, FailureKind};
/// use tokio_util::codec::{Decoder, LengthDelimitedCodec};
///
/// #[global_allocator]
/// static ALLOC: framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();
///
/// let stream = b"\0\0\0\x05hello";
/// alloc_case(&mut LengthDelimitedCodec::new(), stream, &[2, 4], AllocBound::default()).unwrap();
///
/// // A count of u32 elements, reserved as soon as it arrives.
/// struct Greedy;
/// impl Decoder for Greedy {
///     type Item = Vec<u32>;
///     type Error = std::io::Error;
///     fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<Vec<u32>>> {
///         let Some(&[a, b, c, d]) = src.get(..4) else { return Ok(None) };
///         let n = u32::from_be_bytes([a, b, c, d]) as usize;
///         let _elements: Vec<u32> = Vec::with_capacity(n);
///         Ok(None)
///     }
/// }
/// let failure = alloc_case(&mut Greedy, b"\xff\xff\xff\xff", &[], AllocBound::default())
///     .unwrap_err();
/// assert_eq!(
///     failure.kind(),
///     &FailureKind::AllocationOverBound { size: 17_179_869_180, fed: 4, bound: (1 << 20) + 32 }
/// );
/// ```
pub fn alloc_case<D: Decoder>(
    decoder: &mut D,
    stream: &[u8],
    read_ends: &[usize],
    bound: AllocBound,
) -> Result<Stats, Failure> {
    if !tracking_installed() {
        return Err(not_installed());
    }
    let ends = inside(read_ends, stream.len());
    match watch_feed(decoder, stream, &ends, bound) {
        (stats, None) => Ok(stats),
        (_, Some(over)) => Err(over_failure(&over, stream, &ends, bound, None)),
    }
}

/// One case of [`Harness::check_alloc_bound`]: `frames` encoded by a codec
/// from `make_codec`, changed as `hostile` says, cut into reads by
/// `chunking`, fed to a fresh decoder.
fn frames_case<C, I>(
    make_codec: &dyn Fn() -> C,
    frames: &[I],
    hostile: &Hostile,
    chunking: &Chunking,
    bound: AllocBound,
) -> Result<(), Failure>
where
    C: TestableCodec<I>,
    I: Clone + Debug,
{
    let (encoded, layout) = Pieces::encode_all(make_codec, frames)?;
    let mut ends = Vec::new();
    let found = hostile.magnitudes().find_map(|hostile| {
        let stream = hostile.apply(&encoded, &layout);
        chunking.read_ends_into(&layout, layout.total().min(stream.len()), &mut ends);
        let ends = inside(&ends, stream.len());
        let (_, over) = watch_feed(&mut make_codec(), &stream, &ends, bound);
        over.map(|over| (over, hostile, stream, ends))
    });
    let Some((over, hostile, stream, ends)) = found else {
        return Ok(());
    };
    let what = format!(
        "input: {} as the codec encoded them ({} bytes), then {hostile}; chunking \
         {chunking}\nframes: {}",
        match frames.len() {
            1 => "1 frame".to_owned(),
            n => format!("{n} frames"),
        },
        layout.total(),
        short(&frames)
    );
    Err(over_failure(&over, &stream, &ends, bound, Some((&layout, what))).with_chunking(chunking))
}

fn short(value: &dyn Debug) -> String {
    const WIDTH: usize = 400;
    let text = format!("{value:?}");
    match text.char_indices().nth(WIDTH) {
        Some((cut, _)) => format!("{}… (+{} chars)", &text[..cut], text.len() - cut),
        None => text,
    }
}

impl Harness {
    /// Sets the bound of [`Harness::check_alloc_bound`] to
    /// `per_byte × N + constant` bytes (default: [`DEFAULT_PER_BYTE`] and
    /// [`DEFAULT_CONSTANT`]).
    #[must_use]
    pub fn alloc_bound(mut self, per_byte: usize, constant: usize) -> Self {
        self.alloc = AllocBound::new(per_byte, constant);
        self
    }

    /// [`check_alloc_bound`] with these settings.
    ///
    /// # Errors
    ///
    /// The minimal failing case's [`Failure`], or
    /// [`FailureKind::AllocatorNotInstalled`].
    #[track_caller]
    pub fn check_alloc_bound<C, I, F, S>(&self, make_codec: F, frames: S) -> Result<(), Failure>
    where
        F: Fn() -> C,
        C: TestableCodec<I>,
        I: Clone + Debug,
        S: Strategy<Value = Vec<I>>,
    {
        if !framecheck_alloc::installed() {
            return Err(not_installed());
        }
        let bound = self.alloc;
        let (mut runner, _) = self.runner(
            Location::caller(),
            format!("alloc {}", std::any::type_name::<C>()),
        );
        let case = |(frames, hostile, chunking): &(Vec<I>, Hostile, Chunking)| {
            frames_case(&make_codec, frames, hostile, chunking, bound)
        };
        let result = runner.run(&(frames, hostiles(), chunkings()), |v| {
            case(&v).map_err(|f| TestCaseError::fail(f.headline().to_owned()))
        });
        let value = match result {
            Ok(()) => return Ok(()),
            Err(TestError::Abort(reason)) => {
                return Err(Failure::new(
                    FailureKind::Aborted,
                    format!("proptest gave up: {reason}"),
                    String::new(),
                ))
            }
            Err(TestError::Fail(_, value)) => value,
        };
        let cases = runner.config().cases;
        match case(&value) {
            Err(failure) => Err(failure.with_note(&format!(
                "minimal failing case (proptest, up to {cases} cases, shrunk):"
            ))),
            Ok(()) => Err(Failure::new(
                FailureKind::Nondeterministic,
                "a case went over the memory bound once and not when run again".to_owned(),
                format!("case: {value:?}\n"),
            )),
        }
    }
}

/// Checks that `make_codec`'s decoder keeps its memory bounded by the
/// bytes it has received: frames from `frames`, encoded by the codec,
/// made hostile ([`hostiles`]) and cut into reads ([`chunkings`]), are fed
/// to a fresh decoder; after each read of `N` bytes in all, no single
/// allocation of the decoding thread and none of its live totals may
/// exceed `8 × N + 1 MiB` ([`Harness::alloc_bound`] changes it).
///
/// The test binary must install framecheck's tracking allocator (without
/// it the property fails, saying how):
///
/// ```text
/// #[global_allocator]
/// static ALLOC: framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();
/// ```
///
/// # Errors
///
/// The minimal failing case's [`Failure`] (kind
/// [`FailureKind::AllocationOverBound`]), or
/// [`FailureKind::AllocatorNotInstalled`].
///
/// # Examples
///
/// ```
/// use framecheck::{strategies, Harness};
/// use tokio_util::codec::{LengthDelimitedCodec, LinesCodec};
///
/// #[global_allocator]
/// static ALLOC: framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();
///
/// // Reserves at most its frame limit before the body arrives: keep the
/// // limit below the bound's constant.
/// let lengths = || LengthDelimitedCodec::builder().max_frame_length(256 * 1024).new_codec();
/// framecheck::check_alloc_bound(lengths, strategies::byte_frames()).unwrap();
/// framecheck::check_alloc_bound(|| LinesCodec::new_with_max_length(4096), strategies::lines())
///     .unwrap();
/// ```
#[track_caller]
pub fn check_alloc_bound<C, I, F, S>(make_codec: F, frames: S) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    Harness::new().check_alloc_bound(make_codec, frames)
}

/// [`check_alloc_bound`], panicking with the failure report.
///
/// # Panics
///
/// With the minimal failing case's report when the property fails.
#[track_caller]
pub fn assert_alloc_bound<C, I, F, S>(make_codec: F, frames: S)
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    if let Err(failure) = Harness::new().check_alloc_bound(make_codec, frames) {
        panic!("memory not bounded by bytes received: {failure}");
    }
}
