//! FrameBench's CI smoke run: seed 1, every bug and twin, the report
//! rendered from a real run. The full run (20 seeds, the fuzz leg) is
//! `bash ci/framebench.sh`.

use framebench::{
    bugs,
    legs::Baseline,
    report::{self, BugRuns, LegRuns, Outcome, Results},
};

/// No fixed twin is flagged. `cmark-117`'s twin once was: a CR alone ends
/// a line in that grammar, so a stream cut between the CR and the LF of
/// `"line\r\n"` holds the complete line "line"; the truncation property
/// now takes a frame decoded whole from a cut one, equal to the frame sent,
/// as right.
#[test]
fn framecheck_finds_every_bug_and_passes_the_twins_seed_1() {
    let all = bugs::all();
    assert!(all.len() >= 12, "{} bugs", all.len());
    for bug in &all {
        let found = bug.subject.framecheck(false, 1);
        assert!(found.cases.is_some(), "{}: not found", bug.id);
        let twin = bug.subject.framecheck(true, 1);
        assert_eq!(twin.cases, None, "{}: false alarm: {}", bug.id, twin.what);
    }
}

#[test]
fn baselines_raise_no_false_alarm_and_miss_what_they_cannot_see() {
    for bug in bugs::all() {
        for leg in [Baseline::OneRead, Baseline::PartialIo, Baseline::OneByte] {
            let twin = bug.subject.baseline(leg, true, 1, 32);
            assert_eq!(twin.cases, None, "{} {leg:?}: {}", bug.id, twin.what);
        }
    }
    // A bug only a read split inside the last five bytes shows: one read
    // never sees it, one-byte reads do.
    let tonic = bugs::by_id("tonic-76").unwrap();
    assert_eq!(
        tonic
            .subject
            .baseline(Baseline::OneRead, false, 1, 32)
            .cases,
        None
    );
    assert_eq!(
        tonic
            .subject
            .baseline(Baseline::OneByte, false, 1, 32)
            .cases,
        Some(1)
    );
    // A truncation bug: no round trip shows it.
    let snappy = bugs::by_id("snappy-42").unwrap();
    for leg in [Baseline::OneRead, Baseline::PartialIo, Baseline::OneByte] {
        assert_eq!(
            snappy.subject.baseline(leg, false, 1, 32).cases,
            None,
            "{leg:?}"
        );
    }
}

#[test]
fn fuzz_oracle_finds_a_chunking_bug_from_its_seed_input() {
    let bug = bugs::by_id("mqttrs-8").unwrap();
    let stream = bug
        .subject
        .sample_streams(4)
        .into_iter()
        .find(|s| !s.is_empty())
        .expect("a non-empty sample");
    // The raw stream alone: the oracle compares it whole, in one-byte
    // reads and cut at the frame ends it found.
    assert!(bug.subject.fuzz_one(false, &stream).is_err());
    assert!(bug.subject.fuzz_one(true, &stream).is_ok());
}

/// The fuzz oracle compares a decoder with itself (one read against many
/// reads): a decoder refusing the same frames in one read, or wrong only
/// when the stream is cut short, passes; so do the seed inputs of a decoder
/// wrong the same way in one read.
#[test]
fn fuzz_oracle_passes_bugs_that_are_the_same_in_one_read() {
    for id in ["tokio-8348", "tokio-4815", "snappy-42"] {
        let bug = bugs::by_id(id).unwrap();
        for stream in bug.subject.sample_streams(4) {
            assert!(bug.subject.fuzz_one(false, &stream).is_ok(), "{id}");
        }
    }
}

/// With one-byte reads every record completes exactly at the end of the
/// buffer, so the deframer never holds processed records in front of an
/// incomplete one: one-byte reads cannot show rustls-2159.
#[test]
fn one_byte_reads_cannot_show_the_rustls_deframer_bug() {
    let bug = bugs::by_id("rustls-2159").unwrap();
    assert_eq!(
        bug.subject.baseline(Baseline::OneByte, false, 1, 64).cases,
        None
    );
    assert!(bug
        .subject
        .baseline(Baseline::PartialIo, false, 1, 64)
        .cases
        .is_some());
}

