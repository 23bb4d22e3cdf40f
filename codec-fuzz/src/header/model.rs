//! From a [`HeaderCase`] to bytes and the outcome a correct decoder gives,
//! computed from the description alone (never by asking the codec).

use std::sync::OnceLock;

use bytes::Bytes;
use framecheck_codec::{
    Frame, FrameError, FramePart, Header, JsonType, Limits, DATA_SIZE, DEFAULT_MAX_BODY_LEN,
    DEFAULT_MAX_HEADER_LEN, FILENAME, HASH,
};
use serde_json::{Map, Value};

use super::desc::{
    Body, BodyLimit, BodyShape, DataSize, End, ExtraValue, HeaderCase, HeaderLimit, Json, Known,
    LengthField, NonObject, StringField,
};

/// Arrays nested inside a header field's value that serde_json still parses
/// (its recursion limit is 128 levels: the header object, its value, and
/// the arrays inside; measured, 127 levels fail).
const MAX_EXTRA_NESTING: usize = 126;
/// Largest nesting generated for values the codec only drains.
const MAX_DRAINED_NESTING: usize = 4096;

/// A drained value's nesting from its described depth: `1..=4096` as is
/// (0 as 1), larger ones wrapped into that range, so that every depth is as
/// likely as any other rather than almost all at the largest (which made
/// draining the deepest arrays most of what the `header` target did).
fn drained_depth(depth: u16) -> usize {
    (usize::from(depth).max(1) - 1) % MAX_DRAINED_NESTING + 1
}
/// `2^63`, as `i128`.
const TWO_POW_63: i128 = 1 << 63;

/// The error a correct decoder must report.
#[derive(Debug, Clone, PartialEq)]
pub enum WantError {
    /// Exactly this error.
    Exact(FrameError),
    /// [`FrameError::HeaderNotJson`] (its message and position are
    /// serde_json's business).
    NotJson,
    /// [`FrameError::DataSizeTooLarge`] with `approx` within a relative
    /// 1e-12 of this.
    TooLarge(f64),
}

impl WantError {
    /// Whether `got` is the error wanted.
    pub fn matches(&self, got: &FrameError) -> bool {
        match (self, got) {
            (WantError::Exact(want), got) => want == got,
            (WantError::NotJson, FrameError::HeaderNotJson { .. }) => true,
            (WantError::TooLarge(want), FrameError::DataSizeTooLarge { approx }) => {
                (approx - want).abs() <= want.abs() * 1e-12
            }
            _ => false,
        }
    }
}

/// A [`HeaderCase`] made concrete: the stream, the limits, and what must come
/// out of it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The bytes on the wire.
    pub stream: Vec<u8>,
    /// The limits the decoder is configured with.
    pub limits: Limits,
    /// The frames that must be decoded, in order.
    pub frames: Vec<Frame>,
    /// How decoding must end: cleanly, or with this error.
    pub end: Result<(), WantError>,
    /// Read sizes for the chunked decoding (each at least 1).
    pub reads: Vec<usize>,
}

