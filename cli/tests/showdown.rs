//! End-to-end: `showdown`, with small counts so it stays fast.

mod common;

use common::run;
use serde_json::Value;

fn results(dir: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap()
}

fn n(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} missing in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part1_raw_framing_loses_boundaries_and_header_prefixed_keeps_them() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "showdown",
            "--part",
            "1",
            "--messages",
            "1500",
            "--out",
            out_dir.path().to_str().unwrap(),
        ],
        b"",
    )
    .await;
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stdout.contains("merged"), "{}", out.stdout);
    let r = results(out_dir.path());
    assert!(r.get("cost").is_none(), "only part 1 ran: {r}");
    let rows = r["boundaries"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let raw = &rows[0];
    assert_eq!(raw["framing"], "raw, no gap (one read = one message)");
    assert_eq!(n(raw, "sent"), 1500);
    assert!(n(raw, "merged") > 0, "{raw}");
    assert!(n(raw, "split") > 0, "{raw}");
    assert!(n(raw, "intact") < 1500, "{raw}");
    assert_eq!(
        n(raw, "intact") + n(raw, "merged") + n(raw, "split") + n(raw, "lost"),
        1500
    );
    assert_eq!(n(raw, "corrupt"), 0);
    for row in &rows[1..] {
        assert_eq!(n(row, "intact"), 1500, "{row}");
        assert_eq!(n(row, "units"), 1500, "{row}");
        assert_eq!(
            n(row, "merged") + n(row, "split") + n(row, "lost"),
            0,
            "{row}"
        );
    }
    let md = std::fs::read_to_string(out_dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("| raw, no gap (one read = one message) | 1500 |"),
        "{md}"
    );
    assert!(
        md.contains("## Part 1: does each framing keep message boundaries?"),
        "{md}"
    );
    assert!(!md.contains("## Part 2"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part2_measures_every_strategy_at_both_sizes() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "showdown",
            "--part",
            "2",
            "--max-messages",
            "300",
            "--time-cap",
            "250",
            "--large",
            "16384",
            "--out",
            out_dir.path().to_str().unwrap(),
        ],
        b"",
    )
    .await;
    assert!(out.status.success(), "{}", out.stderr);
    let r = results(out_dir.path());
    assert!(r.get("boundaries").is_none(), "only part 2 ran: {r}");
    let rows = r["cost"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 18);
    for row in rows {
        assert_eq!(row["error"], Value::Null, "{row}");
        assert!(n(row, "messages") > 0, "{row}");
        assert!(row["msgs_per_sec"].as_f64().unwrap() > 0.0, "{row}");
        assert!(
            row["p99_us"].as_f64().unwrap() >= row["p50_us"].as_f64().unwrap(),
            "{row}"
        );
    }
    let sizes: Vec<u64> = rows.iter().map(|r| n(r, "size")).collect();
    assert!(sizes.contains(&64) && sizes.contains(&16384));
    let svg = std::fs::read_to_string(out_dir.path().join("chart.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("two sends, Nagle on · 64 B"),
        "{svg}"
    );
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["strategy"]["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"two-send-ack-nagle-off"), "{ids:?}");
    assert!(ids.contains(&"length-pipelined"), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_number_past_the_list_is_refused() {
    let out = run(&["showdown", "--part", "9"], b"").await;
    assert!(!out.status.success());
    assert!(out.stderr.contains("--part"), "{}", out.stderr);
}

#[test]
#[allow(deprecated)]
fn the_first_showdown_report_functions_still_answer_as_before() {
    use bytes::Bytes;
    use framecheck_cli::{
        report,
        showdown::{self, Measure, Strategy},
    };
    use framecheck_codec::strategy::Framing;

    let sent = [b"ab".to_vec(), b"cd".to_vec()];
    let intact = showdown::tally(
        "length",
        &sent,
        &[Bytes::from_static(b"ab"), Bytes::from_static(b"cd")],
    );
    let merged = showdown::tally("raw", &sent, &[Bytes::from_static(b"abcd")]);
    assert_eq!(report::PART1_LEGEND, showdown::boundaries::LEGEND);
    assert!(
        report::PART1_LEGEND.starts_with("intact  = a received unit holds exactly that message\n")
    );
    assert_eq!(
        report::explain_part1(&intact),
        "every boundary restored: the length field says where each message ends, however \
         the proxy cut the stream (2 of 2 intact)"
    );
    let merged_why = "TCP delivered every byte but no boundary: 2 messages shared a read with \
                      others, 0 were cut across reads, 0 of 2 lined up by luck";
    assert_eq!(report::explain_part1(&merged), merged_why);
    let t1 = report::part1_table(&[intact, merged]);
    let lines: Vec<&str> = t1.lines().collect();
    assert!(
        lines[0].starts_with("framing") && lines[0].ends_with("lost"),
        "{t1}"
    );
    assert!(
        lines[1].starts_with("length") && lines[2].starts_with("raw"),
        "{t1}"
    );
    assert!(
        t1.contains(&format!(
            "\n{}\n\n- length: every boundary restored",
            report::PART1_LEGEND
        )),
        "{t1}"
    );
    assert!(t1.ends_with(&format!("- raw: {merged_why}\n")), "{t1}");

    let m = Measure {
        strategy: Strategy {
            framing: Framing::Length,
            pipelined: false,
        },
        size: 64,
        messages: 1000,
        secs: 0.5,
        msgs_per_sec: 2000.0,
        mb_per_sec: 0.128,
        p50_us: 400.0,
        p99_us: 900.0,
        capped: true,
        error: None,
    };
    let why = "one vectored write (length + body) per message: a syscall each, nothing waits";
    assert_eq!(report::explain_part2(&m), why);
    let t2 = report::part2_table(std::slice::from_ref(&m));
    assert!(t2.starts_with("strategy"), "{t2}");
    assert!(t2.contains("1000*"), "{t2}");
    assert!(t2.contains("\n* = stopped by the time cap\n\n"), "{t2}");
    assert!(
        t2.ends_with(&format!("- {} / 64 B: {why}\n", m.strategy.label())),
        "{t2}"
    );
    let svg = report::chart_svg(std::slice::from_ref(&m));
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    assert_eq!(Ok(Some(svg)), showdown::cost::chart_svg(&[m]));
}
