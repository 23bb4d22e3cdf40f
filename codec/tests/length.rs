//! StrictLengthCodec: tokio-util's length-delimited splitting with typed
//! errors and a strict end of stream.
//!
//! ```text
//! | body length, u32 BE | body            |
//! | 00 00 00 02         | hi              |
//! ```

use bytes::{Bytes, BytesMut};
use framecheck_codec::{CodecError, FrameError, FramePart, StrictLengthCodec};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Bodies decoded from `chunks` fed as `FramedRead` would, then the end:
/// `Ok(())` for a clean end, or the frame error the codec stopped with.
fn run<'a>(
    max: usize,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Bytes>, Result<(), FrameError>) {
    let mut codec = StrictLengthCodec::new(max);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let stop = |e: CodecError| e.frame().cloned().expect("a frame error");
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(b)) => out.push(b.freeze()),
                Ok(None) => break,
                Err(e) => return (out, Err(stop(e))),
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(b)) => out.push(b.freeze()),
            Ok(None) => return (out, Ok(())),
            Err(e) => return (out, Err(stop(e))),
        }
    }
}

/// Runs `input` whole, split at every offset and in one-byte reads.
fn check(max: usize, input: &[u8], want: &(Vec<Bytes>, Result<(), FrameError>)) {
    assert_eq!(&run(max, [input]), want, "whole");
    for cut in 0..=input.len() {
        let (a, b) = input.split_at(cut);
        assert_eq!(&run(max, [a, b]), want, "split at {cut}");
    }
    assert_eq!(&run(max, input.chunks(1)), want, "one-byte reads");
}

#[test]
fn read_frames_glued_and_empty() {
    check(
        16,
        b"\0\0\0\x02hi\0\0\0\0\0\0\0\x03abc",
        &(
            vec![
                Bytes::from_static(b"hi"),
                Bytes::new(),
                Bytes::from_static(b"abc"),
            ],
            Ok(()),
        ),
    );
}

#[test]
fn read_over_limit_length_is_typed() {
    check(
        16,
        b"\0\0\0\x02hi\0\0\0\x11",
        &(
            vec![Bytes::from_static(b"hi")],
            Err(FrameError::BodyTooLong {
                declared: 17,
                limit: 16,
            }),
        ),
    );
}

#[test]
fn eof_right_after_length_field() {
    // tokio-util's codec alone ends cleanly here.
    let mut inner = LengthDelimitedCodec::new();
    let mut buf = BytesMut::from(&b"\0\0\0\x05"[..]);
    assert_eq!(inner.decode(&mut buf).unwrap(), None);
    assert_eq!(inner.decode_eof(&mut buf).unwrap(), None);

    check(
        16,
        b"\0\0\0\x05",
        &(
            vec![],
            Err(FrameError::Truncated {
                part: FramePart::Body,
                received: 0,
                expected: 5,
            }),
        ),
    );
}

#[test]
fn eof_inside_length_field_and_body() {
    check(
        16,
        b"\0\0",
        &(
            vec![],
            Err(FrameError::Truncated {
                part: FramePart::HeaderLength,
                received: 2,
                expected: 4,
            }),
        ),
    );
    check(
        16,
        b"\0\0\0\x01a\0\0\0\x03ab",
        &(
            vec![Bytes::from_static(b"a")],
            Err(FrameError::Truncated {
                part: FramePart::Body,
                received: 2,
                expected: 3,
            }),
        ),
    );
}

#[test]
fn encode_over_limit_is_refused_and_dst_untouched() {
    let mut codec = StrictLengthCodec::new(2);
    let mut dst = BytesMut::new();
    codec.encode(Bytes::from_static(b"hi"), &mut dst).unwrap();
    assert_eq!(&dst[..], b"\0\0\0\x02hi");
    let err = codec
        .encode(Bytes::from_static(b"hey"), &mut dst)
        .unwrap_err();
    assert_eq!(
        err.frame(),
        Some(&FrameError::BodyTooLong {
            declared: 3,
            limit: 2
        })
    );
    assert_eq!(&dst[..], b"\0\0\0\x02hi");
}
