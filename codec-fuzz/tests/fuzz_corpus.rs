//! The committed seed corpus (`fuzz/corpus/<target>/<kind>`): every seed is
//! the kind its name says, passes its target's checks, and every kind has a
//! seed.
//!
//! To (re)generate the seeds after changing a target's input type:
//! `FRAMECHECK_WRITE_CORPUS=1 cargo test -p framecheck-codec-fuzz --test fuzz_corpus`.
//! Structured seeds are found by a deterministic search for the shortest
//! input of each kind; `decode` seeds are written out from the table below.

use std::{
    fs,
    path::{Path, PathBuf},
};

use arbitrary::{Arbitrary, Unstructured};
use framecheck::{io::Step, targets::RoundtripInput};
use framecheck_codec::{CodecError, FrameError, FramePart, HeaderCodec};
use framecheck_codec_fuzz::{
    header::{self, Built, HeaderCase, LengthField, WantError},
    roundtrip::{self, FuzzFrame},
    transport::{self, FuzzFraming, TransportCase},
};
use tokio_util::codec::Decoder;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn writing() -> bool {
    std::env::var_os("FRAMECHECK_WRITE_CORPUS").is_some()
}

/// Deterministic candidate inputs, short first, biased towards 0x00 and
/// 0xff bytes (which pick first and last enum variants).
fn candidates(count: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..count).map(move |i| {
        let len = 1 + (next() as usize) % (4 + i / 200).min(160);
        (0..len)
            .map(|_| match next() % 8 {
                0..=2 => 0,
                3 => 0xff,
                _ => (next() >> 32) as u8,
            })
            .collect()
    })
}

