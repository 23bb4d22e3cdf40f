//! The Markdown report (`docs/benchmarks.md`): one table per group with the
//! figures, their ratios to the reference points and targets, the
//! machine, and what each result means.

use std::fmt::Write as _;

use crate::{
    chart::{self, Bar},
    latency::{self, LatencyFile, LatencySummary},
    paired::{self, RatioFile, RatioSummary},
    results::BenchResult,
};

/// Group names, as the benches register them.
pub const REQRESP: &str = "loopback_reqresp";
/// One-way streaming group.
pub const ONEWAY: &str = "loopback_oneway";
/// Codec decode group.
pub const DECODE: &str = "codec_decode";
/// Codec encode group.
pub const ENCODE: &str = "codec_encode";

/// The payload size the reference figures are quoted at.
const MAIN_SIZE: u64 = 256;

/// Reference request/response rates at 256 B (req/s, 2-core machine).
const REQRESP_REFERENCE: [(&str, f64); 4] = [
    ("length", 39_000.0),
    ("two-send-ack", 18_000.0),
    ("sleep-1ms", 460.0),
    ("two-send-nagle-on", 22.0),
];

/// Reference one-way rates at 256 B (msg/s).
const ONEWAY_REFERENCE: [(&str, f64); 2] = [
    ("framed-ldc", 3_300_000.0),
    ("length-write-each", 330_000.0),
];

/// Where the run happened and how.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Machine {
    /// CPU model from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs.
    pub nproc: usize,
    /// `rustc -V`.
    pub rustc: String,
    /// When the report was generated (UTC).
    pub date: String,
    /// `quick` or `full`.
    pub mode: String,
    /// Load averages seen before and after the run (from `/proc/loadavg`).
    pub load: String,
}

/// Everything the report is made of.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// Criterion's results.
    pub results: &'a [BenchResult],
    /// Request/response latency percentiles.
    pub latencies: &'a LatencyFile,
    /// Ratios measured side by side.
    pub ratios: &'a RatioFile,
    /// The machine.
    pub machine: &'a Machine,
    /// The command that produced the run.
    pub command: &'a str,
    /// Link from the report to criterion's HTML report.
    pub criterion_html: &'a str,
}

/// A chart file the report links: its name and SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// File name, relative to the report.
    pub name: String,
    /// The SVG document.
    pub svg: String,
}

/// What a strategy's criterion id means, for people.
pub fn label(function: &str) -> &str {
    match function {
        "sleep-1ms" => "sleep 1 ms between sends",
        "two-send-nagle-on" => "two sends, Nagle on",
        "two-send-nagle-off" => "two sends, Nagle off (TCP_NODELAY)",
        "two-send-ack" => "two sends + ack (Nagle on)",
        "length" => "framecheck header-prefixed, binary length",
        "length-write-each" => "header-prefixed, binary length, one write per message",
        "json-header" => "framecheck header-prefixed, JSON header",
        "framed-ldc" => "tokio-util Framed + LengthDelimitedCodec",
        "raw-64k-writes" => "raw 64 KiB writes, no framing (ceiling)",
        "header-codec-whole" => "HeaderCodec, whole buffer",
        "header-codec-chunked" => "HeaderCodec, 1–64 B reads",
        "ldc-whole" => "LengthDelimitedCodec, whole buffer",
        "ldc-chunked" => "LengthDelimitedCodec, 1–64 B reads",
        "memcpy" => "memcpy of the bodies (ceiling)",
        "header-codec" => "HeaderCodec::encode (copies body)",
        "header-prefix" => "wire::encode_prefix only (body sent vectored)",
        "ldc" => "LengthDelimitedCodec::encode (copies body)",
        other => other,
    }
}

/// `16` → `16 B`, `1024` → `1 KiB`, `65536` → `64 KiB`.
pub fn size_label(bytes: u64) -> String {
    if bytes >= 1024 && bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// A rate, readable: `39 000`, `3.31 M`, `22.4`.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() {
        return "–".into();
    }
    if per_sec >= 1e6 {
        let m = per_sec / 1e6;
        return match m {
            m if m >= 100.0 => format!("{m:.0} M"),
            m if m >= 10.0 => format!("{m:.1} M"),
            m => format!("{m:.2} M"),
        };
    }
    if per_sec >= 1000.0 {
        let rounded = (per_sec / 100.0).round() as u64 * 100;
        let digits = rounded.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        return out;
    }
    if per_sec >= 100.0 {
        return format!("{per_sec:.0}");
    }
    format!("{per_sec:.1}")
}

