//! Failing cases are saved (the chunking as a value, and proptest's seed)
//! under a key of property, decoder type and test, and replayed first by
//! that key alone. These tests save into a temporary directory.

mod planted;

use std::fs;

use bytes::Bytes;
use framecheck::{strategies, Harness};
use planted::{Bug, Planted};
use proptest::{collection::vec, strategy::Strategy};

/// A codec of the same wire format as `Planted`, but another type: its
/// saved cases are filed apart.
struct Correct(Planted);

impl tokio_util::codec::Decoder for Correct {
    type Item = bytes::BytesMut;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut bytes::BytesMut) -> std::io::Result<Option<Self::Item>> {
        self.0.decode(src)
    }
    fn decode_eof(&mut self, src: &mut bytes::BytesMut) -> std::io::Result<Option<Self::Item>> {
        self.0.decode_eof(src)
    }
}

impl tokio_util::codec::Encoder<Bytes> for Correct {
    type Error = std::io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut bytes::BytesMut) -> std::io::Result<()> {
        self.0.encode(item, dst)
    }
}

#[test]
fn a_saved_chunking_is_replayed_against_new_frames_even_with_no_new_cases() {
    let dir = tempfile::tempdir().unwrap();
    let make = || Planted::new(Bug::ClearsAfterFrame, 4);
    let failure = Harness::new()
        .regressions_dir(dir.path())
        .check_roundtrip(make, strategies::byte_frames())
        .unwrap_err();
    let saved = failure.chunking().expect("a chunking").to_string();
    let file = dir.path().join("persistence.framecheck.txt");
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("\tcase {saved}")), "{text}");
    assert!(text.contains("\tseed cc "), "{text}");

    // Drop proptest's seeds: only framecheck's saved chunking can find the
    // bug now, with zero new cases and another frame strategy.
    let chunkings_only: String = text
        .lines()
        .filter(|l| !l.contains("\tseed "))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&file, chunkings_only).unwrap();
    let other_frames = vec(strategies::bodies_of(0..40), 2..5).boxed();
    let again = Harness::new()
        .regressions_dir(dir.path())
        .cases(0)
        .check_roundtrip(make, other_frames.clone());
    assert!(again.is_err(), "the saved chunking did not replay");

    // Without the saved file, zero cases find nothing: the replay did it.
    fs::remove_file(&file).unwrap();
    Harness::new()
        .regressions_dir(dir.path())
        .cases(0)
        .check_roundtrip(make, other_frames)
        .unwrap();
}

#[test]
fn a_broken_codec_s_saved_cases_never_fail_a_correct_codec_in_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::new().regressions_dir(dir.path());
    for _ in 0..3 {
        harness
            .check_roundtrip(
                || Planted::new(Bug::StateNotReset, 4),
                strategies::byte_frames(),
            )
            .unwrap_err();
        harness
            .check_roundtrip(
                || Correct(Planted::new(Bug::None, 4)),
                strategies::byte_frames(),
            )
            .unwrap();
        harness
            .check_truncation_detected(
                || Correct(Planted::new(Bug::None, 4)),
                strategies::byte_frames(),
            )
            .unwrap();
    }
    let text = fs::read_to_string(dir.path().join("persistence.framecheck.txt")).unwrap();
    assert!(text.contains("roundtrip "), "{text}");
    assert!(
        text.lines()
            .all(|l| l.starts_with('#') || !l.contains("Correct")),
        "{text}"
    );
}

#[test]
fn check_forms_print_nothing_even_when_they_save_a_case() {
    // In a child process (this test binary again, this test only, output
    // not captured), so that anything printed can be seen.
    if let Ok(dir) = std::env::var("FRAMECHECK_PRINT_CHILD") {
        let failure = Harness::new().regressions_dir(&dir).check_roundtrip(
            || Planted::new(Bug::ClearsAfterFrame, 4),
            strategies::byte_frames(),
        );
        assert!(failure.is_err());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "check_forms_print_nothing_even_when_they_save_a_case",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FRAMECHECK_PRINT_CHILD", dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !text.contains("proptest") && !text.contains("Saving"),
        "{text}"
    );
    assert!(dir.path().join("persistence.framecheck.txt").is_file());
}
