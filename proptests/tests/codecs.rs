//! The harness applied to real codecs: the project's `HeaderCodec` and
//! `StrictLengthCodec`, and tokio-util's `LengthDelimitedCodec` and
//! `LinesCodec`, through all three entry points.

use bytes::{BufMut, Bytes, BytesMut};
use framecheck::{
    chunk::{chunkings, Chunking, Layout},
    decode_in_reads, strategies, FailureKind, Harness,
};
use framecheck_codec::{CodecError, Frame, FrameError, HeaderCodec, JsonType, StrictLengthCodec};
use proptest::{collection::vec, prelude::*, test_runner::TestRunner};
use tokio_util::codec::{Encoder, LengthDelimitedCodec, LinesCodec};

// ---------------------------------------------------------------------------
// Round trip: the correct codecs pass, unchanged signatures.

#[test]
fn length_delimited_codec_round_trips() {
    framecheck::assert_roundtrip(LengthDelimitedCodec::new, strategies::byte_frames());
    // A plain user strategy type-checks too.
    let bodies = vec(any::<u8>(), 0..600).prop_map(Bytes::from);
    framecheck::assert_roundtrip(LengthDelimitedCodec::new, vec(bodies, 0..6));
}

#[test]
fn lines_codec_round_trips() {
    framecheck::assert_roundtrip(LinesCodec::new, strategies::lines());
}

#[test]
fn header_codec_round_trips_headers_with_extra_fields() {
    framecheck::assert_roundtrip(
        HeaderCodec::new,
        framecheck_codec_fuzz::strategies::header_frames(),
    );
}

#[test]
fn strict_length_codec_round_trips() {
    framecheck::assert_roundtrip(
        || StrictLengthCodec::new(1 << 20),
        strategies::byte_frames(),
    );
}

// ---------------------------------------------------------------------------
// Truncation.

#[test]
fn header_codec_detects_truncation() {
    framecheck::assert_truncation_detected(
        HeaderCodec::new,
        framecheck_codec_fuzz::strategies::header_frames(),
    );
}

#[test]
fn strict_length_codec_detects_truncation() {
    framecheck::assert_truncation_detected(
        || StrictLengthCodec::new(1 << 20),
        strategies::byte_frames(),
    );
}

/// tokio-util 0.7's `LengthDelimitedCodec` consumes the length field as
/// soon as it has it; a stream that ends right there ends cleanly. This is
/// the finding `StrictLengthCodec` exists for.
#[test]
fn length_delimited_codec_ends_cleanly_after_a_length_field() {
    let failure = Harness::new()
        .persistence(false)
        .check_truncation_detected(LengthDelimitedCodec::new, strategies::byte_frames())
        .unwrap_err();
    assert!(
        matches!(
            failure.kind(),
            FailureKind::CleanEndInsideFrame { offset: 4, .. }
        ),
        "{failure}"
    );
    assert!(
        failure
            .headline()
            .contains("exactly between its 4-byte header"),
        "{failure}"
    );
}

/// `LinesCodec` returns an unterminated last line at end of stream, by
/// design: a cut line comes out as a line.
#[test]
fn lines_codec_returns_a_cut_line_at_end_of_stream() {
    let failure = Harness::new()
        .persistence(false)
        .check_truncation_detected(LinesCodec::new, strategies::lines())
        .unwrap_err();
    assert!(
        matches!(failure.kind(), FailureKind::ExtraFrames { .. }),
        "{failure}"
    );
}

// ---------------------------------------------------------------------------
// Malformed headers: the typed error, whatever the reads, after the valid
// frames before it.

