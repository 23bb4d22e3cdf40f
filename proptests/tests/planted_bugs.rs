//! Each planted bug is caught, with default settings but the suite's fixed
//! seed (`PROPTEST_CASES` respected), and the same codec without the bug
//! passes.

mod planted;

use bytes::Bytes;
use framecheck::{strategies, Failure, FailureKind, Harness};
use planted::{width_for, Bug, Planted, BUGS};
use proptest::{collection::vec, prelude::*, test_runner::TestCaseError};

/// The suite's fixed seed: a CI run means the same thing every time (a
/// planted bug found once is found on every run). How often each bug is
/// found with fresh random seeds at default settings is measured by
/// `cargo run --release -p framecheck --example detection_rate`.
const SEED: u64 = 0x5eed_f4a3;
/// [`SEED`] as the 32 bytes of a ChaCha seed.
const SEED_BYTES: [u8; 32] = {
    let mut bytes = [0u8; 32];
    let le = SEED.to_le_bytes();
    let mut i = 0;
    while i < 8 {
        bytes[i] = le[i];
        i += 1;
    }
    bytes
};

/// Frames that fit a `width`-byte length field.
fn frames_for(width: usize) -> BoxedStrategy<Vec<Bytes>> {
    match width {
        1 => vec(
            strategies::bodies().prop_map(|b| b.slice(..b.len().min(255))),
            0..=8,
        )
        .boxed(),
        2 => vec(
            strategies::bodies().prop_map(|b| b.slice(..b.len().min(65_535))),
            0..=8,
        )
        .boxed(),
        _ => strategies::byte_frames().boxed(),
    }
}

/// Runs the property that catches `bug` (the suite's seed).
fn check(bug: Bug, width: usize) -> Result<(), Failure> {
    let harness = Harness::new().seed(SEED).persistence(false);
    let make = move || Planted::new(bug, width);
    match bug {
        Bug::EofSwallowsPartial | Bug::PanicsOnPartialHeader => {
            harness.check_truncation_detected(make, frames_for(width))
        }
        _ => harness.check_roundtrip(make, frames_for(width)),
    }
}

fn caught(index: usize) -> Failure {
    let (name, bug) = BUGS[index];
    match check(bug, width_for(index)) {
        Err(failure) => {
            eprintln!("{name}:\n{failure}\n");
            failure
        }
        Ok(()) => panic!("planted bug not caught: {name} ({bug:?})"),
    }
}

#[test]
fn correct_planted_codec_passes_at_every_width() {
    for width in [1, 2, 4, 8] {
        let harness = Harness::new().seed(SEED).persistence(false);
        let make = move || Planted::new(Bug::None, width);
        harness.check_roundtrip(make, frames_for(width)).unwrap();
        harness
            .check_truncation_detected(make, frames_for(width))
            .unwrap();
    }
}

#[test]
fn read_ending_inside_a_header_is_caught_at_each_byte() {
    for index in [0, 1, 2, 12, 13] {
        let failure = caught(index);
        assert!(
            matches!(
                failure.kind(),
                FailureKind::WrongFrame { .. }
                    | FailureKind::DecodeError { .. }
                    | FailureKind::MissingFrames { .. }
                    | FailureKind::ExtraFrames { .. }
            ),
            "{failure}"
        );
    }
    // The report names the byte: a read ending k bytes into the header.
    let failure = caught(1);
    assert!(
        failure.headline().contains("2 bytes into its 4-byte"),
        "{failure}"
    );
}

#[test]
fn read_ending_between_header_and_body_is_caught() {
    let failure = caught(3);
    assert!(
        failure
            .to_string()
            .contains("exactly between its 4-byte header"),
        "{failure}"
    );
}

#[test]
fn read_ending_one_byte_before_a_frame_end_is_caught() {
    let failure = caught(4);
    assert!(
        matches!(failure.kind(), FailureKind::WrongFrame { .. }),
        "{failure}"
    );
    assert!(
        failure.to_string().contains("one byte before its end"),
        "{failure}"
    );
}

