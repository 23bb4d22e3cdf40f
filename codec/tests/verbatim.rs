//! `VerbatimCodec`: the header comes back byte for byte, so a header that
//! was within the limit on the way in is within it on the way out.

use bytes::BytesMut;
use framecheck_codec::{
    CodecError, Frame, FrameError, HeaderCodec, VerbatimCodec, VerbatimFrame,
    DEFAULT_MAX_HEADER_LEN,
};
use tokio_util::codec::{Decoder, Encoder};

/// A legal 65 021-byte header: `data_size` and 10 833 numbers spelled
/// `1e15`, which serde_json writes back as `1000000000000000.0`.
fn big_header() -> Vec<u8> {
    let numbers = vec!["1e15"; 10_833].join(", ");
    let h = format!(r#"{{"data_size": 5, "n": [{numbers}]}}"#).into_bytes();
    assert_eq!(h.len(), 65_021);
    assert!(h.len() <= DEFAULT_MAX_HEADER_LEN);
    h
}

fn wire(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as i32).to_le_bytes().to_vec();
    v.extend_from_slice(header);
    v.extend_from_slice(body);
    v
}

#[test]
fn reencoding_a_parsed_header_can_exceed_the_limit() {
    // The problem VerbatimCodec solves.
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::from(&wire(&big_header(), b"hello")[..]);
    let frame = codec.decode(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    match codec.encode(frame, &mut out) {
        Err(CodecError::Frame(FrameError::HeaderTooLong { declared, limit })) => {
            assert_eq!(limit, DEFAULT_MAX_HEADER_LEN);
            assert!(declared > 200_000, "{declared}");
        }
        other => panic!("expected HeaderTooLong, got {other:?}"),
    }
    assert!(out.is_empty());
}

#[test]
fn verbatim_reply_carries_the_header_bytes_as_sent() {
    let header = big_header();
    let input = wire(&header, b"hello");
    // Whole, and one byte at a time.
    for step in [input.len(), 1] {
        let mut codec = VerbatimCodec::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in input.chunks(step) {
            buf.extend_from_slice(chunk);
            if let Some(f) = codec.decode(&mut buf).unwrap() {
                got = Some(f);
            }
        }
        let frame = got.expect("one frame");
        assert_eq!(&frame.header_json()[..], &header[..]);
        assert_eq!(frame.header().data_size, 5);
        assert_eq!(frame.header().extra["n"].as_array().unwrap().len(), 10_833);
        let reply = frame.with_body(&b"HELLO"[..]).unwrap();
        let mut out = BytesMut::new();
        codec.encode(reply, &mut out).unwrap();
        assert_eq!(&out[..], &wire(&header, b"HELLO")[..]);
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    }
}

#[test]
fn verbatim_frame_refuses_a_body_of_another_length() {
    let frame = VerbatimFrame::new(Frame::new(&b"abc"[..])).unwrap();
    assert_eq!(
        frame.clone().with_body(&b"ab"[..]),
        Err(FrameError::DataSizeMismatch {
            data_size: 3,
            body_len: 2
        })
    );
    assert_eq!(frame.into_frame(), Frame::new(&b"abc"[..]));
}

#[test]
fn verbatim_codec_reports_truncation_like_header_codec() {
    let input = wire(br#"{"data_size": 5}"#, b"hel");
    let mut codec = VerbatimCodec::new();
    let mut buf = BytesMut::from(&input[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    match codec.decode_eof(&mut buf) {
        Err(CodecError::Frame(FrameError::Truncated {
            received: 3,
            expected: 5,
            ..
        })) => {}
        other => panic!("{other:?}"),
    }
}