/// A malformed frame's bytes and the error `HeaderCodec` must give.
fn malformed() -> impl Strategy<Value = (Vec<u8>, FrameError)> {
    fn prefixed(header: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as i32).to_le_bytes().to_vec();
        out.extend_from_slice(header);
        out
    }
    prop_oneof![
        Just((
            b"\xff\xff\xff\xff".to_vec(),
            FrameError::NegativeHeaderLength { declared: -1 }
        )),
        Just((
            65_537i32.to_le_bytes().to_vec(),
            FrameError::HeaderTooLong {
                declared: 65_537,
                limit: 65_536
            }
        )),
        Just((
            prefixed(b"\xff\xfe"),
            FrameError::HeaderNotUtf8 { valid_up_to: 0 }
        )),
        Just((
            prefixed(b"[1]"),
            FrameError::HeaderNotObject {
                found: JsonType::Array
            }
        )),
        Just((prefixed(b"{}"), FrameError::DataSizeMissing)),
        Just((
            prefixed(br#"{"data_size":-1}"#),
            FrameError::DataSizeNegative { value: -1 }
        )),
        Just((
            prefixed(br#"{"data_size":9000000}"#),
            FrameError::BodyTooLong {
                declared: 9_000_000,
                limit: 8 * 1024 * 1024
            }
        )),
        Just((
            prefixed(br#"{"data_size":1,"data_size":1}"#),
            FrameError::DuplicateField { field: "data_size" }
        )),
        Just((
            prefixed(br#"{"data_size":"1"}"#),
            FrameError::DataSizeNotInteger {
                found: JsonType::String
            }
        )),
    ]
}

#[test]
fn header_codec_gives_the_typed_error_for_malformed_headers_whatever_the_reads() {
    let mut runner = TestRunner::default();
    let strategy = (
        framecheck_codec_fuzz::strategies::header_frames(),
        malformed(),
        chunkings(),
    );
    runner
        .run(&strategy, |(frames, (bad, expected), chunking)| {
            let mut stream = BytesMut::new();
            let mut lens = Vec::new();
            for frame in &frames {
                let before = stream.len();
                HeaderCodec::new()
                    .encode(frame.clone(), &mut stream)
                    .unwrap();
                lens.push(stream.len() - before);
            }
            lens.push(bad.len());
            stream.put_slice(&bad);
            let read_ends = chunking.read_ends(&Layout::from_lens(lens));
            let (decoded, end) = decode_in_reads(&mut HeaderCodec::new(), &stream, &read_ends);
            prop_assert_eq!(decoded, frames);
            match end {
                Err(CodecError::Frame(error)) => prop_assert_eq!(error, expected),
                other => prop_assert!(false, "expected {:?}, got {:?}", expected, other),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn header_codec_reports_json_syntax_errors_with_their_position() {
    let mut stream = vec![2, 0, 0, 0];
    stream.extend_from_slice(b"{x");
    for chunking in [Chunking::whole(), Chunking::one_byte_reads()] {
        let layout = Layout::from_lens([stream.len()]);
        let (frames, end) = decode_in_reads(
            &mut HeaderCodec::new(),
            &stream,
            &chunking.read_ends(&layout),
        );
        assert!(frames.is_empty());
        match end {
            Err(CodecError::Frame(FrameError::HeaderNotJson {
                line: 1, column: 2, ..
            })) => {}
            other => panic!("expected HeaderNotJson at 1:2, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// The fuzz oracle on the same codecs, with arbitrary and near-valid bytes.

/// Fuzz inputs: random bytes, or valid frames with random damage, behind a
/// random chunking spec.
fn fuzz_inputs(valid: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let damaged = (
        valid,
        vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut bytes, flips, cut)| {
            for (at, byte) in flips {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
            }
            let keep = cut.index(bytes.len() + 1);
            bytes.truncate(keep.max(bytes.len() * 3 / 4));
            bytes
        });
    let stream = prop_oneof![1 => vec(any::<u8>(), 0..200), 3 => damaged];
    (vec(any::<u8>(), 0..12), stream)
        .prop_map(|(spec, stream)| framecheck::fuzz::with_chunking(&stream, &spec))
}

fn header_stream() -> impl Strategy<Value = Vec<u8>> {
    framecheck_codec_fuzz::strategies::header_frames().prop_map(|frames| {
        let mut out = BytesMut::new();
        for frame in frames.iter().take(3) {
            let small = Frame::with_header(
                frame.header.clone(),
                frame.body.slice(..frame.body.len().min(300)),
            );
            HeaderCodec::new().encode(small, &mut out).unwrap();
        }
        out.to_vec()
    })
}

#[test]
fn fuzz_oracle_accepts_the_correct_codecs() {
    let mut runner = TestRunner::default();
    runner
        .run(&fuzz_inputs(header_stream()), |data| {
            framecheck::fuzz::check_input_unreduced(HeaderCodec::new, &data)
                .map_err(|f| TestCaseError::fail(f.to_string()))?;
            framecheck::fuzz::check_input_unreduced(LengthDelimitedCodec::new, &data)
                .map_err(|f| TestCaseError::fail(f.to_string()))?;
            framecheck::fuzz::check_input_unreduced(|| StrictLengthCodec::new(4096), &data)
                .map_err(|f| TestCaseError::fail(f.to_string()))?;
            framecheck::fuzz::check_input_unreduced(|| LinesCodec::new_with_max_length(64), &data)
                .map_err(|f| TestCaseError::fail(f.to_string()))?;
            Ok(())
        })
        .unwrap();
}
