//! Truncation when a frame can end before its encoding does: a line ended
//! by CR, LF or CRLF, encoded with CRLF. A stream cut between the CR and
//! the LF holds the complete line; a decoder that returns it is right. A
//! decoder that makes a *different* frame of a cut one is not.

use std::io;

use bytes::{Buf, BufMut, BytesMut};
use framecheck::{
    chunk::{Chunking, Point},
    proptest::{collection::vec, strategy::Strategy},
    truncation_case, FailureKind, Harness,
};
use tokio_util::codec::{Decoder, Encoder};

/// The suite's fixed seed.
const SEED: u64 = 0x5eed_f4a3;

/// Lines end in CR, LF or CRLF; a CR that is the last byte buffered may
/// have its LF in the next read, which is then skipped. With `eof_partial`,
/// `decode_eof` also returns a line with no end at all (what it buffered).
#[derive(Debug, Default)]
struct AnyNewline {
    after_cr: bool,
    eof_partial: bool,
}

impl Decoder for AnyNewline {
    type Item = String;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<String>> {
        if self.after_cr && !src.is_empty() {
            self.after_cr = false;
            if src[0] == b'\n' {
                src.advance(1);
            }
        }
        let Some(end) = src.iter().position(|&b| b == b'\n' || b == b'\r') else {
            return Ok(None);
        };
        let line = String::from_utf8(src[..end].to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))?;
        let ends = match (src[end], src.get(end + 1)) {
            (b'\r', Some(b'\n')) => 2,
            (b'\r', None) => {
                self.after_cr = true;
                1
            }
            _ => 1,
        };
        src.advance(end + ends);
        Ok(Some(line))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<String>> {
        if let Some(line) = self.decode(src)? {
            return Ok(Some(line));
        }
        if src.is_empty() {
            return Ok(None);
        }
        if self.eof_partial {
            let rest = src.split();
            return String::from_utf8(rest.to_vec())
                .map(Some)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"));
        }
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the stream ended inside a line",
        ))
    }
}

impl Encoder<String> for AnyNewline {
    type Error = io::Error;

    fn encode(&mut self, line: String, dst: &mut BytesMut) -> io::Result<()> {
        if line.contains(['\r', '\n']) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "CR or LF"));
        }
        dst.put_slice(line.as_bytes());
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

fn correct() -> AnyNewline {
    AnyNewline::default()
}

fn eof_partial() -> AnyNewline {
    AnyNewline {
        eof_partial: true,
        ..AnyNewline::default()
    }
}

fn lines() -> impl Strategy<Value = Vec<String>> {
    vec("[a-z ]{0,12}", 0..=6)
}

#[test]
fn a_cut_between_cr_and_lf_that_yields_the_line_sent_passes() {
    let frames = vec!["line".to_owned(), "next".to_owned()];
    // "line\r" | "\n" cut off: the whole line is there.
    let between = Point::IntoFrame {
        frame: 0,
        offset: 5,
    };
    truncation_case(correct, &frames, &between, &Chunking::whole()).unwrap();
    // An empty line: "\r" | "\n".
    let empty = vec![String::new()];
    let cr = Point::IntoFrame {
        frame: 0,
        offset: 1,
    };
    truncation_case(correct, &empty, &cr, &Chunking::whole()).unwrap();
    // Cut inside the text, the line is not all there: an error is wanted,
    // and the correct codec gives it.
    let inside = Point::IntoFrame {
        frame: 1,
        offset: 2,
    };
    truncation_case(correct, &frames, &inside, &Chunking::whole()).unwrap();
}

#[test]
fn the_correct_any_newline_codec_passes_truncation_and_round_trip() {
    let harness = Harness::new().seed(SEED).persistence(false);
    harness.codec(correct).check_truncation(lines()).unwrap();
    harness.check_truncation_detected(correct, lines()).unwrap();
    harness.codec(correct).check_roundtrip(lines()).unwrap();
}

#[test]
fn a_cut_that_yields_a_shorter_different_line_fails() {
    let frames = vec!["line".to_owned(), "next".to_owned()];
    // "ne" of "next" cut off: decode_eof makes "ne" of it.
    let inside = Point::IntoFrame {
        frame: 1,
        offset: 2,
    };
    let failure = truncation_case(eof_partial, &frames, &inside, &Chunking::whole()).unwrap_err();
    eprintln!("{failure}\n");
    assert_eq!(
        failure.kind(),
        &FailureKind::ExtraFrames {
            decoded: 2,
            expected: 1
        },
        "{failure}"
    );
    assert!(
        failure
            .headline()
            .contains("made frame 1 out of the cut one, and it is not the frame sent"),
        "{failure}"
    );
    assert_eq!(failure.decoded().len(), 2, "{failure}");
    assert_eq!(failure.sent().len(), 2, "the cut frame is shown: {failure}");
    // Cut between its CR and LF, the same decoder is right.
    let between = Point::IntoFrame {
        frame: 1,
        offset: 5,
    };
    truncation_case(eof_partial, &frames, &between, &Chunking::whole()).unwrap();
    // The property finds it.
    let failure = Harness::new()
        .seed(SEED)
        .persistence(false)
        .codec(eof_partial)
        .check_truncation(lines())
        .unwrap_err();
    assert!(
        matches!(failure.kind(), FailureKind::ExtraFrames { .. }),
        "{failure}"
    );
}
