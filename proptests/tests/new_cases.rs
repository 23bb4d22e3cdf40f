//! The harness's second edition, each feature shown failing without it:
//! split codecs compared by a function, glue off, merged pieces, a hang
//! turned into a failure, FramedRead's read sizes, a clean end after a
//! variable-length text header, and the raw-bytes fuzz oracle.

use std::{io, time::Duration};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use framecheck::{chunk::Chunking, strategies, FailureKind, Harness, Property, ReadLimit};
use proptest::{collection::vec, prelude::*};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec, LinesCodec};

/// `Content-Length: N\r\n\r\n` then N bytes; with `clean_after_head`, a
/// stream that ends right after a header ends cleanly (the bug).
#[derive(Default)]
struct TextHeader {
    body: Option<usize>,
    clean_after_head: bool,
}

impl Decoder for TextHeader {
    type Item = Bytes;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        if self.body.is_none() {
            let Some(end) = src.windows(4).position(|w| w == b"\r\n\r\n") else {
                if src.len() > 64 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "header too long",
                    ));
                }
                return Ok(None);
            };
            let head = std::str::from_utf8(&src[..end])
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))?;
            let n: usize = head
                .strip_prefix("Content-Length: ")
                .and_then(|n| n.parse().ok())
                .filter(|&n| n <= 1 << 20)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad header"))?;
            src.advance(end + 4);
            self.body = Some(n);
        }
        let n = self.body.expect("set above");
        if src.len() < n {
            return Ok(None);
        }
        self.body = None;
        Ok(Some(src.split_to(n).freeze()))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        if let Some(item) = self.decode(src)? {
            return Ok(Some(item));
        }
        let partial = !src.is_empty() || self.body.is_some();
        let after_head = self.body.is_some() && src.is_empty();
        if partial && !(self.clean_after_head && after_head) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "cut inside a message",
            ));
        }
        Ok(None)
    }
}

impl Encoder<Bytes> for TextHeader {
    type Error = io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
        dst.put_slice(format!("Content-Length: {}\r\n\r\n", item.len()).as_bytes());
        dst.put_slice(&item);
        Ok(())
    }
}

fn text_bodies() -> impl Strategy<Value = Vec<Bytes>> + Clone {
    vec(strategies::bodies_of(0..2_000), 0..5)
}

#[test]
fn a_clean_end_after_a_text_header_is_found_in_every_run() {
    for _ in 0..5 {
        let failure = Harness::new()
            .persistence(false)
            .check_truncation_detected(
                || TextHeader {
                    clean_after_head: true,
                    ..TextHeader::default()
                },
                text_bodies(),
            )
            .unwrap_err();
        assert!(
            matches!(failure.kind(), FailureKind::CleanEndInsideFrame { .. }),
            "{failure}"
        );
        assert!(
            failure.headline().contains("exactly between its"),
            "{failure}"
        );
    }
    Harness::new()
        .persistence(false)
        .check_truncation_detected(TextHeader::default, text_bodies())
        .unwrap();
}

#[test]
fn a_decoder_that_hangs_is_a_failure_naming_its_input() {
    struct Hangs;
    impl Decoder for Hangs {
        type Item = Bytes;
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
            if src.len() >= 3 && src[2] == 0xFF {
                // An endless loop on this input; it sleeps to spare the CPU.
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            LengthDelimitedCodec::new()
                .decode(src)
                .map(|f| f.map(BytesMut::freeze))
        }
    }
    impl Encoder<Bytes> for Hangs {
        type Error = io::Error;
        fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
            LengthDelimitedCodec::new().encode(item, dst)
        }
    }
    // Byte 2 of the stream is 0xFF: a body of 0xFF00 to 0xFFFF bytes.
    let frames = vec(strategies::bodies_of(65_280..65_300), 1..2);
    let failure = Harness::new()
        .persistence(false)
        .cases(4)
        .time_limit(Duration::from_millis(300))
        .codec(|| Hangs)
        .check_roundtrip(frames)
        .unwrap_err();
    assert_eq!(
        failure.kind(),
        &FailureKind::Hung { limit_ms: 300 },
        "{failure}"
    );
    assert!(failure.to_string().contains("reads ("), "{failure}");
    assert!(
        failure.bytes().len() >= 3 && failure.bytes()[2] == 0xFF,
        "{failure}"
    );
}