impl HeaderCase {
    /// The stream this case describes and the outcome it must have.
    pub fn build(&self) -> Built {
        let object = Object::new(self);
        let (mut text, verdict) = match self.json {
            Json::Object => (object.text(None), object.verdict.clone()),
            Json::Duplicate(field) => (object.text(Some(field)), object.duplicate(field)),
            Json::Truncated { keep } => {
                let full = object.text(None);
                let keep = floor_boundary(&full, usize::from(keep) % full.len());
                (full[..keep].to_vec(), Err(WantError::NotJson))
            }
            Json::NotUtf8 { at, byte } => {
                let mut full = object.text(None);
                let at = floor_boundary(&full, usize::from(at) % (full.len() + 1));
                full.splice(at..at, byte.bytes().iter().copied());
                let want = FrameError::HeaderNotUtf8 { valid_up_to: at };
                (full, Err(WantError::Exact(want)))
            }
            Json::NotObject(kind) => non_object(kind),
        };
        let mut header_limit = match self.header_limit {
            HeaderLimit::Default => DEFAULT_MAX_HEADER_LEN,
            HeaderLimit::Bytes(n) => usize::from(n),
        };
        let declared: i32 = match self.length {
            LengthField::Exact => len_i32(text.len()),
            LengthField::Zero => 0,
            LengthField::Negative(v) => (v | 0x8000_0000) as i32,
            LengthField::I32Max => i32::MAX,
            LengthField::UnderLimit { pad }
            | LengthField::AtLimit { pad }
            | LengthField::OverLimit { pad } => {
                // At least one byte, so that a limit one under it exists.
                text.resize((text.len() + usize::from(pad)).max(1), b' ');
                header_limit = match self.length {
                    LengthField::UnderLimit { .. } => text.len() + 1,
                    LengthField::AtLimit { .. } => text.len(),
                    _ => text.len() - 1,
                };
                len_i32(text.len())
            }
        };
        // An empty header is no JSON at all.
        let verdict = if declared == 0 {
            Err(WantError::NotJson)
        } else {
            verdict
        };
        let announced = verdict.as_ref().map(|h| h.data_size).ok();
        let body_limit = match self.body_limit {
            BodyLimit::Default => DEFAULT_MAX_BODY_LEN,
            BodyLimit::Bytes(n) => usize::from(n),
            BodyLimit::AtDataSize => capped(announced.unwrap_or(0)),
            BodyLimit::UnderDataSize => capped(announced.unwrap_or(0).saturating_sub(1)),
        };
        let fill = self.body.fill | 0x80;
        let mut stream = declared.to_le_bytes().to_vec();
        stream.extend_from_slice(&text);
        stream.resize(stream.len() + body_sent(&self.body), fill);
        if let End::CutAt(at) = self.end {
            stream.truncate(usize::from(at) % (stream.len() + 1));
        }
        let limits = Limits::default()
            .max_header_len(header_limit)
            .max_body_len(body_limit);
        let (frames, end) = outcome(&stream, declared, &limits, verdict, fill);
        let reads = self.reads.iter().map(|&n| usize::from(n).max(1)).collect();
        Built {
            stream,
            limits,
            frames,
            end,
            reads,
        }
    }
}

/// The staged reading of the wire format, over the bytes the case produced.
fn outcome(
    stream: &[u8],
    declared: i32,
    limits: &Limits,
    verdict: Result<Header, WantError>,
    fill: u8,
) -> (Vec<Frame>, Result<(), WantError>) {
    let exact = |e| Err(WantError::Exact(e));
    let truncated = |part, received, expected| {
        exact(FrameError::Truncated {
            part,
            received,
            expected,
        })
    };
    let n = stream.len();
    if n == 0 {
        return (Vec::new(), Ok(()));
    }
    if n < 4 {
        return (Vec::new(), truncated(FramePart::HeaderLength, n, 4));
    }
    let Ok(header_len) = u32::try_from(declared) else {
        return (
            Vec::new(),
            exact(FrameError::NegativeHeaderLength { declared }),
        );
    };
    let header_len = header_len as usize;
    if header_len > limits.header() {
        let declared = u64::from(header_len as u32);
        let limit = limits.header();
        return (
            Vec::new(),
            exact(FrameError::HeaderTooLong { declared, limit }),
        );
    }
    if n - 4 < header_len {
        return (Vec::new(), truncated(FramePart::Header, n - 4, header_len));
    }
    let header = match verdict {
        Ok(header) => header,
        Err(want) => return (Vec::new(), Err(want)),
    };
    let announced = header.data_size;
    let body_len = match usize::try_from(announced) {
        Ok(len) if len <= limits.body() => len,
        _ => {
            let limit = limits.body();
            return (
                Vec::new(),
                exact(FrameError::BodyTooLong {
                    declared: announced,
                    limit,
                }),
            );
        }
    };
    let rest = n - 4 - header_len;
    if rest < body_len {
        return (Vec::new(), truncated(FramePart::Body, rest, body_len));
    }
    let frame = Frame {
        header,
        body: Bytes::from(vec![fill; body_len]),
    };
    let end = match rest - body_len {
        0 => Ok(()),
        left @ 1..=3 => truncated(FramePart::HeaderLength, left, 4),
        _ => exact(FrameError::NegativeHeaderLength {
            declared: i32::from_le_bytes([fill; 4]),
        }),
    };
    (vec![frame], end)
}

/// The header object built from the described fields, and how a correct
/// parser judges it.
struct Object {
    /// `(name, value)` as JSON text, in order.
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    python_spacing: bool,
    verdict: Result<Header, WantError>,
    /// Some value is beyond what a JSON parser accepts.
    syntax_error: bool,
    /// The value text to repeat for each known field.
    duplicates: [Vec<u8>; 3],
}