#[test]
fn frames_glued_in_one_read_are_caught() {
    let failure = caught(5);
    assert!(
        matches!(
            failure.kind(),
            FailureKind::MissingFrames { .. }
                | FailureKind::WrongFrame { .. }
                | FailureKind::DecodeError { .. }
        ),
        "{failure}"
    );
}

#[test]
fn state_kept_across_frames_is_caught() {
    caught(6);
}

#[test]
fn empty_frames_stalling_the_decoder_are_caught() {
    let failure = caught(7);
    assert!(failure.to_string().contains("b\"\""), "{failure}");
}

#[test]
fn truncated_stream_ending_cleanly_is_caught() {
    let failure = caught(8);
    assert!(
        matches!(failure.kind(), FailureKind::CleanEndInsideFrame { .. }),
        "{failure}"
    );
}

#[test]
fn lengths_past_255_and_65535_are_caught() {
    for index in [9, 10] {
        let failure = caught(index);
        assert!(
            failure.to_string().contains("came out different")
                || failure.to_string().contains("error"),
            "{failure}"
        );
    }
}

#[test]
fn decoder_panic_is_reported_not_propagated() {
    let failure = caught(11);
    assert_eq!(failure.kind(), &FailureKind::Panicked, "{failure}");
    assert!(failure.headline().contains("panicked"), "{failure}");
}

/// Fuzz inputs: a random chunking spec, then valid frames of the planted
/// codec, sometimes cut short.
fn fuzz_inputs() -> impl Strategy<Value = Vec<u8>> {
    use tokio_util::codec::Encoder;
    let frames = vec(strategies::bodies_of(0usize..300), 0..6);
    (
        vec(any::<u8>(), 0..16),
        frames,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(spec, frames, cut)| {
            let mut stream = bytes::BytesMut::new();
            for frame in frames {
                Planted::new(Bug::None, 4)
                    .encode(frame, &mut stream)
                    .unwrap();
            }
            let keep = stream.len() - cut.index(stream.len() / 8 + 1);
            framecheck::fuzz::with_chunking(&stream[..keep], &spec)
        })
}

#[test]
fn fuzz_oracle_catches_the_bugs_that_depend_on_the_reads() {
    use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
    let run = |bug: Bug| {
        let mut runner = TestRunner::new_with_rng(
            Config {
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &SEED_BYTES),
        );
        runner.run(&fuzz_inputs(), |data| {
            framecheck::fuzz::check_input_unreduced(|| Planted::new(bug, 4), &data)
                .map_err(|f| TestCaseError::fail(f.to_string()))
        })
    };
    run(Bug::None).unwrap();
    for bug in [
        Bug::ShortHeaderAt(1),
        Bug::ShortHeaderAt(3),
        Bug::ForgetsAtBoundary,
        Bug::OffByOneEnd,
        Bug::ClearsAfterFrame,
        Bug::StateNotReset,
    ] {
        match run(bug) {
            Err(TestError::Fail(reason, data)) => eprintln!("{bug:?}: {data:?}\n{reason}\n"),
            other => panic!("fuzz oracle missed {bug:?}: {other:?}"),
        }
    }
}

#[test]
fn gluing_and_stale_state_are_caught_from_a_one_frame_strategy() {
    let one_frame = || vec(strategies::bodies_of(0usize..100), 1..=1);
    for bug in [Bug::ClearsAfterFrame, Bug::StateNotReset] {
        let result = Harness::new()
            .seed(SEED)
            .persistence(false)
            .check_roundtrip(move || Planted::new(bug, 4), one_frame());
        assert!(result.is_err(), "{bug:?} not caught");
    }
}

#[test]
fn long_headers_are_cut_at_every_byte_and_at_their_end() {
    // A 40-byte header (as long as a small JSON header): broken when a read
    // ends exactly 37 bytes into it, or exactly at its end.
    for bug in [Bug::ShortHeaderAt(37), Bug::ForgetsAtBoundary] {
        let failure = Harness::new()
            .seed(SEED)
            .persistence(false)
            .check_roundtrip(move || Planted::new(bug, 40), strategies::byte_frames())
            .unwrap_err();
        eprintln!("{failure}\n");
    }
}

// ---------------------------------------------------------------------------
// The text protocol's planted bugs (a variable-length header line).

