//! `fuzz-server` against Python servers written the way the tutorials
//! write them (`cli/tests/servers/*.py`), each with one planted bug, and
//! two correct ones. Short runs with fixed seeds: the full-length runs
//! (30 s on the correct servers, 10-replay rates) are in
//! `ci/fuzz-server-check.sh`.

mod common;

use std::{path::PathBuf, process::Stdio, time::Duration};

use framecheck_cli::fuzz_server::{
    campaign::{self, Config, Report},
    Format, Kind, ReplayFile, Spec, Target,
};

fn server(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(format!("{name}.py"))
        .to_string_lossy()
        .into_owned()
}

fn python(name: &str) -> Spec {
    Spec::Spawn(vec!["python3".into(), server(name), "{port}".into()])
}

/// The campaign the tests run: seed 1, up to `secs`, 3 replays of the
/// minimal case, a short minimiser budget, 1 s timeouts.
fn config(format: Format, secs: u64, out: &std::path::Path) -> Config {
    let mut c = Config::new(format);
    c.seed = 1;
    c.time = Duration::from_secs(secs);
    c.replays = 3;
    c.jobs = 4;
    c.timeout = Duration::from_millis(1000);
    c.budget.tries = 25;
    c.budget.time = Duration::from_secs(10);
    c.out = Some(out.to_path_buf());
    c
}

fn campaign(name: &str, format: Format, secs: u64) -> (Report, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut target = Target::start(python(name), Duration::from_secs(20)).unwrap();
    let report = campaign::run(&config(format, secs, dir.path()), &mut target);
    target.stop();
    (report, dir)
}

/// Runs the campaign against a planted server and checks the one finding:
/// its kind, found within 30 s, reproduced, and its replay file written.
fn finds(name: &str, format: Format, kind: Kind) -> ReplayFile {
    let (report, dir) = campaign(name, format, 30);
    assert_eq!(report.findings.len(), 1, "{name}: {report}");
    let f = &report.findings[0];
    assert_eq!(f.file.kind, kind, "{name}: {report}");
    assert!(f.found_after < Duration::from_secs(30), "{report}");
    assert!(
        f.file.reproduced >= 2,
        "{name}: reproduced {} of {}: {report}",
        f.file.reproduced,
        f.file.replays
    );
    let path = f.path.clone().expect("replay file written");
    assert!(path.starts_with(dir.path()));
    let file = ReplayFile::load(&path).unwrap();
    assert_eq!(&file, &f.file);
    eprintln!(
        "{name}: {kind} after {:.2} s, minimal case reproduced {} of {}",
        f.found_after.as_secs_f64(),
        f.file.reproduced,
        f.file.replays
    );
    file
}

#[test]
fn finds_the_length_read_with_one_recv_4() {
    let f = finds("len_one_recv", Format::JsonHeader, Kind::Segmentation);
    assert_eq!(f.place, "cut in the length field");
    assert_eq!(f.case.messages.len(), 1);
    assert_eq!(f.case.cuts.len(), 1);
}

#[test]
fn finds_the_header_read_with_one_recv() {
    let f = finds("header_one_recv", Format::JsonHeader, Kind::Segmentation);
    assert!(
        f.place.contains("header") || f.place.contains("length field"),
        "{}",
        f.place
    );
}

#[test]
fn finds_the_body_loop_that_ignores_eof() {
    let f = finds("body_ignores_eof", Format::JsonHeader, Kind::NoClose);
    assert!(f.place.contains("inside a frame"), "{}", f.place);
}

#[test]
fn finds_the_buffer_sized_from_data_size() {
    let f = finds("alloc_from_claim", Format::JsonHeader, Kind::Memory);
    assert!(f.seen.contains("RSS grew by"), "{}", f.seen);
}

#[test]
fn finds_the_unchecked_negative_header_length() {
    let f = finds("neg_header_len", Format::JsonHeader, Kind::Crash);
    assert_eq!(f.place, "negative header length");
    assert!(f.seen.contains("exit status 1"), "{}", f.seen);
}

#[test]
fn finds_the_crash_on_a_header_that_is_not_json() {
    let f = finds("crash_non_json", Format::JsonHeader, Kind::Crash);
    assert!(
        f.seen.contains("JSONDecodeError") || f.seen.contains("exit status 1"),
        "{}",
        f.seen
    );
}

#[test]
fn finds_one_recv_taken_as_one_message() {
    let f = finds("one_recv_lines", Format::Lines, Kind::Segmentation);
    assert!(f.case.messages.iter().all(|m| m.ends_with(b"\n")));
}

#[test]
fn finds_the_threaded_handler_dying_on_a_split_length() {
    let f = finds("threaded_split_len", Format::JsonHeader, Kind::Segmentation);
    assert_eq!(f.place, "cut in the length field");
}