/// Megabytes (10^6 bytes) per second.
pub fn mb_per_sec(bytes_per_sec: f64) -> String {
    let mb = bytes_per_sec / 1e6;
    if mb >= 100.0 {
        format!("{mb:.0}")
    } else if mb >= 1.0 {
        format!("{mb:.1}")
    } else {
        format!("{mb:.3}")
    }
}

/// A duration in the unit that keeps it readable.
pub fn duration(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// `a / b` as `0.93×`, or `–` when either is missing.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => {
            let r = a / b;
            if r >= 10.0 {
                format!("{r:.0}×")
            } else if r >= 0.1 {
                format!("{r:.2}×")
            } else {
                format!("{r:.4}×")
            }
        }
        _ => "–".into(),
    }
}

fn find<'r>(
    results: &'r [BenchResult],
    group: &str,
    function: &str,
    size: u64,
) -> Option<&'r BenchResult> {
    results
        .iter()
        .find(|r| r.group == group && r.function == function && r.size() == Some(size))
}

fn eps(results: &[BenchResult], group: &str, function: &str, size: u64) -> Option<f64> {
    find(results, group, function, size)?.elements_per_sec()
}

fn sizes(results: &[BenchResult], group: &str) -> Vec<u64> {
    let mut s: Vec<u64> = results
        .iter()
        .filter(|r| r.group == group)
        .filter_map(BenchResult::size)
        .collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// Function ids of a group in first-seen order of `preferred`, then the rest.
fn functions(results: &[BenchResult], group: &str, preferred: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = preferred
        .iter()
        .filter(|f| {
            results
                .iter()
                .any(|r| r.group == group && r.function == **f)
        })
        .map(|f| f.to_string())
        .collect();
    for r in results.iter().filter(|r| r.group == group) {
        if !out.contains(&r.function) {
            out.push(r.function.clone());
        }
    }
    out
}

const REQRESP_ORDER: [&str; 6] = [
    "length",
    "json-header",
    "two-send-nagle-off",
    "two-send-ack",
    "sleep-1ms",
    "two-send-nagle-on",
];
const ONEWAY_ORDER: [&str; 9] = [
    "framed-ldc",
    "length",
    "raw-64k-writes",
    "json-header",
    "length-write-each",
    "two-send-nagle-off",
    "two-send-nagle-on",
    "sleep-1ms",
    "two-send-ack",
];
const DECODE_ORDER: [&str; 5] = [
    "memcpy",
    "ldc-whole",
    "header-codec-whole",
    "ldc-chunked",
    "header-codec-chunked",
];
const ENCODE_ORDER: [&str; 3] = ["ldc", "header-codec", "header-prefix"];

/// `function`'s request/response rate over the binary length's at 256 B:
/// the side-by-side median when measured, else the criterion ratio.
fn side_or_criterion(inputs: &Inputs<'_>, function: &str, base: Option<f64>) -> String {
    match inputs
        .ratios
        .get(&paired::key(REQRESP, function, "length", MAIN_SIZE))
    {
        Some(s) => format!("{:.2}×", s.median),
        None => ratio(eps(inputs.results, REQRESP, function, MAIN_SIZE), base),
    }
}

fn latency_of(inputs: &Inputs<'_>, function: &str, size: u64) -> Option<LatencySummary> {
    inputs
        .latencies
        .get(&latency::key(REQRESP, function, &size.to_string()))
        .copied()
}

/// How much longer a message with a minimal JSON header takes to encode
/// (prefix only) and decode than one with a 4-byte length, from the codec
/// groups, in nanoseconds.
pub fn json_extra_ns(results: &[BenchResult], size: u64) -> Option<f64> {
    let per = |f: &str, g: &str| {
        eps(results, g, f, size)
            .filter(|v| *v > 0.0)
            .map(|v| 1e9 / v)
    };
    let decode = per("header-codec-whole", DECODE)? - per("ldc-whole", DECODE)?;
    let encode = per("header-codec", ENCODE)? - per("ldc", ENCODE)?;
    Some(decode + encode)
}

/// One check against a target from the issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What is compared.
    pub what: String,
    /// The measured ratio or rate, formatted: side by side when there is
    /// such a measurement, else from the criterion figures.
    pub measured: String,
    /// The ratio from the criterion figures (back-to-back runs), formatted.
    pub criterion: String,
    /// The target, formatted.
    pub target: String,
    /// Whether it was met; `None` when a figure is missing.
    pub met: Option<bool>,
}

