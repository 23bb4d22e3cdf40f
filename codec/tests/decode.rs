//! HeaderCodec decoding and encoding, with byte literals read against the
//! wire diagram:
//!
//! ```text
//! | header length, i32 LE | header JSON              | body            |
//! | 0f 00 00 00           | {"data_size":2}          | hi              |
//! ```
//!
//! Every decode case runs over the whole input, over the input split in two
//! at every offset, and over one-byte reads: the outcome must not depend on
//! how TCP cut the stream.

use bytes::{Bytes, BytesMut};
use framecheck_codec::{
    CodecError, Frame, FrameError, FramePart, Header, HeaderCodec, JsonType, Limits,
};
use tokio_util::codec::{Decoder, Encoder};

/// What a decoder made of a stream: the frames, then either a clean end or
/// the error it stopped with.
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: Vec<Frame>,
    end: Result<(), FrameError>,
}

fn frame_error(e: CodecError) -> FrameError {
    match e {
        CodecError::Frame(f) => f,
        other => panic!("expected a frame error, got {other:?}"),
    }
}

/// Feeds `chunks` the way `FramedRead` does: decode until `Ok(None)`, then
/// the next chunk; `decode_eof` once the chunks run out.
fn run<'a>(mut codec: HeaderCodec, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        frames,
                        end: Err(frame_error(e)),
                    }
                }
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => {
                return Outcome {
                    frames,
                    end: Ok(()),
                }
            }
            Err(e) => {
                return Outcome {
                    frames,
                    end: Err(frame_error(e)),
                }
            }
        }
    }
}

/// Decodes `input` whole, split at every offset, and in one-byte reads, and
/// checks every way gives `want`.
fn check_fragmented(codec: &HeaderCodec, input: &[u8], want: &Outcome) {
    assert_eq!(&run(codec.clone(), [input]), want, "whole input");
    for cut in 0..=input.len() {
        let (a, b) = input.split_at(cut);
        assert_eq!(&run(codec.clone(), [a, b]), want, "split at offset {cut}");
    }
    assert_eq!(&run(codec.clone(), input.chunks(1)), want, "one-byte reads");
}

fn frames_then_end(frames: Vec<Frame>) -> Outcome {
    Outcome {
        frames,
        end: Ok(()),
    }
}

fn frames_then_error(frames: Vec<Frame>, e: FrameError) -> Outcome {
    Outcome {
        frames,
        end: Err(e),
    }
}

/// `len` as the 4-byte little-endian header length field, then `header`.
fn prefixed(header: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as i32).to_le_bytes().to_vec();
    v.extend_from_slice(header);
    v
}

#[test]
fn read_minimal_frame() {
    let input = b"\x0f\x00\x00\x00{\"data_size\":2}hi";
    check_fragmented(
        &HeaderCodec::new(),
        input,
        &frames_then_end(vec![Frame::new(&b"hi"[..])]),
    );
}

#[test]
fn read_python_peer_fixture() {
    // Made the way the Python tutorial's peer makes it:
    //   body = b'hello'
    //   h = json.dumps({'filename': 'a.txt', 'data_size': len(body),
    //                   'hash': hashlib.sha256(body).hexdigest(), 'mode': 420}).encode()
    //   struct.pack('<i', len(h)) + h + body
    let input: &[u8] = b"~\x00\x00\x00{\"filename\": \"a.txt\", \"data_size\": 5, \"hash\": \"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\", \"mode\": 420}hello";
    let mut header = Header::new(5);
    header.filename = Some("a.txt".into());
    header.hash = Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into());
    header.extra.insert("mode".into(), 420.into());
    check_fragmented(
        &HeaderCodec::new(),
        input,
        &frames_then_end(vec![Frame {
            header,
            body: Bytes::from_static(b"hello"),
        }]),
    );
}

#[test]
fn read_glued_frames_and_empty_body() {
    let mut input = Vec::new();
    input.extend_from_slice(b"\x0f\x00\x00\x00{\"data_size\":0}");
    input.extend_from_slice(b"\x0f\x00\x00\x00{\"data_size\":3}abc");
    input.extend_from_slice(b"\x0f\x00\x00\x00{\"data_size\":1}z");
    check_fragmented(
        &HeaderCodec::new(),
        &input,
        &frames_then_end(vec![
            Frame::new(Bytes::new()),
            Frame::new(&b"abc"[..]),
            Frame::new(&b"z"[..]),
        ]),
    );
}

#[test]
fn read_body_longer_than_255_and_65535() {
    for len in [255usize, 256, 65_535, 65_536, 70_000] {
        let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut input = prefixed(format!("{{\"data_size\":{len}}}").as_bytes());
        input.extend_from_slice(&body);
        let want = frames_then_end(vec![Frame::new(body)]);
        assert_eq!(run(HeaderCodec::new(), [&input[..]]), want);
        assert_eq!(run(HeaderCodec::new(), input.chunks(4093)), want);
    }
}