/// For each kind, the shortest candidate whose value has it.
fn search<T>(
    kinds: &[&'static str],
    parse: impl Fn(&[u8]) -> Option<T>,
    has: impl Fn(&T, &str) -> bool,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut best: Vec<Option<Vec<u8>>> = vec![None; kinds.len()];
    for input in candidates(400_000) {
        let Some(value) = parse(&input) else { continue };
        for (i, kind) in kinds.iter().enumerate() {
            if has(&value, kind) && best[i].as_ref().is_none_or(|b| input.len() < b.len()) {
                best[i] = Some(input.clone());
            }
        }
    }
    kinds
        .iter()
        .zip(best)
        .map(|(k, b)| (*k, b.unwrap_or_else(|| panic!("no candidate of kind {k}"))))
        .collect()
}

/// Writes the seeds (when asked) and returns the committed ones, checking
/// that each kind has exactly one file and no file is of an unknown kind.
fn seeds(
    target: &str,
    kinds: &[&'static str],
    generate: impl Fn() -> Vec<(&'static str, Vec<u8>)>,
) -> Vec<(&'static str, Vec<u8>)> {
    let dir = corpus_dir(target);
    if writing() {
        fs::create_dir_all(&dir).unwrap();
        for entry in fs::read_dir(&dir).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for (kind, bytes) in generate() {
            fs::write(dir.join(kind), bytes).unwrap();
        }
    }
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut want: Vec<&str> = kinds.to_vec();
    want.sort();
    assert_eq!(names, want, "seeds in {}", dir.display());
    kinds
        .iter()
        .map(|k| (*k, fs::read(dir.join(k)).unwrap()))
        .collect()
}

fn header_tags(case: &HeaderCase, built: &Built, tag: &str) -> bool {
    let err = |f: &dyn Fn(&FrameError) -> bool| match &built.end {
        Err(WantError::Exact(e)) => f(e),
        _ => false,
    };
    let one_frame = built.frames.len() == 1;
    match tag {
        "frame" => one_frame && built.end.is_ok(),
        "frame-python-fields" => {
            one_frame
                && built.end.is_ok()
                && built.frames[0].header.filename.is_some()
                && !built.frames[0].header.extra.is_empty()
        }
        "frame-header-at-limit" => {
            one_frame && built.end.is_ok() && matches!(case.length, LengthField::AtLimit { .. })
        }
        "frame-then-garbage" => one_frame && built.end.is_err(),
        "negative-header-length" => err(&|e| matches!(e, FrameError::NegativeHeaderLength { .. })),
        "header-too-long" => err(&|e| matches!(e, FrameError::HeaderTooLong { .. })),
        "header-not-utf8" => err(&|e| matches!(e, FrameError::HeaderNotUtf8 { .. })),
        "header-not-json" => built.end == Err(WantError::NotJson) && built.stream.len() > 8,
        "header-not-object" => err(&|e| matches!(e, FrameError::HeaderNotObject { .. })),
        "duplicate-field" => err(&|e| matches!(e, FrameError::DuplicateField { .. })),
        "data-size-missing" => err(&|e| matches!(e, FrameError::DataSizeMissing)),
        "data-size-negative" => err(&|e| matches!(e, FrameError::DataSizeNegative { .. })),
        "data-size-not-integer" => err(&|e| matches!(e, FrameError::DataSizeNotInteger { .. })),
        "data-size-too-large" => matches!(built.end, Err(WantError::TooLarge(v)) if v > 0.0),
        "field-not-string" => err(&|e| matches!(e, FrameError::FieldNotString { .. })),
        "body-too-long" => err(&|e| matches!(e, FrameError::BodyTooLong { .. })),
        "truncated-length" => {
            err(&|e| {
                matches!(
                    e,
                    FrameError::Truncated {
                        part: FramePart::HeaderLength,
                        ..
                    }
                )
            }) && built.frames.is_empty()
        }
        "truncated-header" => err(&|e| {
            matches!(
                e,
                FrameError::Truncated {
                    part: FramePart::Header,
                    ..
                }
            )
        }),
        "truncated-body" => err(&|e| {
            matches!(
                e,
                FrameError::Truncated {
                    part: FramePart::Body,
                    ..
                }
            )
        }),
        other => panic!("unknown header kind {other}"),
    }
}

const HEADER_KINDS: &[&str] = &[
    "frame",
    "frame-python-fields",
    "frame-header-at-limit",
    "frame-then-garbage",
    "negative-header-length",
    "header-too-long",
    "header-not-utf8",
    "header-not-json",
    "header-not-object",
    "duplicate-field",
    "data-size-missing",
    "data-size-negative",
    "data-size-not-integer",
    "data-size-too-large",
    "field-not-string",
    "body-too-long",
    "truncated-length",
    "truncated-header",
    "truncated-body",
];

/// Reads a structured input the way `libfuzzer_sys::fuzz_target!` does:
/// inputs shorter than the type's minimum size are rejected unread.
fn arbitrary_input<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> Option<T> {
    if bytes.len() < T::size_hint(0).0 {
        return None;
    }
    T::arbitrary_take_rest(Unstructured::new(bytes)).ok()
}

fn parse_header(bytes: &[u8]) -> Option<(HeaderCase, Built)> {
    let case: HeaderCase = arbitrary_input(bytes)?;
    let built = case.build();
    Some((case, built))
}

#[test]
fn header_seeds_are_of_their_kind_and_pass() {
    let found = seeds("header", HEADER_KINDS, || {
        search(HEADER_KINDS, parse_header, |(c, b), k| header_tags(c, b, k))
    });
    for (kind, bytes) in found {
        let (case, built) = parse_header(&bytes).expect("a seed parses");
        assert!(
            header_tags(&case, &built, kind),
            "seed {kind} is not of its kind: {case:?}"
        );
        if let Err(failure) = header::check(&case, HeaderCodec::with_limits) {
            panic!("seed {kind}: {failure}");
        }
    }
}

/// `decode` seeds, in the layout of `framecheck::fuzz` (the stream, then,
/// for `chunked-reads` only, the chunking bytes behind the 4-byte trailer):
/// the kind names the stream's frames and how decoding it ends. (They were
/// written in framecheck 0.1's layout, a byte saying how many chunking
/// bytes follow and then the stream; the streams and the chunking bytes
/// are the same.)
/// One `decode` seed: its kind (the file name), its stream, the chunking
/// bytes behind its trailer (if any), and how the stream decodes.
struct DecodeSeed {
    kind: &'static str,
    stream: &'static [u8],
    chunking: Option<&'static [u8]>,
    frames: usize,
    end: Option<FrameError>,
}

const DECODE_SEEDS: &[DecodeSeed] = &[
    DecodeSeed {
        kind: "frame-minimal",
        stream: b"\x10\0\0\0{\"data_size\": 2}hi",
        chunking: None,
        frames: 1,
        end: None,
    },
    DecodeSeed {
        kind: "frame-python",
        stream: b"\x35\0\0\0{\"filename\": \"a.txt\", \"data_size\": 5, \"hash\": \"ab12\"}hello",
        chunking: None,
        frames: 1,
        end: None,
    },
    DecodeSeed {
        kind: "frames-two",
        stream: b"\x10\0\0\0{\"data_size\": 1}a\x10\0\0\0{\"data_size\": 0}",
        chunking: None,
        frames: 2,
        end: None,
    },
    DecodeSeed {
        kind: "negative-header-length",
        stream: b"\xff\xff\xff\xff{}",
        chunking: None,
        frames: 0,
        end: Some(FrameError::NegativeHeaderLength { declared: -1 }),
    },
    DecodeSeed {
        kind: "header-too-long",
        stream: b"\x01\0\x01\0{}",
        chunking: None,
        frames: 0,
        end: Some(FrameError::HeaderTooLong {
            declared: 65537,
            limit: 65536,
        }),
    },
    DecodeSeed {
        kind: "body-too-long",
        stream: b"\x16\0\0\0{\"data_size\": 8388609}",
        chunking: None,
        frames: 0,
        end: Some(FrameError::BodyTooLong {
            declared: 8_388_609,
            limit: 8_388_608,
        }),
    },
    DecodeSeed {
        kind: "truncated-body",
        stream: b"\x10\0\0\0{\"data_size\": 9}abc",
        chunking: None,
        frames: 0,
        end: Some(FrameError::Truncated {
            part: FramePart::Body,
            received: 3,
            expected: 9,
        }),
    },
    DecodeSeed {
        kind: "data-size-missing",
        stream: b"\x0e\0\0\0{\"size\": 3}   abc",
        chunking: None,
        frames: 0,
        end: Some(FrameError::DataSizeMissing),
    },
    DecodeSeed {
        kind: "chunked-reads",
        stream: b"\x10\0\0\0{\"data_size\": 2}hi\x10\0\0\0{\"data_size\": 3}abc",
        chunking: Some(&[1, 2, 3, 4]),
        frames: 2,
        end: None,
    },
];

/// The file a `decode` seed is written to.
fn decode_seed_bytes(stream: &[u8], chunking: Option<&[u8]>) -> Vec<u8> {
    match chunking {
        Some(spec) => framecheck::fuzz::with_chunking(stream, spec),
        None => stream.to_vec(),
    }
}

#[test]
fn decode_seeds_are_of_their_kind_and_pass() {
    let kinds: Vec<&'static str> = DECODE_SEEDS.iter().map(|s| s.kind).collect();
    let found = seeds("decode", &kinds, || {
        DECODE_SEEDS
            .iter()
            .map(|s| (s.kind, decode_seed_bytes(s.stream, s.chunking)))
            .collect()
    });
    for ((kind, bytes), seed) in found.iter().zip(DECODE_SEEDS) {
        let (table, spec, frames, end) = (seed.stream, &seed.chunking, &seed.frames, &seed.end);
        assert_eq!(
            bytes[..],
            decode_seed_bytes(table, *spec)[..],
            "seed {kind} differs from the table"
        );
        // The oracle reads back the stream and the chunking as written.
        let (chunking, stream) = framecheck::fuzz::parse_input(bytes);
        assert_eq!(stream, table, "seed {kind}: its stream");
        let want = spec.map(|spec| {
            framecheck::chunk::Chunking::arbitrary_take_rest(Unstructured::new(spec)).unwrap()
        });
        assert_eq!(chunking, want, "seed {kind}: its chunking");
        if let Some(chunking) = &chunking {
            assert!(!chunking.cuts().is_empty(), "seed {kind}: no cuts");
        }
        let mut codec = HeaderCodec::new();
        let mut buf = bytes::BytesMut::from(stream);
        let mut got = 0;
        let stop = loop {
            match codec.decode_eof(&mut buf) {
                Ok(Some(_)) => got += 1,
                Ok(None) => break None,
                Err(CodecError::Frame(e)) => break Some(e),
                Err(e) => panic!("seed {kind}: {e}"),
            }
        };
        assert_eq!((got, &stop), (*frames, end), "seed {kind}");
        assert_eq!(
            framecheck_codec_fuzz::decode::plain(bytes),
            (got, stop.is_none()),
            "seed {kind}: decode_plain decodes the same stream"
        );
        framecheck::fuzz::check_input(HeaderCodec::new, bytes)
            .unwrap_or_else(|f| panic!("seed {kind}: {f}"));
    }
}

const ROUNDTRIP_KINDS: &[&str] = &[
    "frame-one",
    "frame-empty-body",
    "frames-several",
    "frame-python-fields",
    "frame-extra-fields",
    "reads-cut",
];

fn parse_roundtrip(bytes: &[u8]) -> Option<RoundtripInput<FuzzFrame>> {
    arbitrary_input(bytes)
}

fn roundtrip_tags(input: &RoundtripInput<FuzzFrame>, tag: &str) -> bool {
    let f = &input.frames;
    match tag {
        "frame-one" => f.len() == 1 && !f[0].body.is_empty(),
        "frame-empty-body" => f.len() == 1 && f[0].body.is_empty(),
        "frames-several" => f.len() >= 3,
        "frame-python-fields" => f.iter().any(|f| f.filename.is_some() && f.hash.is_some()),
        "frame-extra-fields" => f.iter().any(|f| f.extra.len() >= 2),
        "reads-cut" => !f.is_empty() && input.chunking.cuts().len() >= 2,
        other => panic!("unknown roundtrip kind {other}"),
    }
}

#[test]
fn roundtrip_seeds_are_of_their_kind_and_pass() {
    let found = seeds("roundtrip", ROUNDTRIP_KINDS, || {
        search(ROUNDTRIP_KINDS, parse_roundtrip, roundtrip_tags)
    });
    for (kind, bytes) in found {
        let input = parse_roundtrip(&bytes).expect("a seed parses");
        assert!(
            roundtrip_tags(&input, kind),
            "seed {kind} is not of its kind: {input:?}"
        );
        roundtrip::run(&input);
        roundtrip::run_owned(input);
    }
}

const TRANSPORT_KINDS: &[&str] = &[
    "two-send",
    "two-send-ack",
    "length",
    "json-header",
    "json-header-feed",
    "held-writes",
];

fn parse_transport(bytes: &[u8]) -> Option<TransportCase> {
    arbitrary_input(bytes)
}

fn transport_tags(case: &TransportCase, tag: &str) -> bool {
    let several = case.messages.len() >= 2;
    match tag {
        "two-send" => several && matches!(case.framing, FuzzFraming::TwoSend { ack: false }),
        "two-send-ack" => several && matches!(case.framing, FuzzFraming::TwoSend { ack: true }),
        "length" => several && matches!(case.framing, FuzzFraming::Length),
        "json-header" => several && matches!(case.framing, FuzzFraming::JsonHeader) && !case.feed,
        "json-header-feed" => {
            several && matches!(case.framing, FuzzFraming::JsonHeader) && case.feed
        }
        "held-writes" => {
            several
                && case
                    .writes
                    .steps()
                    .iter()
                    .any(|s| matches!(s, Step::Hold(_)))
        }
        other => panic!("unknown transport kind {other}"),
    }
}

#[test]
fn transport_seeds_are_of_their_kind_and_pass() {
    let found = seeds("transport", TRANSPORT_KINDS, || {
        search(TRANSPORT_KINDS, parse_transport, transport_tags)
    });
    for (kind, bytes) in found {
        let case = parse_transport(&bytes).expect("a seed parses");
        assert!(
            transport_tags(&case, kind),
            "seed {kind} is not of its kind: {case:?}"
        );
        transport::check(&case).unwrap_or_else(|f| panic!("seed {kind}: {f}"));
    }
}
