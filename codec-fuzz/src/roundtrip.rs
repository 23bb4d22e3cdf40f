//! The `roundtrip` fuzz target: arbitrary frames and an arbitrary chunking
//! through [`HeaderCodec`]: encode, cut, decode, compare.

use arbitrary::Arbitrary;
use std::fmt;

use bytes::{Bytes, BytesMut};
use framecheck_codec::{CodecError, Frame, Header, HeaderCodec, DATA_SIZE, FILENAME, HASH};
use serde_json::{Map, Value};
use tokio_util::codec::{Decoder, Encoder};

use framecheck::{
    chunk::Chunking,
    targets::{roundtrip_target, RoundtripInput},
};

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
        self.clone().into_frame()
    }

    /// The frame described, made of this description's own strings and
    /// body (nothing copied): what [`run_owned`] uses.
    pub fn into_frame(self) -> Frame {
        let mut header = Header::new(0);
        header.filename = self.filename;
        header.hash = self.hash;
        header.extra = Map::new();
        for (mut name, value) in self.extra {
            if [DATA_SIZE, FILENAME, HASH].contains(&name.as_str()) {
                name.push('_');
            }
            let value = match value {
                FuzzValue::Null => Value::Null,
                FuzzValue::Bool(b) => Value::from(b),
                FuzzValue::Int(i) => Value::from(i),
                FuzzValue::Uint(u) => Value::from(u),
                FuzzValue::Str(s) => Value::from(s),
                FuzzValue::Strings(v) => Value::from(v),
            };
            header.extra.insert(name, value);
        }
        Frame::with_header(header, Bytes::from(self.body))
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
    check(
        input.frames.iter().map(FuzzFrame::to_frame).collect(),
        input.chunking.clone(),
    );
}

/// As [`run`], taking the input: the frames are made of its own strings
/// and bodies, without copying them (the `roundtrip` fuzz target owns its
/// input).
///
/// # Panics
///
/// When the round trip fails, as [`run`].
///
/// ```
/// use framecheck::{chunk::Chunking, targets::RoundtripInput};
/// use framecheck_codec_fuzz::roundtrip::{run_owned, FuzzFrame};
///
/// let frame = FuzzFrame { filename: None, hash: Some("h".into()), extra: vec![], body: b"hi".to_vec() };
/// run_owned(RoundtripInput { frames: vec![frame], chunking: Chunking::one_byte_reads() });
/// ```
pub fn run_owned(input: RoundtripInput<FuzzFrame>) {
    check(
        input
            .frames
            .into_iter()
            .map(FuzzFrame::into_frame)
            .collect(),
        input.chunking,
    );
}

/// The round trip of `frames` cut by `chunking` through [`HeaderCodec`],
/// the frames encoded by reference ([`HeaderCodec::encode_borrowed`], the
/// code its `Encoder<Frame>` runs) so that none is cloned for the encoder.
fn check(frames: Vec<Frame>, chunking: Chunking) {
    let input = RoundtripInput {
        frames: frames.iter().collect::<Vec<&Frame>>(),
        chunking,
    };
    roundtrip_target(Borrowing::default, &input);
}

/// [`HeaderCodec`], encoding borrowed frames: decoding is the codec's own
/// `decode` and `decode_eof`, encoding its [`HeaderCodec::encode_borrowed`].
#[derive(Debug, Default)]
struct Borrowing(HeaderCodec);

/// A frame [`Borrowing`] decoded, compared with the borrowed frame sent;
/// its `Debug` text is the frame's.
#[derive(PartialEq)]
struct Decoded(Frame);

impl PartialEq<&Frame> for Decoded {
    fn eq(&self, other: &&Frame) -> bool {
        self.0 == **other
    }
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Decoder for Borrowing {
    type Item = Decoded;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Decoded>, CodecError> {
        Ok(self.0.decode(src)?.map(Decoded))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, CodecError> {
        Ok(self.0.decode_eof(buf)?.map(Decoded))
    }
}

impl Encoder<&Frame> for Borrowing {
    type Error = CodecError;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.0.encode_borrowed(frame, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described() -> FuzzFrame {
        FuzzFrame {
            filename: Some("a.txt".into()),
            hash: None,
            extra: vec![
                (HASH.into(), FuzzValue::Strings(vec!["x".into()])),
                ("n".into(), FuzzValue::Int(-3)),
            ],
            body: b"hi".to_vec(),
        }
    }

    #[test]
    fn into_frame_is_to_frame_with_reserved_names_suffixed() {
        let frame = described().into_frame();
        assert_eq!(frame, described().to_frame());
        assert_eq!(
            frame.header.extra[&format!("{HASH}_")],
            serde_json::json!(["x"])
        );
        assert_eq!(frame.header.extra["n"], serde_json::json!(-3));
        assert_eq!(frame.header.hash, None);
    }

    #[test]
    fn a_decoded_frame_equals_only_the_frame_it_is() {
        let frame = described().into_frame();
        let other = FuzzFrame {
            body: b"ho".to_vec(),
            ..described()
        }
        .into_frame();
        assert!(Decoded(frame.clone()) == &frame);
        assert!(Decoded(frame.clone()) != &other);
        assert_eq!(
            format!("{:?}", Decoded(frame.clone())),
            format!("{frame:?}")
        );
    }

    #[test]
    fn borrowing_encodes_as_the_codec_does() {
        let frame = described().into_frame();
        let (mut borrowed, mut owned) = (BytesMut::new(), BytesMut::new());
        Borrowing::default().encode(&frame, &mut borrowed).unwrap();
        HeaderCodec::new()
            .encode(frame.clone(), &mut owned)
            .unwrap();
        assert_eq!(borrowed, owned);
        let decoded = Borrowing::default().decode_eof(&mut borrowed).unwrap();
        assert!(decoded.is_some_and(|d| d == &frame));
    }
}