impl Object {
    fn new(case: &HeaderCase) -> Object {
        let mut fields = Vec::new();
        let mut syntax_error = false;
        let (size_text, size) = data_size(case.data_size, &case.body);
        if let Some(text) = &size_text {
            syntax_error |= matches!(case.data_size, DataSize::OutOfRange { .. });
            fields.push((json(DATA_SIZE), text.clone()));
        }
        let mut strings = [(FILENAME, &case.filename), (HASH, &case.hash)]
            .map(|(name, field)| (name, string_field(field)));
        for (name, (text, _)) in &strings {
            if let Some(text) = text {
                fields.push((json(name), text.clone()));
            }
        }
        let mut extra = Map::new();
        for (name, value) in &case.extra {
            let name = if [DATA_SIZE, FILENAME, HASH].contains(&name.as_str()) {
                format!("{name}_")
            } else {
                name.clone()
            };
            let (text, parsed) = extra_value(value);
            match parsed {
                Some(v) => {
                    extra.insert(name.clone(), v);
                }
                None => syntax_error = true,
            }
            fields.push((json(&name), text));
        }
        let [(_, (filename_text, filename)), (_, (hash_text, hash))] = &mut strings;
        let verdict = if syntax_error {
            Err(WantError::NotJson)
        } else {
            size.and_then(|data_size| {
                let filename = string_value(FILENAME, filename.clone())?;
                let hash = string_value(HASH, hash.clone())?;
                Ok(Header {
                    data_size,
                    filename,
                    hash,
                    extra,
                })
            })
        };
        let duplicates = [
            size_text.unwrap_or_else(|| b"0".to_vec()),
            filename_text.take().unwrap_or_else(|| json("a.txt")),
            hash_text.take().unwrap_or_else(|| json("ab")),
        ];
        Object {
            fields,
            python_spacing: case.python_spacing,
            verdict,
            syntax_error,
            duplicates,
        }
    }

    /// The object's JSON text, with `duplicate` repeated at its end (twice
    /// if the object lacks it).
    fn text(&self, duplicate: Option<Known>) -> Vec<u8> {
        let mut extra: Vec<(&[u8], &[u8])> = Vec::new();
        let duplicate_name;
        if let Some(known) = duplicate {
            let (name, index) = known_field(known);
            duplicate_name = json(name);
            let entry = (&duplicate_name[..], &self.duplicates[index][..]);
            if !self.fields.iter().any(|(n, _)| *n == entry.0) {
                extra.push(entry);
            }
            extra.push(entry);
        }
        let (comma, colon): (&[u8], &[u8]) = if self.python_spacing {
            (b", ", b": ")
        } else {
            (b",", b":")
        };
        let fields = self.fields.iter().map(|(n, v)| (&n[..], &v[..]));
        let len: usize = 2 + self
            .fields
            .iter()
            .map(|(n, v)| n.len() + v.len() + 3)
            .sum::<usize>();
        let mut out = Vec::with_capacity(len + extra.len() * 64);
        out.push(b'{');
        for (i, (name, value)) in fields.chain(extra).enumerate() {
            if i > 0 {
                out.extend_from_slice(comma);
            }
            out.extend_from_slice(name);
            out.extend_from_slice(colon);
            out.extend_from_slice(value);
        }
        out.push(b'}');
        out
    }

    /// The verdict on the object with `known` repeated.
    fn duplicate(&self, known: Known) -> Result<Header, WantError> {
        if self.syntax_error {
            return Err(WantError::NotJson);
        }
        let field = known_field(known).0;
        Err(WantError::Exact(FrameError::DuplicateField { field }))
    }
}

fn known_field(known: Known) -> (&'static str, usize) {
    match known {
        Known::DataSize => (DATA_SIZE, 0),
        Known::Filename => (FILENAME, 1),
        Known::Hash => (HASH, 2),
    }
}