#[test]
fn split_codecs_compare_by_key_with_glue_off() {
    #[derive(Debug)]
    struct Parsed {
        text: String,
    }
    struct Server;
    impl Decoder for Server {
        type Item = Parsed;
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Parsed>> {
            let line = LinesCodec::new()
                .decode(src)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            Ok(line.map(|text| Parsed { text }))
        }
    }
    let result = Harness::new()
        .persistence(false)
        .glue(false)
        .split(LinesCodec::new, || Server)
        .compare_by_key(|p: &Parsed| p.text.clone(), |s: &String| s.clone())
        .check_roundtrip(strategies::lines());
    result.unwrap();
}

#[test]
fn pieces_merged_by_the_user_function_are_not_a_divergence() {
    /// Returns whatever body bytes it has as a piece: the pieces follow the
    /// reads.
    #[derive(Default)]
    struct Streaming(Option<usize>);
    impl Decoder for Streaming {
        type Item = BytesMut;
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
            let left = match self.0 {
                Some(n) => n,
                None if src.len() >= 4 => {
                    let n = src.get_u32() as usize;
                    if n == 0 {
                        return Ok(Some(BytesMut::new()));
                    }
                    n
                }
                None => return Ok(None),
            };
            if src.is_empty() {
                self.0 = Some(left);
                return Ok(None);
            }
            let piece = src.split_to(left.min(src.len()));
            let rest = left - piece.len();
            self.0 = (rest > 0).then_some(rest);
            Ok(Some(piece))
        }
    }
    let frames = || vec(strategies::bodies_of(1..300), 1..2);
    let plain = Harness::new()
        .persistence(false)
        .glue(false)
        .split(LengthDelimitedCodec::new, Streaming::default)
        .check_roundtrip(frames());
    assert!(plain.is_err(), "pieces differ from frames without a merge");
    Harness::new()
        .persistence(false)
        .glue(false)
        .split(LengthDelimitedCodec::new, Streaming::default)
        .merge(|a: &mut BytesMut, b: BytesMut| {
            a.extend_from_slice(&b);
            None
        })
        .check_roundtrip(frames())
        .unwrap();
}

/// Accepts frames up to 16 bytes, but checks the limit per `decode` call,
/// only when the whole frame is buffered: an oversize frame in small reads
/// passes.
#[derive(Default)]
struct PerCallLimit(Option<usize>);

impl Decoder for PerCallLimit {
    type Item = BytesMut;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        let n = match self.0 {
            Some(n) => n,
            None if !src.is_empty() => {
                let n = usize::from(src.get_u8());
                if n > 16 && src.len() >= n {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "over 16 bytes"));
                }
                self.0 = Some(n);
                n
            }
            None => return Ok(None),
        };
        if src.len() < n {
            return Ok(None);
        }
        self.0 = None;
        Ok(Some(src.split_to(n)))
    }
}

#[test]
fn the_raw_bytes_oracle_finds_a_per_call_limit_within_a_few_hundred_inputs() {
    use proptest::test_runner::{
        Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
    };
    let config = Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    };
    // Random bytes of the decoder's alphabet: lengths 0..=40, body bytes.
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]));
    let inputs = vec(0u8..=40, 0..120);
    let result = runner.run(&inputs, |data| {
        framecheck::fuzz::check_input_unreduced(PerCallLimit::default, &data)
            .map_err(|f| TestCaseError::fail(f.to_string()))
    });
    match result {
        Err(TestError::Fail(report, _)) => {
            let report = report.message().to_owned();
            assert!(report.contains("read"), "{report}");
        }
        other => panic!("per-call limit not found: {other:?}"),
    }
}

#[test]
fn the_oracle_runs_under_proptest_on_generated_inputs() {
    let failure = Harness::new()
        .persistence(false)
        .split(
            || {
                LengthDelimitedCodec::builder()
                    .length_field_length(1)
                    .new_codec()
            },
            PerCallLimit::default,
        )
        .check_oracle(vec(strategies::bodies_of(0..40), 1..4))
        .unwrap_err();
    assert_eq!(failure.property(), Some(Property::Oracle), "{failure}");
    assert!(!failure.bytes().is_empty(), "{failure}");
}

