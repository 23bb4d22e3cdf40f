//! The showdown's third part: `fuzz-server` finds the tutorial's naive
//! server's bug and nothing in `echo-server`.

mod common;

use std::time::Duration;

use framecheck_cli::fuzz_server::{demo, Kind};

#[test]
fn the_naive_server_s_single_reads_are_found_and_echo_server_is_clean() {
    let echo = vec![
        env!("CARGO_BIN_EXE_framecheck").to_owned(),
        "echo-server".into(),
        "--listen".into(),
        "127.0.0.1:{port}".into(),
    ];
    let r = demo::run(echo, Duration::from_secs(3), 1).unwrap();
    let text = r.to_string();
    assert_eq!(r.naive.findings.len(), 1, "{text}");
    let f = &r.naive.findings[0];
    assert_eq!(f.file.kind, Kind::Segmentation, "{text}");
    assert!(
        ["cut in the length field", "cut in the header"].contains(&f.file.place.as_str()),
        "{text}"
    );
    assert!(f.found_after < Duration::from_secs(3), "{text}");
    assert!(f.file.reproduced >= 9, "{text}");
    assert_eq!(f.file.case.messages.len(), 1, "{text}");
    assert!(r.echo.findings.is_empty(), "{text}");
    assert!(r.echo.cases > 100, "{text}");
    assert!(text.contains("minimal bytes"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn showdown_part_3_prints_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run(
        &[
            "showdown",
            "--part",
            "3",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        b"",
    )
    .await;
    assert!(run.status.success(), "{}", run.stderr);
    assert!(run.stdout.contains("Part 3: fuzz-server"), "{}", run.stdout);
    assert!(
        run.stdout.contains("segmentation: cut in the"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("10 of 10"), "{}", run.stdout);
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    let rows = results["fuzz_server"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{results}");
    assert!(
        rows[0]["finding"]
            .as_str()
            .unwrap()
            .starts_with("segmentation"),
        "{results}"
    );
    assert!(
        rows[1]["finding"].is_null(),
        "echo-server had a finding: {results}"
    );
}

#[test]
fn keep_going_reports_each_kind_and_place_once() {
    use framecheck_cli::fuzz_server::{campaign, Config, Format, Spec, Target};
    let naive = demo::NaiveServer::start().unwrap();
    let mut target = Target::start(
        Spec::Connect(naive.addr().to_string()),
        Duration::from_secs(5),
    )
    .unwrap();
    let mut config = Config::new(Format::JsonHeader);
    config.time = Duration::from_secs(10);
    config.keep_going = true;
    config.replays = 2;
    config.timeout = Duration::from_millis(1000);
    let report = campaign::run(&config, &mut target);
    let mut keys: Vec<(Kind, String)> = report
        .findings
        .iter()
        .map(|f| (f.file.kind, f.file.place.clone()))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "{report}");
    // One read for the length and one for the header: two places.
    assert!(n >= 2, "{report}");
    assert!(
        keys.iter().all(|(k, _)| *k == Kind::Segmentation),
        "{report}"
    );
}