/// The `data_size` value's text (`None` when absent) and its meaning.
fn data_size(field: DataSize, body: &Body) -> (Option<Vec<u8>>, Result<u64, WantError>) {
    let not_integer = |found| Err(WantError::Exact(FrameError::DataSizeNotInteger { found }));
    let text = |s: String| Some(s.into_bytes());
    match field {
        DataSize::Right => (text(body.len.to_string()), Ok(u64::from(body.len))),
        DataSize::Missing => (None, Err(WantError::Exact(FrameError::DataSizeMissing))),
        DataSize::Claims(v) => (text(v.to_string()), Ok(v)),
        DataSize::Negative(v) => {
            let value = if v < 0 { v } else { -1 - v };
            let want = FrameError::DataSizeNegative { value };
            (text(value.to_string()), Err(WantError::Exact(want)))
        }
        DataSize::Float(v) => {
            // -2^63 is both i64::MIN and where integer literals just below
            // it round to: too ambiguous to describe.
            let v = if v.is_finite() && v != -(TWO_POW_63 as f64) {
                v
            } else {
                1.5
            };
            let s = serde_json::to_string(&v).expect("finite floats serialize");
            // What JSON parsers read: an integer-valued number beyond 64
            // bits cannot be told from a huge integer literal.
            let read: f64 = s.parse().expect("serde_json writes valid floats");
            let beyond = read <= -(TWO_POW_63 as f64) || read >= 18_446_744_073_709_551_616.0;
            let verdict = if read.fract() == 0.0 && beyond {
                Err(WantError::TooLarge(read))
            } else {
                not_integer(JsonType::Float)
            };
            (text(s), verdict)
        }
        DataSize::Str => (text("\"12\"".into()), not_integer(JsonType::String)),
        DataSize::Null => (text("null".into()), not_integer(JsonType::Null)),
        DataSize::Bool(b) => (text(b.to_string()), not_integer(JsonType::Bool)),
        DataSize::Array { depth } => (
            Some(nested(drained_depth(depth))),
            not_integer(JsonType::Array),
        ),
        DataSize::Object => (text("{\"n\": [1]}".into()), not_integer(JsonType::Object)),
        DataSize::Beyond64 { negative, excess } => {
            let value: i128 = if negative {
                -(TWO_POW_63 + 1 + i128::from(excess))
            } else {
                (1i128 << 64) + i128::from(excess)
            };
            let s = value.to_string();
            let read: f64 = s.parse().expect("integers parse as f64");
            (text(s), Err(WantError::TooLarge(read)))
        }
        DataSize::OutOfRange { negative } => {
            let s = if negative { "-1e400" } else { "1e400" };
            (text(s.into()), Err(WantError::NotJson))
        }
    }
}

/// A string field's text (`None` when absent) and its value or the type
/// found instead.
fn string_field(field: &StringField) -> (Option<Vec<u8>>, Result<Option<String>, JsonType>) {
    let text = |s: &str| Some(s.as_bytes().to_vec());
    match field {
        StringField::Absent => (None, Ok(None)),
        StringField::Str(s) => (Some(json(s)), Ok(Some(s.clone()))),
        StringField::Int(i) => (text(&i.to_string()), Err(JsonType::Integer)),
        StringField::Float => (text("2.5"), Err(JsonType::Float)),
        StringField::Bool(b) => (text(&b.to_string()), Err(JsonType::Bool)),
        StringField::Null => (text("null"), Err(JsonType::Null)),
        StringField::Array => (text("[1, \"a\"]"), Err(JsonType::Array)),
        StringField::Object => (text("{\"k\": []}"), Err(JsonType::Object)),
    }
}

fn string_value(
    field: &'static str,
    v: Result<Option<String>, JsonType>,
) -> Result<Option<String>, WantError> {
    v.map_err(|found| WantError::Exact(FrameError::FieldNotString { field, found }))
}

/// An extra field's text and its parsed value (`None`: the header is not
/// JSON because of it).
fn extra_value(value: &ExtraValue) -> (Vec<u8>, Option<Value>) {
    // Values whose meaning is plain are built directly (what a JSON parser
    // makes of their text; a test checks the two agree); numbers a parser
    // rounds are parsed.
    match value {
        ExtraValue::Int(i) => (i.to_string().into_bytes(), Some(Value::from(*i))),
        ExtraValue::Str(s) => (json(s), Some(Value::String(s.clone()))),
        ExtraValue::Bool(b) => (b.to_string().into_bytes(), Some(Value::Bool(*b))),
        ExtraValue::Null => (b"null".to_vec(), Some(Value::Null)),
        ExtraValue::Float(f) => {
            let f = if f.is_finite() { *f } else { 0.5 };
            let text = serde_json::to_vec(&f).expect("finite floats serialize");
            let parsed = parse(&text);
            (text, Some(parsed))
        }
        ExtraValue::HugeInt { digits } => {
            let digits = 20 + usize::from(*digits) % 281;
            (vec![b'9'; digits], Some(huge_int(digits)))
        }
        ExtraValue::Nested { depth } => {
            let depth = usize::from(*depth).max(1);
            let value = (depth <= MAX_EXTRA_NESTING).then(|| nested_value(depth));
            (nested(depth), value)
        }
        ExtraValue::OutOfRange => (b"1e400".to_vec(), None),
    }
}

