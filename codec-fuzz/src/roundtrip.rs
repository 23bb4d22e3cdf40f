//! The `roundtrip` fuzz target: arbitrary frames and an arbitrary chunking
//! through [`HeaderCodec`]: encode, cut, decode, compare.

use arbitrary::Arbitrary;
use bytes::Bytes;
use framecheck_codec::{Frame, Header, HeaderCodec, DATA_SIZE, FILENAME, HASH};
use serde_json::{Map, Value};

use framecheck::targets::{roundtrip_target, RoundtripInput};

/// A frame the encoder accepts, as the fuzzer describes it.
#[derive(Debug, Clone, Arbitrary)]
pub struct FuzzFrame {
    /// The `filename` field.
    pub filename: Option<String>,
    /// The `hash` field.
    pub hash: Option<String>,
    /// Other header fields (names of the known fields get a `_` appended).
    pub extra: Vec<(String, FuzzValue)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A header field value that survives a JSON round trip exactly (floats
/// are left out: without serde_json's `float_roundtrip` feature, parsing
/// may move one in its last bit).
#[derive(Debug, Clone, Arbitrary)]
pub enum FuzzValue {
    /// `null`
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// A string.
    Str(String),
    /// An array of strings.
    Strings(Vec<String>),
}

impl FuzzFrame {
    /// The frame described.
    pub fn to_frame(&self) -> Frame {
        let mut header = Header::new(0);
        header.filename = self.filename.clone();
        header.hash = self.hash.clone();
        header.extra = Map::new();
        for (name, value) in &self.extra {
            let name = if [DATA_SIZE, FILENAME, HASH].contains(&name.as_str()) {
                format!("{name}_")
            } else {
                name.clone()
            };
            let value = match value {
                FuzzValue::Null => Value::Null,
                FuzzValue::Bool(b) => Value::from(*b),
                FuzzValue::Int(i) => Value::from(*i),
                FuzzValue::Uint(u) => Value::from(*u),
                FuzzValue::Str(s) => Value::from(s.as_str()),
                FuzzValue::Strings(v) => Value::from(v.clone()),
            };
            header.extra.insert(name, value);
        }
        Frame::with_header(header, Bytes::from(self.body.clone()))
    }
}

/// Encodes the frames with [`HeaderCodec`], cuts the stream where the
/// chunking says, decodes with a fresh codec and requires the same frames
/// back: the body of the `roundtrip` fuzz target.
///
/// # Panics
///
/// When the round trip fails ([`framecheck::roundtrip_case`]'s report).
///
/// ```
/// use framecheck::{chunk::Chunking, targets::RoundtripInput};
/// use framecheck_codec_fuzz::roundtrip::{run, FuzzFrame};
///
/// let frame = FuzzFrame { filename: Some("a.txt".into()), hash: None, extra: vec![], body: b"hi".to_vec() };
/// run(&RoundtripInput { frames: vec![frame], chunking: Chunking::one_byte_reads() });
/// ```
pub fn run(input: &RoundtripInput<FuzzFrame>) {
    let frames = RoundtripInput {
        frames: input.frames.iter().map(FuzzFrame::to_frame).collect(),
        chunking: input.chunking.clone(),
    };
    roundtrip_target(HeaderCodec::new, &frames);
}