#[test]
fn read_negative_header_length() {
    check_fragmented(
        &HeaderCodec::new(),
        b"\xfe\xff\xff\xff{}",
        &frames_then_error(vec![], FrameError::NegativeHeaderLength { declared: -2 }),
    );
}

#[test]
fn read_header_too_long_is_refused_before_reserving() {
    let codec = HeaderCodec::with_limits(Limits::default().max_header_len(16));
    check_fragmented(
        &codec,
        b"\x11\x00\x00\x00",
        &frames_then_error(
            vec![],
            FrameError::HeaderTooLong {
                declared: 17,
                limit: 16,
            },
        ),
    );
    // i32::MAX: refused without reserving 2 GiB.
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::from(&b"\xff\xff\xff\x7f"[..]);
    let err = frame_error(codec.decode(&mut buf).unwrap_err());
    assert_eq!(
        err,
        FrameError::HeaderTooLong {
            declared: i32::MAX as u64,
            limit: 64 * 1024,
        }
    );
    assert!(buf.capacity() < 1024, "reserved {}", buf.capacity());
}

#[test]
fn read_body_too_long_is_refused_before_reserving() {
    let input = prefixed(br#"{"data_size": 9000000}"#);
    check_fragmented(
        &HeaderCodec::new(),
        &input,
        &frames_then_error(
            vec![],
            FrameError::BodyTooLong {
                declared: 9_000_000,
                limit: 8 * 1024 * 1024,
            },
        ),
    );
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::from(&input[..]);
    assert!(codec.decode(&mut buf).is_err());
    assert!(buf.capacity() < 1024, "reserved {}", buf.capacity());
}

#[test]
fn read_reserves_no_more_than_the_validated_body() {
    let codec = HeaderCodec::with_limits(Limits::default().max_body_len(1000));
    let mut codec = codec;
    let mut buf = BytesMut::from(&prefixed(br#"{"data_size": 1000}"#)[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() <= 2048, "reserved {}", buf.capacity());
}

#[test]
fn read_malformed_headers_give_typed_errors() {
    let cases: Vec<(&[u8], FrameError)> = vec![
        (b"\xc3\x28", FrameError::HeaderNotUtf8 { valid_up_to: 0 }),
        (
            br#""data""#,
            FrameError::HeaderNotObject {
                found: JsonType::String,
            },
        ),
        (
            b"null",
            FrameError::HeaderNotObject {
                found: JsonType::Null,
            },
        ),
        (br#"{"size": 1}"#, FrameError::DataSizeMissing),
        (
            br#"{"data_size": -1}"#,
            FrameError::DataSizeNegative { value: -1 },
        ),
        (
            br#"{"data_size": 2.0}"#,
            FrameError::DataSizeNotInteger {
                found: JsonType::Float,
            },
        ),
        (
            br#"{"data_size": "2"}"#,
            FrameError::DataSizeNotInteger {
                found: JsonType::String,
            },
        ),
        (
            br#"{"data_size": null}"#,
            FrameError::DataSizeNotInteger {
                found: JsonType::Null,
            },
        ),
        // The tutorial's own example header: 111111111111111111111111111.
        (
            br#"{"data_size": 111111111111111111111111111, "hash": null}"#,
            FrameError::DataSizeTooLarge {
                approx: 111_111_111_111_111_111_111_111_111.0,
            },
        ),
        (
            br#"{"data_size": 1, "data_size": 1}"#,
            FrameError::DuplicateField { field: "data_size" },
        ),
        (
            br#"{"data_size": 0, "hash": null}"#,
            FrameError::FieldNotString {
                field: "hash",
                found: JsonType::Null,
            },
        ),
    ];
    for (header, want) in cases {
        let input = prefixed(header);
        check_fragmented(
            &HeaderCodec::new(),
            &input,
            &frames_then_error(vec![], want),
        );
    }
}

#[test]
fn read_header_not_json_reports_where() {
    let input = prefixed(br#"{"data_size": 1"#);
    let outcome = run(HeaderCodec::new(), [&input[..]]);
    match outcome.end {
        Err(FrameError::HeaderNotJson { line, column, .. }) => {
            assert_eq!((line, column), (1, 15))
        }
        other => panic!("expected HeaderNotJson, got {other:?}"),
    }
    // A zero-length header is not JSON either.
    let outcome = run(HeaderCodec::new(), [&b"\0\0\0\0"[..]]);
    assert!(
        matches!(outcome.end, Err(FrameError::HeaderNotJson { .. })),
        "{outcome:?}"
    );
}

#[test]
fn read_error_is_sticky() {
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::from(&b"\xff\xff\xff\xff"[..]);
    let first = frame_error(codec.decode(&mut buf).unwrap_err());
    let second = frame_error(codec.decode(&mut buf).unwrap_err());
    assert_eq!(first, second);
}

#[test]
fn eof_inside_length_field() {
    check_fragmented(
        &HeaderCodec::new(),
        b"\x0f\x00",
        &frames_then_error(
            vec![],
            FrameError::Truncated {
                part: FramePart::HeaderLength,
                received: 2,
                expected: 4,
            },
        ),
    );
}

#[test]
fn eof_right_after_length_field() {
    // tokio-util's LengthDelimitedCodec ends cleanly here; this is an error.
    check_fragmented(
        &HeaderCodec::new(),
        b"\x0f\x00\x00\x00",
        &frames_then_error(
            vec![],
            FrameError::Truncated {
                part: FramePart::Header,
                received: 0,
                expected: 15,
            },
        ),
    );
}

#[test]
fn eof_right_after_header() {
    check_fragmented(
        &HeaderCodec::new(),
        b"\x0f\x00\x00\x00{\"data_size\":2}",
        &frames_then_error(
            vec![],
            FrameError::Truncated {
                part: FramePart::Body,
                received: 0,
                expected: 2,
            },
        ),
    );
}

#[test]
fn eof_one_byte_before_frame_end() {
    let mut input = b"\x0f\x00\x00\x00{\"data_size\":0}".to_vec();
    input.extend_from_slice(b"\x0f\x00\x00\x00{\"data_size\":3}ab");
    check_fragmented(
        &HeaderCodec::new(),
        &input,
        &frames_then_error(
            vec![Frame::new(Bytes::new())],
            FrameError::Truncated {
                part: FramePart::Body,
                received: 2,
                expected: 3,
            },
        ),
    );
}

#[test]
fn eof_at_frame_boundary_is_clean() {
    check_fragmented(&HeaderCodec::new(), b"", &frames_then_end(vec![]));
}

#[test]
fn encode_matches_wire_diagram() {
    let mut dst = BytesMut::new();
    HeaderCodec::new()
        .encode(Frame::new(&b"hi"[..]), &mut dst)
        .unwrap();
    assert_eq!(&dst[..], b"\x0f\x00\x00\x00{\"data_size\":2}hi");
}

#[test]
fn encode_keeps_extra_fields() {
    let mut header = Header::new(0);
    header.filename = Some("a.txt".into());
    header.extra.insert("mode".into(), 420.into());
    let frame = Frame::with_header(header, &b"abc"[..]);
    let mut dst = BytesMut::new();
    HeaderCodec::new().encode(frame.clone(), &mut dst).unwrap();
    assert_eq!(
        &dst[..],
        b"\x2d\x00\x00\x00{\"data_size\":3,\"filename\":\"a.txt\",\"mode\":420}abc"
    );
    check_fragmented(&HeaderCodec::new(), &dst, &frames_then_end(vec![frame]));
}

#[test]
fn encode_refusals_leave_dst_untouched() {
    let limits = Limits::default().max_header_len(32).max_body_len(8);
    let mut long_header = Header::new(1);
    long_header.filename = Some("x".repeat(40));
    let mut reserved = Header::new(1);
    reserved.extra.insert("hash".into(), "h".into());
    let cases = [
        (
            Frame {
                header: Header::new(3),
                body: Bytes::from_static(b"ab"),
            },
            FrameError::DataSizeMismatch {
                data_size: 3,
                body_len: 2,
            },
        ),
        (
            Frame::new(&b"123456789"[..]),
            FrameError::BodyTooLong {
                declared: 9,
                limit: 8,
            },
        ),
        (
            Frame::with_header(long_header, &b"a"[..]),
            FrameError::HeaderTooLong {
                declared: 69,
                limit: 32,
            },
        ),
        (
            Frame::with_header(reserved, &b"a"[..]),
            FrameError::ReservedField { field: "hash" },
        ),
    ];
    for (frame, want) in cases {
        let mut codec = HeaderCodec::with_limits(limits);
        let mut dst = BytesMut::from(&b"earlier"[..]);
        let err = frame_error(codec.encode(frame, &mut dst).unwrap_err());
        assert_eq!(err, want);
        assert_eq!(&dst[..], b"earlier");
    }
}

#[tokio::test]
async fn framed_pipeline_roundtrip() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_util::codec::{FramedRead, FramedWrite};

    let (a, b) = tokio::io::duplex(64);
    let frames: Vec<Frame> = (0..50usize)
        .map(|i| Frame::new(vec![i as u8; i * 37]))
        .collect();
    let sent = frames.clone();
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(a, HeaderCodec::new());
        for f in sent {
            sink.feed(f).await.unwrap();
        }
        sink.close().await.unwrap();
    });
    let got: Vec<Frame> = FramedRead::new(b, HeaderCodec::new())
        .map(|r| r.unwrap())
        .collect()
        .await;
    writer.await.unwrap();
    assert_eq!(got, frames);
}

#[tokio::test]
async fn framed_read_reports_truncation() {
    use futures_util::StreamExt;
    use tokio_util::codec::FramedRead;

    let input: &[u8] = b"\x0f\x00\x00\x00{\"data_size\":2}h";
    let mut framed = FramedRead::new(input, HeaderCodec::new());
    let err = frame_error(framed.next().await.unwrap().unwrap_err());
    assert_eq!(
        err,
        FrameError::Truncated {
            part: FramePart::Body,
            received: 1,
            expected: 2,
        }
    );
}