/// What a JSON parser reads for `digits` nines (20 to 300): a float, since
/// they exceed `u64`. Parsed once per length and kept, as parsing 300
/// digits correctly rounded is slow and every fuzz input may ask again.
fn huge_int(digits: usize) -> Value {
    static VALUES: OnceLock<Vec<Value>> = OnceLock::new();
    let values = VALUES.get_or_init(|| (20..=300).map(|n| parse(&vec![b'9'; n])).collect());
    values[digits - 20].clone()
}

/// The value of [`nested`]`(depth)`'s text.
fn nested_value(depth: usize) -> Value {
    (1..depth).fold(Value::Array(Vec::new()), |inner, _| {
        Value::Array(vec![inner])
    })
}

fn parse(text: &[u8]) -> Value {
    serde_json::from_slice(text).expect("generated extra values are valid JSON")
}

/// A header that is JSON but not an object.
fn non_object(kind: NonObject) -> (Vec<u8>, Result<Header, WantError>) {
    let (text, found) = match kind {
        NonObject::Array { depth } => (nested(drained_depth(depth)), JsonType::Array),
        NonObject::Str => (json("data_size"), JsonType::String),
        NonObject::Int(i) => (i.to_string().into_bytes(), JsonType::Integer),
        NonObject::Float => (b"0.5".to_vec(), JsonType::Float),
        NonObject::Bool(b) => (b.to_string().into_bytes(), JsonType::Bool),
        NonObject::Null => (b"null".to_vec(), JsonType::Null),
    };
    let want = FrameError::HeaderNotObject { found };
    (text, Err(WantError::Exact(want)))
}

fn nested(depth: usize) -> Vec<u8> {
    let mut out = vec![b'['; depth];
    out.resize(depth * 2, b']');
    out
}

fn json(s: &str) -> Vec<u8> {
    serde_json::to_vec(s).expect("strings serialize")
}

/// The body bytes actually sent.
fn body_sent(body: &Body) -> usize {
    let len = usize::from(body.len);
    match body.shape {
        BodyShape::Exact => len,
        BodyShape::Short(n) => len.saturating_sub(usize::from(n)),
        BodyShape::Long(n) => len + usize::from(n),
    }
}

fn capped(n: u64) -> usize {
    usize::try_from(n).map_or(DEFAULT_MAX_BODY_LEN, |n| n.min(DEFAULT_MAX_BODY_LEN))
}

fn len_i32(n: usize) -> i32 {
    i32::try_from(n).expect("generated headers are far below 2 GiB")
}

/// `at`, moved back to the nearest UTF-8 character boundary of `text`
/// (generated text is valid UTF-8).
fn floor_boundary(text: &[u8], mut at: usize) -> usize {
    while at > 0 && at < text.len() && (text[at] & 0xc0) == 0x80 {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_values_built_directly_are_what_their_text_parses_to() {
        let mut values: Vec<ExtraValue> = [i64::MIN, -1, 0, 1, i64::MAX]
            .into_iter()
            .map(ExtraValue::Int)
            .collect();
        for s in ["", "a", "\"\\\n\u{1}", "é€😀", "\u{7f}\u{2028}"] {
            values.push(ExtraValue::Str(s.to_owned()));
        }
        values.extend([
            ExtraValue::Bool(true),
            ExtraValue::Bool(false),
            ExtraValue::Null,
        ]);
        values.extend([1, 2, 3, 125, 126].map(|depth| ExtraValue::Nested { depth }));
        values.extend([0, 1, 3, 280, 281, u16::MAX].map(|digits| ExtraValue::HugeInt { digits }));
        for value in &values {
            let (text, built) = extra_value(value);
            assert_eq!(built, Some(parse(&text)), "{value:?}");
        }
        let (_, too_deep) = extra_value(&ExtraValue::Nested { depth: 127 });
        assert_eq!(too_deep, None);
    }

    #[test]
    fn drained_depths_cover_one_to_the_maximum_and_wrap() {
        assert_eq!(drained_depth(0), 1);
        assert_eq!(drained_depth(1), 1);
        assert_eq!(drained_depth(4096), 4096);
        assert_eq!(drained_depth(4097), 1);
        assert_eq!(
            drained_depth(u16::MAX),
            (usize::from(u16::MAX) - 1) % 4096 + 1
        );
    }
}