/// The targets, checked against the results: a ratio is judged on
/// its side-by-side median when `ratios` has it, else on the criterion
/// figures.
pub fn checks(results: &[BenchResult], ratios: &RatioFile) -> Vec<Check> {
    let mut out = Vec::new();
    let mut ratio_check = |what: String, group: &str, a: &str, b: &str, size: u64, target: f64| {
        let crit = match (eps(results, group, a, size), eps(results, group, b, size)) {
            (Some(x), Some(y)) if y > 0.0 => Some(x / y),
            _ => None,
        };
        let side: Option<RatioSummary> = ratios.get(&paired::key(group, a, b, size)).copied();
        let judged = side.map(|s| s.median).or(crit);
        out.push(Check {
            what,
            measured: match side {
                Some(s) => format!(
                    "{:.2}× ({:.2}–{:.2}, {} rounds)",
                    s.median, s.min, s.max, s.rounds
                ),
                None => "–".into(),
            },
            criterion: crit.map_or("–".into(), |r| format!("{r:.2}×")),
            target: format!("≥ {target:.1}×"),
            met: judged.map(|r| r >= target),
        });
    };
    for size in [16, 256, 1024] {
        ratio_check(
            format!(
                "one-way {}: framecheck binary length / Framed",
                size_label(size)
            ),
            ONEWAY,
            "length",
            "framed-ldc",
            size,
            0.9,
        );
    }
    let big = 64 * 1024;
    ratio_check(
        "one-way 64 KiB: framecheck binary length / Framed".into(),
        ONEWAY,
        "length",
        "framed-ldc",
        big,
        1.0,
    );
    ratio_check(
        "one-way 64 KiB: framecheck binary length / raw 64 KiB writes".into(),
        ONEWAY,
        "length",
        "raw-64k-writes",
        big,
        0.9,
    );
    ratio_check(
        "decode 64 KiB: HeaderCodec / memcpy of the bodies (zero-copy: far above 1)".into(),
        DECODE,
        "header-codec-whole",
        "memcpy",
        big,
        10.0,
    );
    ratio_check(
        "decode 64 KiB: HeaderCodec / LengthDelimitedCodec".into(),
        DECODE,
        "header-codec-whole",
        "ldc-whole",
        big,
        0.9,
    );
    for (target, aim) in [(5e6, "target"), (10e6, "aim")] {
        let measured = eps(results, DECODE, "header-codec-whole", 16);
        out.push(Check {
            what: format!("decode 16 B, minimal JSON header: HeaderCodec frames/s ({aim})"),
            measured: "–".into(),
            criterion: measured.map_or("–".into(), rate),
            target: format!("≥ {}", rate(target)),
            met: measured.map(|m| m >= target),
        });
    }
    out
}

fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "not run",
    }
}

/// The chart file of a group: `bench-<group>.svg`, with anything but ASCII
/// letters, digits, `-` and `_` replaced by `_`.
pub fn chart_name(group: &str) -> String {
    let safe: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("bench-{safe}.svg")
}

/// The charts, one per group that has results.
///
/// # Errors
///
/// plotters' drawing error.
pub fn charts(results: &[BenchResult]) -> Result<Vec<ChartFile>, String> {
    let mut out = Vec::new();
    let specs: [(&str, &str, &str, &[&str]); 4] = [
        (
            REQRESP,
            "Request/response over loopback",
            "requests/s (log scale)",
            &REQRESP_ORDER,
        ),
        (
            ONEWAY,
            "One-way streaming over loopback",
            "messages/s (log scale)",
            &ONEWAY_ORDER,
        ),
        (
            DECODE,
            "Decode in memory",
            "frames/s (log scale)",
            &DECODE_ORDER,
        ),
        (
            ENCODE,
            "Encode in memory",
            "frames/s (log scale)",
            &ENCODE_ORDER,
        ),
    ];
    let mut known: Vec<&str> = Vec::new();
    for (group, title, unit, order) in specs {
        known.push(group);
        let sizes = sizes(results, group);
        let mut bars = Vec::new();
        for (series, &size) in sizes.iter().enumerate() {
            for f in functions(results, group, order) {
                if let Some(v) = eps(results, group, &f, size) {
                    bars.push(Bar {
                        label: format!("{f} · {}", size_label(size)),
                        value: v,
                        series,
                    });
                }
            }
        }
        if let Some(svg) = chart::bar_chart_svg(title, unit, &bars)? {
            out.push(ChartFile {
                name: chart_name(group),
                svg,
            });
        }
    }
    // Any other group (the harness's): one bar per benchmark.
    let mut others: Vec<&str> = results
        .iter()
        .map(|r| r.group.as_str())
        .filter(|g| !known.contains(g))
        .collect();
    others.dedup();
    for group in others {
        let bars: Vec<Bar> = results
            .iter()
            .filter(|r| r.group == group)
            .filter_map(|r| {
                let v = r.elements_per_sec()?;
                let label = match &r.value {
                    Some(value) => format!("{} · {value}", r.function),
                    None => r.function.clone(),
                };
                Some(Bar {
                    label,
                    value: v,
                    series: 0,
                })
            })
            .collect();
        if let Some(svg) = chart::bar_chart_svg(group, "elements/s (log scale)", &bars)? {
            out.push(ChartFile {
                name: chart_name(group),
                svg,
            });
        }
    }
    Ok(out)
}