#[test]
fn finds_the_single_threaded_server_blocked_by_a_stalled_client() {
    let f = finds("single_thread_blocked", Format::JsonHeader, Kind::Blocked);
    assert!(f.place.contains("stall"), "{}", f.place);
}

#[test]
fn finds_descriptors_left_open_with_one_client_thread() {
    let dir = tempfile::tempdir().unwrap();
    let mut target = Target::start(python("fd_leak"), Duration::from_secs(20)).unwrap();
    let mut c = config(Format::JsonHeader, 20, dir.path());
    c.jobs = 1;
    // A case makes two or three connections, each leaking one descriptor.
    c.thresholds.fd_growth = 1;
    let report = campaign::run(&c, &mut target);
    assert_eq!(report.findings.len(), 1, "{report}");
    let f = &report.findings[0].file;
    assert_eq!(f.kind, Kind::Descriptors, "{report}");
    assert!(f.seen.contains("open descriptors"), "{}", f.seen);
}

#[test]
fn correct_servers_give_no_finding() {
    for name in ["correct_threaded", "correct_asyncio"] {
        let (report, _dir) = campaign(name, Format::JsonHeader, 4);
        assert!(report.findings.is_empty(), "{name}: {report}");
        assert!(report.cases > 50, "{name}: only {} cases", report.cases);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_exits_1_on_a_finding_and_replay_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("findings");
    let srv = server("threaded_split_len");
    let run = common::run(
        &[
            "fuzz-server",
            "--format",
            "json-header",
            "--time",
            "15",
            "--replays",
            "2",
            "--out",
            out.to_str().unwrap(),
            "--",
            "python3",
            &srv,
            "{port}",
        ],
        b"",
    )
    .await;
    assert_eq!(run.status.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("segmentation finding"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("import socket"),
        "no Python client: {}",
        run.stdout
    );
    let file = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let replay = common::run(
        &[
            "replay",
            file.to_str().unwrap(),
            "--",
            "python3",
            &srv,
            "{port}",
        ],
        b"",
    )
    .await;
    assert_eq!(
        replay.status.code(),
        Some(1),
        "{}\n{}",
        replay.stdout,
        replay.stderr
    );
    assert!(
        replay.stdout.contains("reproduced in 1 of 1"),
        "{}",
        replay.stdout
    );
    // The same file against a correct server: not reproduced, exit 0.
    let fixed = server("correct_threaded");
    let replay = common::run(
        &[
            "replay",
            file.to_str().unwrap(),
            "--",
            "python3",
            &fixed,
            "{port}",
        ],
        b"",
    )
    .await;
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{}\n{}",
        replay.stdout,
        replay.stderr
    );
    assert!(
        replay.stdout.contains("not reproduced"),
        "{}",
        replay.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_python_client_fails_on_the_bug_and_passes_on_a_fixed_server() {
    let f = finds("len_one_recv", Format::JsonHeader, Kind::Segmentation);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("regress.py");
    std::fs::write(&script, f.python()).unwrap();
    for (name, code) in [("len_one_recv", 1), ("correct_threaded", 0)] {
        let target = Target::start(python(name), Duration::from_secs(20)).unwrap();
        let out = tokio::process::Command::new("python3")
            .arg(&script)
            .arg(target.addr().port().to_string())
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        drop(target);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_exits_2_when_it_cannot_run() {
    let r = common::run(&["fuzz-server", "--format", "json-header"], b"").await;
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("--connect"), "{}", r.stderr);
    let r = common::run(
        &[
            "fuzz-server",
            "--format",
            "json-header",
            "--",
            "python3",
            "-c",
            "import sys; sys.exit('no server here')",
        ],
        b"",
    )
    .await;
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("exited (exit status 1) before accepting"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("no server here"), "{}", r.stderr);
    let r = common::run(
        &["replay", "/nonexistent.json", "--connect", "127.0.0.1:1"],
        b"",
    )
    .await;
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_s_echo_server_gives_no_finding() {
    for format in ["json-header", "length", "raw"] {
        let server =
            common::Server::start(&["echo-server", "--listen", "127.0.0.1:0", "--format", format])
                .await;
        let dir = tempfile::tempdir().unwrap();
        let r = common::run(
            &[
                "fuzz-server",
                "--format",
                format,
                "--time",
                "3",
                "--out",
                dir.path().to_str().unwrap(),
                "--connect",
                &server.addr,
            ],
            b"",
        )
        .await;
        assert_eq!(
            r.status.code(),
            Some(0),
            "{format}: {}\n{}",
            r.stdout,
            r.stderr
        );
        assert!(r.stdout.contains("0 finding(s)"), "{}", r.stdout);
    }
}