#[test]
fn report_and_chart_render_from_a_run() {
    let bugs: Vec<BugRuns> = ["tonic-76", "snappy-42"]
        .iter()
        .map(|id| {
            let bug = bugs::by_id(id).unwrap();
            BugRuns {
                id: bug.id.to_owned(),
                tracker: bug.tracker.to_owned(),
                shape: bug.shape.to_owned(),
                legs: report::run_legs(&bug, 1, 16),
            }
        })
        .collect();
    let results = Results {
        seeds: 1,
        cases_per_property: framebench::legs::default_cases(),
        baseline_budget: 16,
        fuzz_seconds: None,
        fuzz_seeds: 0,
        partial_io: (128, 128),
        bugs,
    };
    let md = report::render(&results, "chart.svg").unwrap();
    assert!(
        md.contains("| `tonic-76` (tonic (grpc/grpc-rust) issue #76, PR #83) |"),
        "{md}"
    );
    assert!(
        md.contains("framecheck at default settings found every bug in"),
        "{md}"
    );
    assert!(md.contains("raised no false alarm"), "{md}");
    assert!(md.contains("cargo fuzz**: not run"), "{md}");
    assert!(md.contains("| round trip: DecodeError |"), "{md}");
    assert!(md.contains("| truncation: CleanEndInsideFrame |"), "{md}");
    let svg = report::chart(&results).unwrap().expect("a chart");
    assert!(
        svg.contains("tonic-76") && svg.contains("partial-io"),
        "{svg}"
    );
}

/// Results of one seed where framecheck and one baseline each found the
/// bug after these many cases (`None`: missed).
fn one_bug(id: &str, framecheck: Option<u64>, partial_io: Option<u64>) -> BugRuns {
    let outcome = |cases| Outcome {
        cases,
        seconds: 0.001,
        what: "round trip: DecodeError".to_owned(),
    };
    let leg = |cases| LegRuns {
        bug: vec![outcome(cases)],
        twin: vec![outcome(None)],
    };
    BugRuns {
        id: id.to_owned(),
        tracker: "a tracker".to_owned(),
        shape: "a shape".to_owned(),
        legs: vec![
            leg(framecheck),
            leg(None),
            leg(partial_io),
            leg(None),
            LegRuns::default(),
        ],
    }
}

fn render(bugs: Vec<BugRuns>) -> String {
    let results = Results {
        seeds: 1,
        cases_per_property: 256,
        baseline_budget: 512,
        fuzz_seconds: None,
        fuzz_seeds: 0,
        partial_io: (128, 128),
        bugs,
    };
    report::render(&results, "chart.svg").unwrap()
}

/// The goal's last sentence: met where it can be (never larger, ties at
/// one case), not met (a larger median named), or met outright.
#[test]
fn goal_verdict_tells_ties_at_one_from_a_larger_median() {
    let met = render(vec![
        one_bug("a", Some(1), Some(1)),
        one_bug("b", Some(1), Some(7)),
    ]);
    assert!(
        met.contains("framecheck's median is larger than no\n  baseline's on any bug, and every tie is at a median of one case"),
        "{met}"
    );
    assert!(!met.contains("does not\n  need fewer cases"), "{met}");
    let tie_above = render(vec![one_bug("a", Some(3), Some(3))]);
    assert!(
        tie_above.contains("but some ties are above one case"),
        "{tie_above}"
    );
    let missed = render(vec![
        one_bug("a", Some(4), Some(1)),
        one_bug("b", Some(1), Some(1)),
    ]);
    assert!(missed.contains("larger on\n  1 (`a`)"), "{missed}");
    assert!(
        missed.contains("framecheck does not\n  need fewer cases than every baseline"),
        "{missed}"
    );
    let all = render(vec![one_bug("a", Some(1), Some(2))]);
    assert!(
        all.contains(
            "framecheck needs fewer cases than every\n  baseline on every bug a baseline finds."
        ),
        "{all}"
    );
}

#[test]
fn median_is_nearest_rank_with_misses_last() {
    assert_eq!(
        report::median(&[Some(3.0), Some(1.0), Some(2.0)]),
        Some(2.0)
    );
    assert_eq!(
        report::median(&[Some(1.0), None, Some(5.0), Some(2.0)]),
        Some(2.0)
    );
    assert_eq!(report::median(&[Some(1.0), None, None]), None);
    assert_eq!(report::median(&[]), None);
}
