//! The description of one header-prefixed frame, part by part, as the
//! `header` fuzz target receives it through `arbitrary`.

use arbitrary::Arbitrary;

/// A header-prefixed frame described by what is right or wrong with each
/// part, plus how the stream ends and how it is cut into reads.
///
/// [`HeaderCase::build`](super::HeaderCase::build) turns it into bytes and the
/// exact outcome a correct decoder must give.
#[derive(Debug, Clone, Arbitrary)]
pub struct HeaderCase {
    /// The 4-byte header length field.
    pub length: LengthField,
    /// The header limit, unless `length` sets it relative to the header.
    pub header_limit: HeaderLimit,
    /// The shape of the JSON header.
    pub json: Json,
    /// Compact JSON or Python's `json.dumps` spacing (`", "` and `": "`).
    pub python_spacing: bool,
    /// The `data_size` field.
    pub data_size: DataSize,
    /// The `filename` field.
    pub filename: StringField,
    /// The `hash` field.
    pub hash: StringField,
    /// Other fields, in order (a repeated name: the last one wins).
    pub extra: Vec<(String, ExtraValue)>,
    /// The body actually sent.
    pub body: Body,
    /// The body limit.
    pub body_limit: BodyLimit,
    /// Where the stream ends.
    pub end: End,
    /// Read sizes for the chunked decoding, used in turn (0 counts as 1).
    pub reads: Vec<u16>,
}

/// The header length field.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum LengthField {
    /// The header's real length.
    Exact,
    /// Zero: an empty header.
    Zero,
    /// A negative `i32` (this `u32` with its top bit set: a length past
    /// `i32::MAX` read as `i32`).
    Negative(u32),
    /// `i32::MAX`, the largest length the field can carry.
    I32Max,
    /// The header padded with `pad` spaces, one byte under the header limit.
    UnderLimit {
        /// Trailing spaces added to the JSON.
        pad: u8,
    },
    /// The header padded with `pad` spaces, exactly at the header limit.
    AtLimit {
        /// Trailing spaces added to the JSON.
        pad: u8,
    },
    /// The header padded with `pad` spaces, one byte over the header limit.
    OverLimit {
        /// Trailing spaces added to the JSON.
        pad: u8,
    },
}

/// The header limit, for length fields that do not set it themselves.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum HeaderLimit {
    /// [`DEFAULT_MAX_HEADER_LEN`](framecheck_codec::DEFAULT_MAX_HEADER_LEN).
    Default,
    /// This many bytes.
    Bytes(u16),
}

/// The shape of the JSON header.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Json {
    /// The object made of the described fields.
    Object,
    /// The object's first `keep` bytes (less than all of it).
    Truncated {
        /// Bytes kept, modulo the object's length, rounded down to a
        /// character boundary.
        keep: u16,
    },
    /// The object with a byte that is never valid UTF-8 inserted.
    NotUtf8 {
        /// Where, modulo the object's length plus one, rounded down to a
        /// character boundary.
        at: u16,
        /// Which invalid byte.
        byte: BadByte,
    },
    /// A JSON value that is not an object.
    NotObject(NonObject),
    /// The object with a known field repeated at its end.
    Duplicate(Known),
}

/// A byte that cannot start a UTF-8 character where it is put.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum BadByte {
    /// A lone continuation byte.
    Continuation,
    /// `0xC0`, never valid.
    OverlongLead,
    /// `0xFF`, never valid.
    Ff,
    /// A 3-byte lead followed by a quote: a cut-short character.
    CutShort,
}

impl BadByte {
    pub(super) fn bytes(self) -> &'static [u8] {
        match self {
            BadByte::Continuation => b"\x80",
            BadByte::OverlongLead => b"\xc0",
            BadByte::Ff => b"\xff",
            BadByte::CutShort => b"\xe2\"",
        }
    }
}

/// A JSON header that is valid JSON but not an object.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum NonObject {
    /// Nested arrays, this deep (at least 1; past 4096, wrapped into
    /// `1..=4096`).
    Array {
        /// Nesting depth.
        depth: u16,
    },
    /// A string.
    Str,
    /// An integer.
    Int(i32),
    /// A number with a fraction.
    Float,
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A field the codec knows by name.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Known {
    /// `data_size`
    DataSize,
    /// `filename`
    Filename,
    /// `hash`
    Hash,
}

/// The `data_size` field.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum DataSize {
    /// The body's length (before [`BodyShape`] cuts or extends it).
    Right,
    /// Absent.
    Missing,
    /// Any `u64`, unrelated to the body.
    Claims(u64),
    /// A negative integer.
    Negative(i64),
    /// A number with a fraction or an exponent (non-finite values become 1.5).
    Float(f64),
    /// A string of digits.
    Str,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Nested arrays, this deep (at least 1; past 4096, wrapped into
    /// `1..=4096`).
    Array {
        /// Nesting depth.
        depth: u16,
    },
    /// An object.
    Object,
    /// An integer beyond 64 bits: `2^64 + excess`, or `-(2^63 + 1 + excess)`.
    Beyond64 {
        /// Below `i64::MIN` rather than above `u64::MAX`.
        negative: bool,
        /// How far beyond.
        excess: u64,
    },
    /// A number beyond `f64` (`1e400`), which JSON parsers refuse.
    OutOfRange {
        /// `-1e400` rather than `1e400`.
        negative: bool,
    },
}

/// The `filename` or `hash` field.
#[derive(Debug, Clone, Arbitrary)]
pub enum StringField {
    /// Absent.
    Absent,
    /// A string (escaped as JSON requires).
    Str(String),
    /// An integer.
    Int(i64),
    /// A number with a fraction.
    Float,
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// The value of a field the codec keeps in `extra`.
#[derive(Debug, Clone, Arbitrary)]
pub enum ExtraValue {
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A number with a fraction (non-finite values become 0.5).
    Float(f64),
    /// An integer with 20 to 300 digits (read as a float).
    HugeInt {
        /// Digits, modulo 281, plus 20.
        digits: u16,
    },
    /// Nested arrays, this deep (at least 1); past the JSON parser's
    /// recursion limit the header is not JSON.
    Nested {
        /// Nesting depth.
        depth: u8,
    },
    /// `1e400`, beyond `f64`: the header is not JSON.
    OutOfRange,
}

/// The body actually sent, relative to what `data_size` says.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Body {
    /// Its length when `data_size` is [`DataSize::Right`] and the shape is
    /// exact.
    pub len: u16,
    /// The byte it is made of (top bit forced on, so that leftover body
    /// bytes read as a negative length field).
    pub fill: u8,
    /// Shorter, exact or longer than announced.
    pub shape: BodyShape,
}

/// Shorter, exact or longer than announced.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum BodyShape {
    /// As long as announced.
    Exact,
    /// This many bytes short (at most the whole body).
    Short(u16),
    /// This many bytes longer.
    Long(u16),
}

/// The body limit.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum BodyLimit {
    /// [`DEFAULT_MAX_BODY_LEN`](framecheck_codec::DEFAULT_MAX_BODY_LEN).
    Default,
    /// This many bytes.
    Bytes(u16),
    /// Exactly the announced `data_size`, capped at the default limit.
    AtDataSize,
    /// One byte under the announced `data_size`, capped at the default
    /// limit.
    UnderDataSize,
}

/// Where the stream ends.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum End {
    /// After everything described.
    Complete,
    /// After this many bytes (modulo the stream's length plus one).
    CutAt(u16),
}
