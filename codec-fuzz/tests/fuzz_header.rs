//! The `header` fuzz target's logic, run in `cargo test`: its model agrees
//! with `HeaderCodec` on arbitrary descriptions, computes the outcomes the
//! wire format calls for, and catches decoders that break its invariants.

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Buf, BytesMut};
use framecheck_codec::{CodecError, Frame, FrameError, FramePart, HeaderCodec, Limits};
use framecheck_codec_fuzz::header::{
    check, Body, BodyLimit, BodyShape, DataSize, End, FailureKind, HeaderCase, HeaderLimit, Json,
    Known, LengthField, StringField, WantError,
};
use proptest::prelude::*;
use tokio_util::codec::Decoder;

fn base() -> HeaderCase {
    HeaderCase {
        length: LengthField::Exact,
        header_limit: HeaderLimit::Default,
        json: Json::Object,
        python_spacing: true,
        data_size: DataSize::Right,
        filename: StringField::Str("a.txt".into()),
        hash: StringField::Absent,
        extra: Vec::new(),
        body: Body {
            len: 5,
            fill: 0xaa,
            shape: BodyShape::Exact,
        },
        body_limit: BodyLimit::Default,
        end: End::Complete,
        reads: vec![1],
    }
}

fn exact(e: FrameError) -> Result<(), WantError> {
    Err(WantError::Exact(e))
}

proptest! {
    #[test]
    fn header_codec_meets_every_arbitrary_description(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        let Ok(case) = HeaderCase::arbitrary(&mut Unstructured::new(&raw)) else {
            return Ok(());
        };
        if let Err(failure) = check(&case, HeaderCodec::with_limits) {
            prop_assert!(false, "{}", failure);
        }
    }
}

#[test]
fn well_formed_frame_is_decoded_in_one_byte_reads() {
    let built = base().build();
    assert_eq!(&built.stream[..4], &[37, 0, 0, 0]);
    assert_eq!(
        &built.stream[4..],
        &b"{\"data_size\": 5, \"filename\": \"a.txt\"}\xaa\xaa\xaa\xaa\xaa"[..]
    );
    assert_eq!(built.frames.len(), 1);
    assert_eq!(built.end, Ok(()));
    check(&base(), HeaderCodec::with_limits).unwrap();
}

#[test]
fn header_at_limit_is_accepted_and_one_over_is_refused() {
    let at = HeaderCase {
        length: LengthField::AtLimit { pad: 3 },
        ..base()
    };
    let built = at.build();
    assert_eq!(built.limits.header(), 40);
    assert_eq!(built.frames.len(), 1);
    check(&at, HeaderCodec::with_limits).unwrap();

    let over = HeaderCase {
        length: LengthField::OverLimit { pad: 3 },
        ..base()
    };
    let built = over.build();
    let want = FrameError::HeaderTooLong {
        declared: 40,
        limit: 39,
    };
    assert_eq!(built.end, exact(want));
    check(&over, HeaderCodec::with_limits).unwrap();
}

#[test]
fn length_past_i32_max_is_negative() {
    let case = HeaderCase {
        length: LengthField::Negative(0x8000_0000),
        ..base()
    };
    let want = FrameError::NegativeHeaderLength { declared: i32::MIN };
    assert_eq!(case.build().end, exact(want));
    check(&case, HeaderCodec::with_limits).unwrap();
}

#[test]
fn short_body_is_truncated_and_long_body_starts_a_bad_length() {
    let short = HeaderCase {
        body: Body {
            shape: BodyShape::Short(2),
            ..base().body
        },
        ..base()
    };
    let want = FrameError::Truncated {
        part: FramePart::Body,
        received: 3,
        expected: 5,
    };
    assert_eq!(short.build().end, exact(want));
    check(&short, HeaderCodec::with_limits).unwrap();

    let long = HeaderCase {
        body: Body {
            shape: BodyShape::Long(6),
            ..base().body
        },
        ..base()
    };
    let built = long.build();
    assert_eq!(built.frames.len(), 1);
    let declared = i32::from_le_bytes([0xaa; 4]);
    assert_eq!(
        built.end,
        exact(FrameError::NegativeHeaderLength { declared })
    );
    check(&long, HeaderCodec::with_limits).unwrap();
}

#[test]
fn duplicated_field_and_wrong_types_give_their_errors() {
    let dup = HeaderCase {
        json: Json::Duplicate(Known::Filename),
        ..base()
    };
    let want = FrameError::DuplicateField { field: "filename" };
    assert_eq!(dup.build().end, exact(want));
    check(&dup, HeaderCodec::with_limits).unwrap();

    let float = HeaderCase {
        data_size: DataSize::Float(2.5),
        ..base()
    };
    let found = framecheck_codec::JsonType::Float;
    assert_eq!(
        float.build().end,
        exact(FrameError::DataSizeNotInteger { found })
    );
    check(&float, HeaderCodec::with_limits).unwrap();
}

#[test]
fn data_size_over_body_limit_is_refused_before_the_body() {
    let case = HeaderCase {
        data_size: DataSize::Claims(1 << 40),
        body_limit: BodyLimit::UnderDataSize,
        end: End::CutAt(53),
        ..base()
    };
    let built = case.build();
    let want = FrameError::BodyTooLong {
        declared: 1 << 40,
        limit: framecheck_codec::DEFAULT_MAX_BODY_LEN,
    };
    assert_eq!(built.end, exact(want));
    check(&case, HeaderCodec::with_limits).unwrap();
}

/// `HeaderCodec` with the classic bug planted in front of it: a buffer sized
/// from the header length field before the limit check.
struct ReservesClaimedLength(HeaderCodec);

impl Decoder for ReservesClaimedLength {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if self.0.is_between_frames() && src.len() >= 4 {
            let claimed = (&src[..4]).get_u32_le() as usize;
            src.reserve(claimed.min(1 << 30));
        }
        self.0.decode(src)
    }
}

#[test]
fn buffer_sized_from_claimed_length_is_caught() {
    let case = HeaderCase {
        length: LengthField::I32Max,
        header_limit: HeaderLimit::Bytes(100),
        ..base()
    };
    let failure = check(&case, |l| {
        ReservesClaimedLength(HeaderCodec::with_limits(l))
    })
    .expect_err("the planted allocation must be caught");
    assert!(
        matches!(failure.kind, FailureKind::Memory { capacity, .. } if capacity >= 1 << 30),
        "{failure}"
    );
}

/// `HeaderCodec` that ends cleanly wherever the stream stops.
struct LenientEof(HeaderCodec);

impl Decoder for LenientEof {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        self.0.decode(src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        self.0.decode(src)
    }
}

#[test]
fn clean_end_inside_a_body_is_caught() {
    let case = HeaderCase {
        end: End::CutAt(40),
        ..base()
    };
    let failure = check(&case, |l| LenientEof(HeaderCodec::with_limits(l)))
        .expect_err("a clean end inside the body must be caught");
    assert!(
        matches!(failure.kind, FailureKind::End { got: None }),
        "{failure}"
    );
    assert!(failure.to_string().contains("Truncated"), "{failure}");
}

#[test]
fn limits_are_what_the_description_says() {
    let case = HeaderCase {
        header_limit: HeaderLimit::Bytes(16),
        ..base()
    };
    let built = case.build();
    assert_eq!(built.limits, Limits::default().max_header_len(16));
    let want = FrameError::HeaderTooLong {
        declared: 37,
        limit: 16,
    };
    assert_eq!(built.end, exact(want));
}
