//! The names users' tests were written against keep compiling and mean
//! what they meant: `fuzz::try_check_decoder` returns the oracle's failure
//! (now `fuzz::check_input`), `fuzz::check_decoder` panics with it (now
//! `fuzz::assert_input`).
#![allow(deprecated)]

use framecheck::fuzz;
use tokio_util::codec::LinesCodec;

/// A decoder that forgets its buffer whenever a call ends without a line:
/// a read ending inside a line loses that line's first part.
#[derive(Default)]
struct ForgetsPartialLines(LinesCodec);

impl tokio_util::codec::Decoder for ForgetsPartialLines {
    type Item = String;
    type Error = tokio_util::codec::LinesCodecError;

    fn decode(&mut self, src: &mut bytes::BytesMut) -> Result<Option<String>, Self::Error> {
        let line = self.0.decode(src)?;
        if line.is_none() {
            src.clear();
        }
        Ok(line)
    }
}

#[test]
fn try_check_decoder_returns_what_check_input_returns() {
    let stream = b"abc\ndef\n";
    assert!(fuzz::try_check_decoder(LinesCodec::new, stream).is_ok());
    let old = fuzz::try_check_decoder(ForgetsPartialLines::default, stream).unwrap_err();
    let new = fuzz::check_input(ForgetsPartialLines::default, stream).unwrap_err();
    assert_eq!(old.kind(), new.kind());
    assert_eq!(old.headline(), new.headline());
}

#[test]
fn check_decoder_panics_as_assert_input_does() {
    fuzz::check_decoder(LinesCodec::new, b"abc\ndef\n");
    let old = std::panic::catch_unwind(|| {
        fuzz::check_decoder(ForgetsPartialLines::default, b"abc\ndef\n")
    });
    let new = std::panic::catch_unwind(|| {
        fuzz::assert_input(ForgetsPartialLines::default, b"abc\ndef\n")
    });
    let text = |r: std::thread::Result<()>| {
        let payload = r.expect_err("the oracle must fail");
        payload
            .downcast_ref::<String>()
            .cloned()
            .expect("a formatted panic message")
    };
    assert_eq!(text(old), text(new));
}