#[test]
fn a_failure_that_needs_a_read_larger_than_framed_read_says_so() {
    // Breaks only when more than 8 KiB arrive in one read.
    #[derive(Default)]
    struct Big(usize, LengthDelimitedCodec);
    impl Decoder for Big {
        type Item = BytesMut;
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
            if src.len() > self.0 + 8192 {
                return Err(io::Error::other("more than 8 KiB arrived at once"));
            }
            let item = self.1.decode(src)?;
            self.0 = src.len();
            Ok(item)
        }
    }
    let frames = || vec(strategies::bodies_of(9_500..=9_600), 1..2);
    let failure = Harness::new()
        .persistence(false)
        .chunking(Chunking::whole())
        .split(LengthDelimitedCodec::new, Big::default)
        .check_roundtrip(frames())
        .unwrap_err();
    assert!(
        failure
            .to_string()
            .contains("FramedRead::new reads at most"),
        "{failure}"
    );
    assert!(
        failure.to_string().contains("this case passes"),
        "{failure}"
    );
    // FramedRead's sizes: the big frame arrives in reads of 8 KiB.
    Harness::new()
        .persistence(false)
        .chunking(Chunking::whole())
        .read_limit(ReadLimit::FramedRead { capacity: 8192 })
        .split(LengthDelimitedCodec::new, Big::default)
        .check_roundtrip(frames())
        .unwrap();
}

#[test]
fn check_all_reports_each_property_and_only_picks_one_kind() {
    let verdicts = Harness::new()
        .persistence(false)
        .codec(LengthDelimitedCodec::new)
        .check_all(strategies::byte_frames());
    assert!(verdicts.roundtrip.is_ok(), "{verdicts}");
    assert!(verdicts.truncation.is_err(), "{verdicts}");
    assert!(verdicts.oracle.is_ok(), "{verdicts}");
    let panics_only = Harness::new()
        .persistence(false)
        .only(|k| matches!(k, FailureKind::Panicked))
        .check_truncation_detected(LengthDelimitedCodec::new, strategies::byte_frames());
    assert!(panics_only.is_ok(), "{panics_only:?}");
}

#[test]
fn a_headline_never_says_cut_when_nothing_was() {
    /// Errs at every end of stream, even a clean one.
    struct ErrsAtEnd(LengthDelimitedCodec);
    impl Decoder for ErrsAtEnd {
        type Item = BytesMut;
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
            self.0.decode(src)
        }
        fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
            match self.0.decode(src)? {
                Some(item) => Ok(Some(item)),
                None => Err(io::Error::other("always")),
            }
        }
    }
    impl Encoder<Bytes> for ErrsAtEnd {
        type Error = io::Error;
        fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
            self.0.encode(item, dst)
        }
    }
    let frames = vec![Bytes::from_static(b"abcd")];
    let end = framecheck::chunk::Point::BeforeEnd { frame: 0, back: 0 };
    let make = || ErrsAtEnd(LengthDelimitedCodec::new());
    let failure = framecheck::truncation_case(make, &frames, &end, &Chunking::whole()).unwrap_err();
    assert!(
        failure
            .headline()
            .starts_with("the whole 8-byte stream (nothing cut)"),
        "{failure}"
    );
    assert!(!failure.headline().contains("cut at byte"), "{failure}");
}

#[test]
fn a_decoder_with_a_private_buffer_is_not_given_a_header() {
    /// Takes every byte into its own buffer; a frame is 7 bytes; the
    /// second frame comes out wrong when a read splits it.
    #[derive(Default)]
    struct Private(Vec<u8>, usize);
    impl Decoder for Private {
        type Item = Vec<u8>;
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
            let take = src.len().min(7 - self.0.len());
            self.0.extend_from_slice(&src.split_to(take));
            if self.0.len() < 7 {
                return Ok(None);
            }
            self.1 += 1;
            let mut frame = std::mem::take(&mut self.0);
            if self.1 == 2 && take < 7 {
                frame[6] ^= 1;
            }
            Ok(Some(frame))
        }
    }
    impl Encoder<Vec<u8>> for Private {
        type Error = io::Error;
        fn encode(&mut self, item: Vec<u8>, dst: &mut BytesMut) -> io::Result<()> {
            dst.put_slice(&item);
            Ok(())
        }
    }
    let frames = vec(vec(any::<u8>(), 7..=7), 2..4);
    let failure = Harness::new()
        .persistence(false)
        .codec(Private::default)
        .check_roundtrip(frames)
        .unwrap_err();
    let report = failure.to_string();
    assert!(!report.contains("header"), "{report}");
    assert!(report.contains("-byte encoding"), "{report}");
}