/// Renders the report; `charts` are the files written next to it.
pub fn render(inputs: &Inputs<'_>, charts: &[ChartFile]) -> String {
    let r = inputs.results;
    let m = inputs.machine;
    let mut md = String::new();
    let chart_link = |md: &mut String, group: &str| {
        let name = chart_name(group);
        if charts.iter().any(|c| c.name == name) {
            let _ = writeln!(md, "\n![{group}]({name})\n");
        }
    };

    let _ = writeln!(md, "# framecheck benchmarks\n");
    let _ = writeln!(
        md,
        "Generated by `ci/bench-report.sh` — do not edit by hand. Criterion's full HTML report \
         (distributions, every sample) is at [`{0}`]({0}) after a local run{1}.\n",
        inputs.criterion_html,
        if m.mode == "quick" {
            " (a quick run passes `--noplot`, so its pages have no plots; the full run draws them)"
        } else {
            ""
        }
    );
    let _ = writeln!(md, "| | |\n| --- | --- |");
    let _ = writeln!(md, "| date | {} |", m.date);
    let _ = writeln!(md, "| mode | {} |", m.mode);
    let _ = writeln!(md, "| command | `{}` |", inputs.command);
    let _ = writeln!(md, "| CPU | {} ({} logical CPUs) |", m.cpu, m.nproc);
    let _ = writeln!(md, "| rustc | {} |", m.rustc);
    let _ = writeln!(md, "| load average (1/5/15 min) | {} |", m.load);
    let _ = writeln!(
        md,
        "\nFigures are criterion's median time per iteration (robust to bursts of load from \
         other processes), turned into rates. MB/s counts payload bytes only (10^6 bytes). Ratios \
         are between benchmarks of the same run. The reference figures are the issue's, from a \
         different 2-core machine: compare ratios, not absolute rates. A loaded machine (see load \
         average) shifts every figure; ratios of neighbouring runs hold up better.\n"
    );

    // Targets.
    let checks = checks(r, inputs.ratios);
    let _ = writeln!(
        md,
        "## Targets\n\nA ratio is judged on its side-by-side measurement when there is one: the \
         two cases alternate for several rounds on open connections, and the median per-round \
         ratio (with its range) is quoted; the criterion column divides the figures of the \
         tables below, measured one after the other.\n"
    );
    let _ = writeln!(
        md,
        "| check | side by side | criterion | target | met |\n| --- | ---: | ---: | --- | --- |"
    );
    for c in &checks {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            c.what,
            c.measured,
            c.criterion,
            c.target,
            met(c.met)
        );
    }
    if !inputs.ratios.is_empty() {
        let _ = writeln!(
            md,
            "\nEvery side-by-side ratio (rate of the first over the second):\n\n\
             | group | first | second | payload | median | min–max | rounds |\n\
             | --- | --- | --- | ---: | ---: | ---: | ---: |"
        );
        for (key, s) in inputs.ratios {
            let parts: Vec<&str> = key.split('/').collect();
            if let [group, a, b, size] = parts[..] {
                let _ = writeln!(
                    md,
                    "| {group} | {} | {} | {} | {:.2}× | {:.2}–{:.2} | {} |",
                    label(a),
                    label(b),
                    size.parse().map_or(size.to_string(), size_label),
                    s.median,
                    s.min,
                    s.max,
                    s.rounds
                );
            }
        }
    }

    // Request/response.
    if sizes(r, REQRESP).contains(&MAIN_SIZE) {
        let base = eps(r, REQRESP, "length", MAIN_SIZE);
        let ref_base = REQRESP_REFERENCE[0].1;
        let _ = writeln!(
            md,
            "\n## 1. Request/response over loopback TCP\n\nOne message out, the same message echoed \
             back, one at a time; client and server on their own threads. Main table at {}:\n",
            size_label(MAIN_SIZE)
        );
        let _ = writeln!(
            md,
            "| strategy | req/s | p50 | p99 | ratio to binary length | reference req/s | reference ratio |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for f in functions(r, REQRESP, &REQRESP_ORDER) {
            let v = eps(r, REQRESP, &f, MAIN_SIZE);
            let lat = latency_of(inputs, &f, MAIN_SIZE);
            let reference = REQRESP_REFERENCE
                .iter()
                .find(|(id, _)| *id == f)
                .map(|(_, v)| *v);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                label(&f),
                v.map_or("–".into(), rate),
                lat.map_or("–".into(), |l| duration(l.p50_ns as f64)),
                lat.map_or("–".into(), |l| duration(l.p99_ns as f64)),
                ratio(v, base),
                reference.map_or("–".into(), rate),
                ratio(reference, Some(ref_base)),
            );
        }
        chart_link(&mut md, REQRESP);
        let _ = writeln!(md, "<details><summary>All payload sizes</summary>\n");
        let _ = writeln!(
            md,
            "| strategy | payload | req/s | MB/s | p50 | p99 | requests timed |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for f in functions(r, REQRESP, &REQRESP_ORDER) {
            for size in sizes(r, REQRESP) {
                let Some(res) = find(r, REQRESP, &f, size) else {
                    continue;
                };
                let lat = latency_of(inputs, &f, size);
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    label(&f),
                    size_label(size),
                    res.elements_per_sec().map_or("–".into(), rate),
                    res.bytes_per_sec().map_or("–".into(), mb_per_sec),
                    lat.map_or("–".into(), |l| duration(l.p50_ns as f64)),
                    lat.map_or("–".into(), |l| duration(l.p99_ns as f64)),
                    lat.map_or("–".into(), |l| l.count.to_string()),
                );
            }
        }
        let _ = writeln!(md, "\n</details>\n");
        let nagle = latency_of(inputs, "two-send-nagle-on", MAIN_SIZE);
        let sleep = latency_of(inputs, "sleep-1ms", MAIN_SIZE);
        let _ = writeln!(md, "What the figures say:\n");
        let _ = writeln!(
            md,
            "- **Two sends with Nagle on** stall: the 4-byte length goes out at once, but Nagle's \
             algorithm holds the second small write (the payload) until the first is acknowledged, \
             and the peer delays that ACK (Linux: up to 40 ms) hoping to piggyback it on data it \
             never sends. Here both the request and the echo are two-send, so a round trip holds \
             two stalls (p50 {}), half the reference's 22 req/s, which stalled once. Not a \
             bandwidth problem; it is one timer per message.",
            nagle.map_or("–".into(), |l| duration(l.p50_ns as f64))
        );
        let _ = writeln!(
            md,
            "- **Two sends with Nagle off** ({} of the single write, side by side) or **with an \
             ack** ({}) frame correctly without the stall, but pay two writes per message, and \
             the ack adds a whole round trip (the issue's reference: 0.46×).",
            side_or_criterion(inputs, "two-send-nagle-off", base),
            side_or_criterion(inputs, "two-send-ack", base),
        );
        let _ = writeln!(
            md,
            "- **Sleep 1 ms** caps the rate at the timer, not the network: tokio's timer has \
             millisecond resolution and rounds a 1 ms sleep up to the next tick, so each message \
             costs about 2 ms (p50 {}) — and it still does not frame: a large message arrives over \
             several reads and fast senders merge messages.",
            sleep.map_or("–".into(), |l| duration(l.p50_ns as f64))
        );
        let json = eps(r, REQRESP, "json-header", MAIN_SIZE);
        let extra = json_extra_ns(r, MAIN_SIZE);
        let base_p50 = latency_of(inputs, "length", MAIN_SIZE);
        let _ = writeln!(
            md,
            "- **Header-prefixed** (one vectored write per message) is the only strategy bound by \
             the loopback round trip itself. The JSON header runs at {} of the binary length's \
             rate side by side ({} from the criterion figures, measured one after the other). In \
             memory, encoding and parsing `{{\"data_size\":N}}` costs {} more per message than a \
             4-byte length (sections 3 and 4): small against a round trip of {} (p50).",
            side_or_criterion(inputs, "json-header", base),
            ratio(json, base),
            match extra {
                Some(ns) if ns > 0.0 => duration(ns),
                Some(_) => "nothing measurable".into(),
                None => "–".into(),
            },
            base_p50.map_or("–".into(), |l| duration(l.p50_ns as f64)),
        );
    }

    // One-way.
    if sizes(r, ONEWAY).contains(&MAIN_SIZE) {
        let _ = writeln!(
            md,
            "\n## 2. One-way streaming over loopback TCP\n\nA stream of messages; a sample ends when \
             the receiver has decoded them all. Main table at {}, ratio to tokio-util's `Framed`:\n",
            size_label(MAIN_SIZE)
        );
        let base = eps(r, ONEWAY, "framed-ldc", MAIN_SIZE);
        let ref_base = ONEWAY_REFERENCE[0].1;
        let _ = writeln!(
            md,
            "| strategy | msg/s | MB/s | ratio to Framed | reference msg/s | reference ratio |\n| --- | ---: | ---: | ---: | ---: | ---: |"
        );
        for f in functions(r, ONEWAY, &ONEWAY_ORDER) {
            let Some(res) = find(r, ONEWAY, &f, MAIN_SIZE) else {
                continue;
            };
            let v = res.elements_per_sec();
            let reference = ONEWAY_REFERENCE
                .iter()
                .find(|(id, _)| *id == f)
                .map(|(_, v)| *v);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                label(&f),
                v.map_or("–".into(), rate),
                res.bytes_per_sec().map_or("–".into(), mb_per_sec),
                ratio(v, base),
                reference.map_or("–".into(), rate),
                ratio(reference, Some(ref_base)),
            );
        }
        chart_link(&mut md, ONEWAY);
        let _ = writeln!(md, "<details><summary>All payload sizes</summary>\n");
        let _ = writeln!(
            md,
            "| strategy | payload | msg/s | MB/s | ratio to Framed, same size |\n| --- | ---: | ---: | ---: | ---: |"
        );
        for f in functions(r, ONEWAY, &ONEWAY_ORDER) {
            for size in sizes(r, ONEWAY) {
                let Some(res) = find(r, ONEWAY, &f, size) else {
                    continue;
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    label(&f),
                    size_label(size),
                    res.elements_per_sec().map_or("–".into(), rate),
                    res.bytes_per_sec().map_or("–".into(), mb_per_sec),
                    ratio(res.elements_per_sec(), eps(r, ONEWAY, "framed-ldc", size)),
                );
            }
        }
        let _ = writeln!(md, "\n</details>\n");
        let _ = writeln!(md, "What the figures say:\n");
        let _ = writeln!(
            md,
            "- **Batching is the whole game for small messages.** `Framed` and framecheck's \
             `Conn::feed` + `flush` put many messages in one `write`; one write per message \
             (`send`, two-send, sleep) pays a system call and a wakeup of the receiver each time. \
             `FramedWrite` writes out whenever its buffer passes 8 KiB (its default backpressure \
             boundary), `Conn::feed` at 64 KiB, so framecheck makes 8× fewer writes: at 16 B \
             both are bound by per-message CPU work, at 256 B–1 KiB the extra writes show."
        );
        let _ = writeln!(
            md,
            "- **64 KiB**: `Framed`'s encoder copies each body into its write buffer; framecheck \
             writes the prefix and the body in one vectored write without the copy, so it should \
             match raw 64 KiB writes of unframed bytes."
        );
        let _ = writeln!(
            md,
            "- **Two sends with Nagle on** does not stall when streaming: the receiver keeps \
             acknowledging full segments, so Nagle only coalesces the small writes. It stalls when \
             the sender waits for something — the reply in request/response, or the ack of \
             **two sends + ack** here: the next 4-byte length waits for the ACK of the previous \
             payload, which the receiver delays, so that \"fix\" runs at the delayed-ACK timer rate."
        );
        let _ = writeln!(
            md,
            "- **Sleep 1 ms**: one message per timer tick, whatever the size."
        );
    }

    // Codec.
    for (group, title, order) in [
        (DECODE, "3. Decode in memory", &DECODE_ORDER[..]),
        (ENCODE, "4. Encode in memory", &ENCODE_ORDER[..]),
    ] {
        if sizes(r, group).is_empty() {
            continue;
        }
        let reference_fn = |f: &str| -> Option<&str> {
            match f {
                "header-codec-whole" => Some("ldc-whole"),
                "header-codec-chunked" => Some("ldc-chunked"),
                "header-codec" | "header-prefix" => Some("ldc"),
                _ => None,
            }
        };
        let _ = writeln!(
            md,
            "\n## {title}\n\nOne stream of about 256 KiB of bodies (at least 16 frames) per \
             iteration; minimal header `{{\"data_size\":N}}`; one core.\n"
        );
        let _ = writeln!(
            md,
            "| codec | payload | frames/s | body MB/s | ratio to LengthDelimitedCodec | ratio to memcpy |\n| --- | ---: | ---: | ---: | ---: | ---: |"
        );
        for size in sizes(r, group) {
            for f in functions(r, group, order) {
                let Some(res) = find(r, group, &f, size) else {
                    continue;
                };
                let v = res.elements_per_sec();
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} |",
                    label(&f),
                    size_label(size),
                    v.map_or("–".into(), rate),
                    res.bytes_per_sec().map_or("–".into(), mb_per_sec),
                    reference_fn(&f).map_or("–".into(), |rf| ratio(v, eps(r, group, rf, size))),
                    if group == DECODE && f != "memcpy" {
                        ratio(v, eps(r, DECODE, "memcpy", size))
                    } else {
                        "–".into()
                    },
                );
            }
        }
        chart_link(&mut md, group);
    }
    if !sizes(r, DECODE).is_empty() {
        let _ = writeln!(md, "What the figures say:\n");
        let _ = writeln!(
            md,
            "- **Where the time goes** for small frames: `LengthDelimitedCodec` reads a 4-byte \
             integer; `HeaderCodec` reads a 4-byte length, then parses the JSON header with \
             serde_json (a hand-written visitor, no allocation for a minimal header), checks it \
             against the limits, and builds a `Frame` (`Header` with two `Option<String>`s and an \
             empty map). A minimal `{{\"data_size\":N}}` takes a byte-level fast path (no \
             serde_json), so what is left is a second state (length, header, body instead of \
             head, data), a second `advance`, and building and dropping the `Header`; any other \
             header goes through serde_json and costs several times more."
        );
        let _ = writeln!(
            md,
            "- **64 KiB**: both codecs split the body off the read buffer (`split_to`) without \
             copying it, so a frame costs the same whatever its size and decoding beats memcpy \
             of the bodies by an order of magnitude. Per frame, `HeaderCodec` still pays its \
             header (the fixed cost above), which is why its frames/s stays below \
             `LengthDelimitedCodec`'s at every size."
        );
        let _ = writeln!(
            md,
            "- **1–64 B reads**: every read is appended to the buffer (that copy is the socket \
             read's in real life), and the decoder is called after each; a frame takes several \
             calls. The body limit is reserved once the header is parsed."
        );
        let _ = writeln!(
            md,
            "- **Encode**: both encoders copy the body into the write buffer; \
             `wire::encode_prefix` alone is what framecheck's `Conn` does for bodies over 8 KiB, \
             sending the body itself in a vectored write. The header is written by serde_json \
             even when it is the minimal one, which is most of the gap to \
             `LengthDelimitedCodec` for small frames."
        );
    }

    // Other groups (the harness bench).
    let known = [REQRESP, ONEWAY, DECODE, ENCODE];
    let mut others: Vec<&str> = r
        .iter()
        .map(|x| x.group.as_str())
        .filter(|g| !known.contains(g))
        .collect();
    others.dedup();
    if !others.is_empty() {
        let _ = writeln!(md, "\n## 5. The harness\n");
    }
    for group in others {
        let _ = writeln!(
            md,
            "### `{group}`\n\n| benchmark | parameter | time per iteration | elements/s | MB/s |\n| --- | --- | ---: | ---: | ---: |"
        );
        for res in r.iter().filter(|x| x.group == group) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                res.function,
                res.value.as_deref().unwrap_or(""),
                duration(res.ns_per_iter),
                res.elements_per_sec().map_or("–".into(), rate),
                res.bytes_per_sec().map_or("–".into(), mb_per_sec),
            );
        }
        chart_link(&mut md, group);
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Throughput;

    fn res(group: &str, function: &str, size: u64, per_sec: f64) -> BenchResult {
        BenchResult {
            group: group.into(),
            function: function.into(),
            value: Some(size.to_string()),
            ns_per_iter: 1e9 / per_sec,
            throughput: Some(Throughput::ElementsAndBytes {
                elements: 1,
                bytes: size,
            }),
        }
    }

    #[test]
    fn number_formats() {
        assert_eq!(rate(39_012.0), "39 000");
        assert_eq!(rate(1_234_567.0), "1.23 M");
        assert_eq!(rate(13_512_000.0), "13.5 M");
        assert_eq!(rate(3_300_000.0), "3.30 M");
        assert_eq!(rate(22.44), "22.4");
        assert_eq!(rate(460.2), "460");
        assert_eq!(duration(25_300.0), "25.3 µs");
        assert_eq!(duration(44_900_000.0), "44.9 ms");
        assert_eq!(duration(850.0), "850 ns");
        assert_eq!(mb_per_sec(10_958_000.0), "11.0");
        assert_eq!(ratio(Some(22.0), Some(39_000.0)), "0.0006×");
        assert_eq!(ratio(Some(3.0), Some(3.3)), "0.91×");
        assert_eq!(ratio(None, Some(1.0)), "–");
        assert_eq!(size_label(65_536), "64 KiB");
        assert_eq!(size_label(256), "256 B");
        assert_eq!(
            chart_name("harness/check decoder"),
            "bench-harness_check_decoder.svg"
        );
    }

    #[test]
    fn checks_compare_against_targets() {
        let results = vec![
            res(ONEWAY, "length", 256, 3.0e6),
            res(ONEWAY, "framed-ldc", 256, 3.2e6),
            res(ONEWAY, "length", 65_536, 40_000.0),
            res(ONEWAY, "framed-ldc", 65_536, 30_000.0),
            res(ONEWAY, "raw-64k-writes", 65_536, 50_000.0),
            res(DECODE, "header-codec-whole", 16, 7e6),
        ];
        let ratios = RatioFile::from([(
            paired::key(ONEWAY, "length", "raw-64k-writes", 65_536),
            RatioSummary {
                rounds: 5,
                median: 0.95,
                min: 0.9,
                max: 1.1,
            },
        )]);
        let c = checks(&results, &ratios);
        let get = |what: &str| c.iter().find(|c| c.what.starts_with(what)).unwrap();
        assert_eq!(get("one-way 256 B").met, Some(true));
        assert_eq!(get("one-way 256 B").criterion, "0.94×");
        assert_eq!(get("one-way 256 B").measured, "–");
        assert_eq!(get("one-way 16 B").met, None);
        assert_eq!(
            get("one-way 64 KiB: framecheck binary length / Framed").met,
            Some(true)
        );
        // The criterion figures say 0.80×, the side-by-side median 0.95×:
        // the side-by-side measurement decides.
        let raw = get("one-way 64 KiB: framecheck binary length / raw");
        assert_eq!(raw.criterion, "0.80×");
        assert_eq!(raw.measured, "0.95× (0.90–1.10, 5 rounds)");
        assert_eq!(raw.met, Some(true));
        let decode: Vec<_> = c
            .iter()
            .filter(|c| c.what.starts_with("decode 16 B"))
            .collect();
        assert_eq!(decode.len(), 2);
        assert_eq!((decode[0].met, decode[1].met), (Some(true), Some(false)));
    }

    #[test]
    fn report_has_tables_ratios_latencies_and_machine() {
        let results = vec![
            res(REQRESP, "length", 256, 40_000.0),
            res(REQRESP, "two-send-nagle-on", 256, 11.0),
            res(ONEWAY, "framed-ldc", 256, 2e6),
            res(ONEWAY, "length", 256, 3e6),
            res(DECODE, "header-codec-whole", 16, 1.2e7),
            res(DECODE, "ldc-whole", 16, 2.4e7),
            BenchResult {
                group: "harness".into(),
                function: "roundtrip".into(),
                value: None,
                ns_per_iter: 1e6,
                throughput: Some(Throughput::Elements(100)),
            },
        ];
        let latencies = LatencyFile::from([(
            latency::key(REQRESP, "two-send-nagle-on", "256"),
            LatencySummary {
                count: 20,
                p50_ns: 88_000_000,
                p99_ns: 92_000_000,
                max_ns: 93_000_000,
            },
        )]);
        let machine = Machine {
            cpu: "Test CPU".into(),
            nproc: 2,
            rustc: "rustc 1.95.0".into(),
            date: "2026-11-22 23:00 UTC".into(),
            mode: "quick".into(),
            load: "1.00 0.50 0.20".into(),
        };
        let ratios = RatioFile::from([(
            paired::key(REQRESP, "json-header", "length", 256),
            RatioSummary {
                rounds: 5,
                median: 0.97,
                min: 0.9,
                max: 1.01,
            },
        )]);
        let inputs = Inputs {
            results: &results,
            latencies: &latencies,
            ratios: &ratios,
            machine: &machine,
            command: "ci/bench-report.sh --quick",
            criterion_html: "../target/criterion/report/index.html",
        };
        let charts = charts(&results).unwrap();
        let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bench-loopback_reqresp.svg",
                "bench-loopback_oneway.svg",
                "bench-codec_decode.svg",
                "bench-harness.svg"
            ]
        );
        let md = render(&inputs, &charts);
        for needle in [
            "| CPU | Test CPU (2 logical CPUs) |",
            "| two sends, Nagle on | 11.0 | 88.0 ms | 92.0 ms | 0.0003× | 22.0 | 0.0006× |",
            "| framecheck header-prefixed, binary length | 3.00 M | 768 | 1.50× | – | – |",
            "| HeaderCodec, whole buffer | 16 B | 12.0 M | 192 | 0.50× | – |",
            "![loopback_reqresp](bench-loopback_reqresp.svg)",
            "| roundtrip |  | 1.0 ms | 100 000 | – |",
            "../target/criterion/report/index.html",
            "| loopback_reqresp | framecheck header-prefixed, JSON header | framecheck header-prefixed, binary length | 256 B | 0.97× | 0.90–1.01 | 5 |",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
        }
    }
}
