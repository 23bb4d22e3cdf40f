//! Inputs the fuzz targets found, minimised, replayed in `cargo test`.
//!
//! Each test names the target that found it and holds the bytes on the wire,
//! so it reads against the format diagram:
//! `i32 LE header length | JSON header | body`.

use bytes::BytesMut;
use framecheck_codec::{CodecError, FrameError, Header, HeaderCodec};
use tokio_util::codec::Decoder;

/// Decodes `stream` as a whole, to the end, and returns how it stopped.
fn decode_to_end(stream: &[u8]) -> Result<usize, FrameError> {
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::from(stream);
    let mut frames = 0;
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(_)) => frames += 1,
            Ok(None) => return Ok(frames),
            Err(CodecError::Frame(e)) => return Err(e),
            Err(e) => panic!("unexpected I/O error {e}"),
        }
    }
}

/// Found by `header` (seconds into the first run): an integer literal just
/// below `i64::MIN` reads as the float -2^63, which the codec took for "not
/// an integer" rather than "too large". Literals from -2^63 - 1 down to
/// -2^63 - 1024 all round to that float.
#[test]
fn data_size_just_below_i64_min_is_too_large() {
    let stream = b"\x22\0\0\0{\"data_size\":-9223372036854775809}";
    assert_eq!(stream.len(), 4 + 0x22);
    match decode_to_end(stream) {
        Err(FrameError::DataSizeTooLarge { approx }) => {
            assert_eq!(approx, -9_223_372_036_854_775_808.0);
        }
        other => panic!("expected DataSizeTooLarge, got {other:?}"),
    }
    for literal in ["-9223372036854775809", "-9223372036854776832"] {
        let json = format!("{{\"data_size\": {literal}}}");
        assert!(
            matches!(
                Header::parse(json.as_bytes()),
                Err(FrameError::DataSizeTooLarge { .. })
            ),
            "{json}: {:?}",
            Header::parse(json.as_bytes())
        );
    }
}

/// i64::MIN itself is a negative integer, not too large.
#[test]
fn data_size_i64_min_is_negative() {
    assert_eq!(
        Header::parse(b"{\"data_size\": -9223372036854775808}"),
        Err(FrameError::DataSizeNegative { value: i64::MIN })
    );
}

/// Found by `header` in the fast build, once buffers grew with the bytes
/// received: a 1 066-byte stream whose header length claims 8 401 bytes,
/// fed in reads. The read buffer reached 16 392 bytes (`BytesMut` doubles
/// its capacity on a reserve), over the model's old bound of four times the
/// stream plus the limits; the bound is now four times the stream plus two
/// 8 KiB growth steps, whatever the limits, which the codec's growth rule
/// keeps.
#[test]
fn buffer_growth_under_a_long_header_claim_stays_in_bound() {
    use arbitrary::{Arbitrary, Unstructured};
    use framecheck_codec_fuzz::header::{check, HeaderCase};
    let data: Vec<u8> = [
        &b"\x5e\x60\x00\xda\x9e\xff\x22\x00\x9e\x9a\x86\xff\x00\x86\xff\x00"[..],
        &b"\x00\x00\xbb\xb3\xb3\xb3\xb3\xb3\xff\xff\xe5\x00\x24\x02\x29\x74"[..],
        &b"\xff\xfe\xd0\x00\x61\x41\xda\xfd\x65\x3a\x5f\x97\x85\xfa\x9e\x9a"[..],
        &b"\x86\xff\x00\x86\xff\x00\x00\x00\xbb\xb3\xb3\xb3\x30\xb3\xff\xff"[..],
        &b"\x24\xff\x24\x02\x00\x29\xfe\xd0\x00\x00\x00"[..],
    ]
    .concat();
    let case = HeaderCase::arbitrary_take_rest(Unstructured::new(&data)).unwrap();
    check(&case, HeaderCodec::with_limits).unwrap();
}