use planted::text::{Text, TextBug, TEXT_BUGS};

/// Text bodies, some of several-byte characters, up to 64 bytes.
fn text_frames() -> impl Strategy<Value = Vec<String>> + Clone {
    vec("[a-z é€😀\r\n]{0,16}", 0..=8)
}

/// The property that catches `bug` (the suite's seed).
fn check_text(bug: TextBug) -> Result<(), Failure> {
    let harness = Harness::new()
        .seed(SEED)
        .persistence(false)
        .time_limit(std::time::Duration::from_millis(300));
    let make = move || Text::new(bug);
    match bug {
        TextBug::CleanEndAfterHead => harness.codec(make).check_truncation(text_frames()),
        TextBug::PerCallLimit => raw_text_inputs(bug, 300),
        _ => harness.codec(make).check_roundtrip(text_frames()),
    }
}

#[test]
fn correct_text_codec_passes_both_properties() {
    let harness = Harness::new().seed(SEED).persistence(false);
    let make = || Text::new(TextBug::None);
    harness.check_roundtrip(make, text_frames()).unwrap();
    harness
        .check_truncation_detected(make, text_frames())
        .unwrap();
}

#[test]
fn every_text_bug_is_caught_with_the_failure_it_causes() {
    for (name, bug) in TEXT_BUGS {
        let failure = check_text(bug).expect_err(name);
        eprintln!("{name}:\n{failure}\n");
        let kind = failure.kind().clone();
        let expected = match bug {
            TextBug::PerCallLimit => kind == FailureKind::Diverged,
            TextBug::CleanEndAfterHead => {
                matches!(kind, FailureKind::CleanEndInsideFrame { .. })
                    && failure.headline().contains("exactly between its")
            }
            TextBug::PanicsOnSplitUtf8 => kind == FailureKind::Panicked,
            TextBug::HangsOnSplitCrLf => matches!(kind, FailureKind::Hung { .. }),
            TextBug::EatsPartialHead | TextBug::CrLfSplit => matches!(
                kind,
                FailureKind::WrongFrame { .. }
                    | FailureKind::DecodeError { .. }
                    | FailureKind::MissingFrames { .. }
            ),
            TextBug::None => unreachable!(),
        };
        assert!(expected, "{name}: {failure}");
    }
}

/// The fuzz oracle on `cases` raw inputs from the text protocol's
/// alphabet (digits, `"\r\n"`, body bytes), from the suite's fixed seed.
fn raw_text_inputs(bug: TextBug, cases: u32) -> Result<(), Failure> {
    use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
    let symbol = prop_oneof![
        10 => (b'0'..=b'9').prop_map(|d| vec![d]),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"x".to_vec()),
    ];
    let inputs = vec(symbol, 0..300).prop_map(|s| s.concat());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &SEED_BYTES),
    );
    let last = std::cell::RefCell::new(None);
    let result = runner.run(&inputs, |data| {
        framecheck::fuzz::check_input_unreduced(|| Text::new(bug), &data).map_err(|f| {
            let headline = f.headline().to_owned();
            *last.borrow_mut() = Some(f);
            TestCaseError::fail(headline)
        })
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(_, data)) => {
            Err(framecheck::fuzz::check_input(|| Text::new(bug), &data).expect_err("fails again"))
        }
        Err(TestError::Abort(_)) => Err(last.take().expect("a failure")),
    }
}

#[test]
fn the_raw_bytes_oracle_finds_the_per_call_limit_in_a_few_hundred_inputs() {
    raw_text_inputs(TextBug::None, 300).unwrap();
    let failure = raw_text_inputs(TextBug::PerCallLimit, 300).unwrap_err();
    assert_eq!(failure.kind(), &FailureKind::Diverged, "{failure}");
    // A stream with one oversize frame, told apart from the correct codec.
    let data = format!("70\r\n{}", "x".repeat(70));
    framecheck::fuzz::check_input(|| Text::new(TextBug::PerCallLimit), data.as_bytes())
        .unwrap_err();
    framecheck::fuzz::check_input(|| Text::new(TextBug::None), data.as_bytes()).unwrap();
}
