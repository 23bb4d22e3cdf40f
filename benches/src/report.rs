//! The Markdown report (`docs/benchmarks.md`). Rust computes the tables,
//! the ratios and the verdicts; the prose is the template
//! `src/templates/benchmarks.md` (tinytemplate), which only chooses between
//! sentences on those verdicts. Every figure comes from one run: ratios
//! are between benchmarks of that run, targets are stated as targets.

use std::borrow::Cow;

use framecheck_codec::strategy::Framing;
pub use framecheck_figures::fmt::{duration, mb_per_sec, rate, ratio};
use framecheck_figures::{
    chart::{Bar, BarChart},
    fmt::{self, MISSING},
    table::{Align, Table},
};
use serde::Serialize;
use tinytemplate::TinyTemplate;

use crate::{
    fuzz_speed::{self, FuzzSpeed},
    latency::{self, LatencyFile, LatencySummary},
    paired::{self, RatioFile, RatioSummary},
    results::BenchResult,
};

/// Request/response group, as the benches register it.
pub const REQRESP: &str = "loopback_reqresp";
/// One-way streaming group.
pub const ONEWAY: &str = "loopback_oneway";
/// Codec decode group.
pub const DECODE: &str = "codec_decode";
/// Codec encode group.
pub const ENCODE: &str = "codec_encode";

/// One-way writer: the binary length with one `Conn::send` per message.
pub const LENGTH_WRITE_EACH: &str = "length-write-each";
/// One-way writer: tokio-util `FramedWrite` + `LengthDelimitedCodec`.
pub const FRAMED_LDC: &str = "framed-ldc";
/// One-way writer: unframed 64 KiB writes.
pub const RAW_WRITES: &str = "raw-64k-writes";

/// The template of `docs/benchmarks.md`.
pub const TEMPLATE: &str = include_str!("templates/benchmarks.md");

/// The payload size of the main tables.
const MAIN_SIZE: u64 = 256;

/// Where the run happened and how.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
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
    /// The fuzz targets' speed, when this run measured it.
    pub fuzz: Option<&'a FuzzSpeed>,
    /// Why the fuzz targets' speed was not measured, when the script knows.
    pub fuzz_note: Option<&'a str>,
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

/// What a benchmark id means, for people: a strategy's
/// [`Framing::label`], or the writer or codec the id names.
pub fn label(function: &str) -> Cow<'static, str> {
    if let Some(f) = Framing::from_id(function) {
        return f.label();
    }
    Cow::Borrowed(match function {
        LENGTH_WRITE_EACH => "binary length prefix, one write per message",
        FRAMED_LDC => "tokio-util Framed + LengthDelimitedCodec",
        RAW_WRITES => "raw 64 KiB writes, no framing",
        "header-codec-whole" => "HeaderCodec, whole buffer",
        "header-codec-chunked" => "HeaderCodec, 1–64 B reads",
        "ldc-whole" => "LengthDelimitedCodec, whole buffer",
        "ldc-chunked" => "LengthDelimitedCodec, 1–64 B reads",
        "memcpy" => "memcpy of the bodies",
        "header-codec" => "HeaderCodec::encode (copies body)",
        "header-prefix" => "wire::encode_prefix only",
        "ldc" => "LengthDelimitedCodec::encode (copies body)",
        other => return Cow::Owned(other.to_owned()),
    })
}

/// `16` → `16 B`, `1024` → `1 KiB` (see [`fmt::size`]).
pub fn size_label(bytes: u64) -> String {
    fmt::size(bytes)
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

/// Function ids of a group in the order of `preferred`, then the rest.
fn functions(results: &[BenchResult], group: &str, preferred: &[String]) -> Vec<String> {
    let mut out: Vec<String> = preferred
        .iter()
        .filter(|f| {
            results
                .iter()
                .any(|r| r.group == group && &r.function == *f)
        })
        .cloned()
        .collect();
    for r in results.iter().filter(|r| r.group == group) {
        if !out.contains(&r.function) {
            out.push(r.function.clone());
        }
    }
    out
}

fn id(f: Framing) -> String {
    f.id().into_owned()
}

/// Table order of a group's function ids.
fn order(group: &str) -> Vec<String> {
    let two = |ack, nodelay| id(Framing::TwoSend { ack, nodelay });
    let sleep = id(Framing::Sleep {
        gap: std::time::Duration::from_millis(1),
    });
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match group {
        REQRESP => vec![
            id(Framing::Length),
            id(Framing::JsonHeader),
            two(false, true),
            two(true, false),
            sleep,
            two(false, false),
        ],
        ONEWAY => vec![
            FRAMED_LDC.into(),
            id(Framing::Length),
            RAW_WRITES.into(),
            id(Framing::JsonHeader),
            LENGTH_WRITE_EACH.into(),
            two(false, true),
            two(false, false),
            sleep,
            two(true, false),
        ],
        DECODE => s(&[
            "memcpy",
            "ldc-whole",
            "header-codec-whole",
            "ldc-chunked",
            "header-codec-chunked",
        ]),
        ENCODE => s(&["ldc", "header-codec", "header-prefix"]),
        _ => Vec::new(),
    }
}

fn latency_of(inputs: &Inputs<'_>, function: &str, size: u64) -> Option<LatencySummary> {
    inputs
        .latencies
        .get(&latency::key(REQRESP, function, &size.to_string()))
        .copied()
}

/// How much longer a message with a minimal JSON header takes to encode
/// (`HeaderCodec::encode` against `LengthDelimitedCodec::encode`, both
/// copying the body) and to decode than one with a 4-byte length, from the
/// codec groups, in nanoseconds.
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

/// One check against a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What is compared.
    pub what: String,
    /// The side-by-side ratio, formatted, or `–` when not measured so.
    pub measured: String,
    /// The ratio from the criterion figures (back-to-back runs), formatted.
    pub criterion: String,
    /// The target, formatted.
    pub target: String,
    /// Whether it was met; `None` when a figure is missing.
    pub met: Option<bool>,
}

/// The targets, checked against the results: a ratio is judged on its
/// side-by-side median when `ratios` has it, else on the criterion figures.
pub fn checks(results: &[BenchResult], ratios: &RatioFile) -> Vec<Check> {
    let mut out = Vec::new();
    let length = id(Framing::Length);
    let mut ratio_check = |what: String, group: &str, a: &str, b: &str, size: u64, target: f64| {
        let crit = match (eps(results, group, a, size), eps(results, group, b, size)) {
            (Some(x), Some(y)) if y > 0.0 => Some(x / y),
            _ => None,
        };
        let side: Option<RatioSummary> = ratios.get(&paired::key(group, a, b, size)).copied();
        let judged = side.map(|s| s.median).or(crit);
        out.push(Check {
            what,
            measured: side.map_or(MISSING.into(), |s| {
                format!(
                    "{:.2}× ({:.2}–{:.2}, {} rounds)",
                    s.median, s.min, s.max, s.rounds
                )
            }),
            criterion: crit.map_or(MISSING.into(), |r| format!("{r:.2}×")),
            target: format!("≥ {target:.1}×"),
            met: judged.map(|r| r >= target),
        });
    };
    for size in [16, 256, 1024] {
        ratio_check(
            format!("one-way {}: binary length / Framed", size_label(size)),
            ONEWAY,
            &length,
            FRAMED_LDC,
            size,
            0.9,
        );
    }
    let big = 64 * 1024;
    ratio_check(
        "one-way 64 KiB: binary length / Framed".into(),
        ONEWAY,
        &length,
        FRAMED_LDC,
        big,
        1.0,
    );
    ratio_check(
        "one-way 64 KiB: binary length / raw 64 KiB writes".into(),
        ONEWAY,
        &length,
        RAW_WRITES,
        big,
        0.9,
    );
    ratio_check(
        "decode 64 KiB: HeaderCodec / memcpy of the bodies".into(),
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
    for (target, aim) in [(5e6, "target"), (10e6, "stretch aim")] {
        let measured = eps(results, DECODE, "header-codec-whole", 16);
        out.push(Check {
            what: format!("decode 16 B, minimal JSON header: HeaderCodec frames/s ({aim})"),
            measured: MISSING.into(),
            criterion: measured.map_or(MISSING.into(), rate),
            target: format!("≥ {}", rate(target)),
            met: measured.map(|m| m >= target),
        });
    }
    out
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

const KNOWN: [(&str, &str, &str); 4] = [
    (
        REQRESP,
        "Request/response over loopback",
        "requests/s (log scale)",
    ),
    (
        ONEWAY,
        "One-way streaming over loopback",
        "messages/s (log scale)",
    ),
    (DECODE, "Decode in memory", "frames/s (log scale)"),
    (ENCODE, "Encode in memory", "frames/s (log scale)"),
];

fn other_groups(results: &[BenchResult]) -> Vec<&str> {
    let mut others: Vec<&str> = results
        .iter()
        .map(|r| r.group.as_str())
        .filter(|g| !KNOWN.iter().any(|(k, _, _)| k == g))
        .collect();
    others.dedup();
    others
}

/// The charts, one per group that has results: one colour per payload
/// size, named in the legend.
///
/// # Errors
///
/// plotters' drawing error.
pub fn charts(results: &[BenchResult]) -> Result<Vec<ChartFile>, String> {
    let mut out = Vec::new();
    for (group, title, unit) in KNOWN {
        let sizes = sizes(results, group);
        let mut bars = Vec::new();
        for (series, &size) in sizes.iter().enumerate() {
            for f in functions(results, group, &order(group)) {
                if let Some(v) = eps(results, group, &f, size) {
                    bars.push(Bar {
                        label: format!("{f} · {}", size_label(size)),
                        value: v,
                        series,
                    });
                }
            }
        }
        let series: Vec<String> = sizes.iter().map(|s| size_label(*s)).collect();
        let chart = BarChart {
            title,
            unit,
            bars: &bars,
            series: &series,
        };
        if let Some(svg) = chart.svg()? {
            out.push(ChartFile {
                name: chart_name(group),
                svg,
            });
        }
    }
    // Any other group (the harness's): one bar per benchmark.
    for group in other_groups(results) {
        let bars: Vec<Bar> = results
            .iter()
            .filter(|r| r.group == group)
            .filter_map(|r| {
                Some(Bar {
                    label: match &r.value {
                        Some(value) => format!("{} · {value}", r.function),
                        None => r.function.clone(),
                    },
                    value: r.elements_per_sec()?,
                    series: 0,
                })
            })
            .collect();
        let chart = BarChart {
            title: group,
            unit: "elements/s (log scale)",
            bars: &bars,
            series: &[],
        };
        if let Some(svg) = chart.svg()? {
            out.push(ChartFile {
                name: chart_name(group),
                svg,
            });
        }
    }
    Ok(out)
}

// What the template sees. Tables arrive rendered; verdicts as booleans.

#[derive(Serialize)]
struct Page<'a> {
    command: &'a str,
    criterion_html: &'a str,
    quick: bool,
    machine: &'a Machine,
    targets: String,
    ratios: Option<String>,
    reqresp: Option<ReqResp>,
    oneway: Option<OneWay>,
    codec: Vec<Section>,
    codec_notes: Option<CodecNotes>,
    harness: Vec<Section>,
    fuzz: Option<Fuzz>,
    fuzz_note: Option<&'a str>,
}

#[derive(Serialize)]
struct Section {
    title: String,
    /// What one iteration handled, from the throughput criterion recorded.
    per_iter: Option<String>,
    table: String,
    chart: Option<String>,
}

#[derive(Serialize)]
struct ReqResp {
    size: String,
    table: String,
    all_sizes: String,
    chart: Option<String>,
    nagle: Option<Latency>,
    sleep: Option<Latency>,
    nagle_off_ratio: String,
    ack_ratio: String,
    json_side: String,
    json_criterion: String,
    json_extra: Option<String>,
    length_p50: String,
}

#[derive(Serialize)]
struct Latency {
    p50: String,
    /// The verdict the template words: a stall for two-send with Nagle on
    /// (p50 ≥ 10 ms), more than the 1 ms asked for the sleep (p50 > 1.5 ms).
    slow: bool,
}

#[derive(Serialize)]
struct OneWay {
    size: String,
    table: String,
    all_sizes: String,
    chart: Option<String>,
    small_ratio: String,
    small_faster: bool,
    big_ratio: Option<String>,
    big_faster: bool,
    raw_ratio: Option<String>,
}

#[derive(Serialize)]
struct CodecNotes {
    decode_64k_over_memcpy: Option<String>,
    decode_64k_faster_than_memcpy: bool,
    header_over_ldc_16: Option<String>,
}

#[derive(Serialize)]
struct Fuzz {
    machine: String,
    /// How many fuzzing runs each figure is the median of.
    runs: usize,
    /// How long each run fuzzed, in seconds.
    seconds: String,
    table: String,
    checks: String,
}

fn chart_of(charts: &[ChartFile], group: &str) -> Option<String> {
    let name = chart_name(group);
    charts.iter().any(|c| c.name == name).then_some(name)
}

/// `function`'s request/response rate over the binary length's at 256 B:
/// the side-by-side median when measured, else the criterion ratio.
fn side_or_criterion(inputs: &Inputs<'_>, function: &str) -> String {
    let length = id(Framing::Length);
    match inputs
        .ratios
        .get(&paired::key(REQRESP, function, &length, MAIN_SIZE))
    {
        Some(s) => fmt::times(s.median),
        None => ratio(
            eps(inputs.results, REQRESP, function, MAIN_SIZE),
            eps(inputs.results, REQRESP, &length, MAIN_SIZE),
        ),
    }
}

fn reqresp(inputs: &Inputs<'_>, charts: &[ChartFile]) -> Option<ReqResp> {
    let r = inputs.results;
    if !sizes(r, REQRESP).contains(&MAIN_SIZE) {
        return None;
    }
    let length = id(Framing::Length);
    let base = eps(r, REQRESP, &length, MAIN_SIZE);
    let p = |l: Option<LatencySummary>, f: fn(&LatencySummary) -> u64| {
        l.map_or(MISSING.into(), |l| duration(f(&l) as f64))
    };
    let mut table = Table::new([
        ("strategy", Align::Left),
        ("req/s", Align::Right),
        ("p50", Align::Right),
        ("p99", Align::Right),
        ("ratio to binary length", Align::Right),
    ]);
    for f in functions(r, REQRESP, &order(REQRESP)) {
        let v = eps(r, REQRESP, &f, MAIN_SIZE);
        let lat = latency_of(inputs, &f, MAIN_SIZE);
        table.row([
            label(&f).into_owned(),
            v.map_or(MISSING.into(), rate),
            p(lat, |l| l.p50_ns),
            p(lat, |l| l.p99_ns),
            ratio(v, base),
        ]);
    }
    let mut all = Table::new([
        ("strategy", Align::Left),
        ("payload", Align::Right),
        ("req/s", Align::Right),
        ("MB/s", Align::Right),
        ("p50", Align::Right),
        ("p99", Align::Right),
        ("requests timed", Align::Right),
    ]);
    for f in functions(r, REQRESP, &order(REQRESP)) {
        for size in sizes(r, REQRESP) {
            let Some(res) = find(r, REQRESP, &f, size) else {
                continue;
            };
            let lat = latency_of(inputs, &f, size);
            all.row([
                label(&f).into_owned(),
                size_label(size),
                res.elements_per_sec().map_or(MISSING.into(), rate),
                res.bytes_per_sec().map_or(MISSING.into(), mb_per_sec),
                p(lat, |l| l.p50_ns),
                p(lat, |l| l.p99_ns),
                lat.map_or(MISSING.into(), |l| l.count.to_string()),
            ]);
        }
    }
    let latency_verdict = |f: Framing, slow_ns: u64| {
        latency_of(inputs, &f.id(), MAIN_SIZE).map(|l| Latency {
            p50: duration(l.p50_ns as f64),
            slow: l.p50_ns >= slow_ns,
        })
    };
    let json = id(Framing::JsonHeader);
    Some(ReqResp {
        size: size_label(MAIN_SIZE),
        table: table.markdown(),
        all_sizes: all.markdown(),
        chart: chart_of(charts, REQRESP),
        nagle: latency_verdict(
            Framing::TwoSend {
                ack: false,
                nodelay: false,
            },
            10_000_000,
        ),
        sleep: latency_verdict(
            Framing::Sleep {
                gap: std::time::Duration::from_millis(1),
            },
            1_500_000,
        ),
        nagle_off_ratio: side_or_criterion(
            inputs,
            &Framing::TwoSend {
                ack: false,
                nodelay: true,
            }
            .id(),
        ),
        ack_ratio: side_or_criterion(
            inputs,
            &Framing::TwoSend {
                ack: true,
                nodelay: false,
            }
            .id(),
        ),
        json_side: side_or_criterion(inputs, &json),
        json_criterion: ratio(eps(r, REQRESP, &json, MAIN_SIZE), base),
        json_extra: json_extra_ns(r, MAIN_SIZE).map(|ns| {
            if ns > 0.0 {
                duration(ns)
            } else {
                "nothing measurable".into()
            }
        }),
        length_p50: p(latency_of(inputs, &length, MAIN_SIZE), |l| l.p50_ns),
    })
}

fn oneway(inputs: &Inputs<'_>, charts: &[ChartFile]) -> Option<OneWay> {
    let r = inputs.results;
    if !sizes(r, ONEWAY).contains(&MAIN_SIZE) {
        return None;
    }
    let length = id(Framing::Length);
    let base = eps(r, ONEWAY, FRAMED_LDC, MAIN_SIZE);
    let mut table = Table::new([
        ("strategy", Align::Left),
        ("msg/s", Align::Right),
        ("MB/s", Align::Right),
        ("ratio to Framed", Align::Right),
    ]);
    for f in functions(r, ONEWAY, &order(ONEWAY)) {
        let Some(res) = find(r, ONEWAY, &f, MAIN_SIZE) else {
            continue;
        };
        let v = res.elements_per_sec();
        table.row([
            label(&f).into_owned(),
            v.map_or(MISSING.into(), rate),
            res.bytes_per_sec().map_or(MISSING.into(), mb_per_sec),
            ratio(v, base),
        ]);
    }
    let mut all = Table::new([
        ("strategy", Align::Left),
        ("payload", Align::Right),
        ("msg/s", Align::Right),
        ("MB/s", Align::Right),
        ("ratio to Framed, same size", Align::Right),
    ]);
    for f in functions(r, ONEWAY, &order(ONEWAY)) {
        for size in sizes(r, ONEWAY) {
            let Some(res) = find(r, ONEWAY, &f, size) else {
                continue;
            };
            all.row([
                label(&f).into_owned(),
                size_label(size),
                res.elements_per_sec().map_or(MISSING.into(), rate),
                res.bytes_per_sec().map_or(MISSING.into(), mb_per_sec),
                ratio(res.elements_per_sec(), eps(r, ONEWAY, FRAMED_LDC, size)),
            ]);
        }
    }
    // Side by side when measured, else criterion's figures.
    let judged = |a: &str, b: &str, size: u64| -> Option<f64> {
        inputs
            .ratios
            .get(&paired::key(ONEWAY, a, b, size))
            .map(|s| s.median)
            .or_else(|| {
                let (x, y) = (eps(r, ONEWAY, a, size)?, eps(r, ONEWAY, b, size)?);
                (y > 0.0).then(|| x / y)
            })
    };
    let small = judged(&length, FRAMED_LDC, MAIN_SIZE);
    let big = judged(&length, FRAMED_LDC, 64 * 1024);
    Some(OneWay {
        size: size_label(MAIN_SIZE),
        table: table.markdown(),
        all_sizes: all.markdown(),
        chart: chart_of(charts, ONEWAY),
        small_ratio: small.map_or(MISSING.into(), fmt::times),
        small_faster: small.is_some_and(|x| x > 1.0),
        big_ratio: big.map(fmt::times),
        big_faster: big.is_some_and(|x| x > 1.0),
        raw_ratio: judged(&length, RAW_WRITES, 64 * 1024).map(fmt::times),
    })
}

fn codec(inputs: &Inputs<'_>, charts: &[ChartFile]) -> Vec<Section> {
    let r = inputs.results;
    let mut out = Vec::new();
    for (group, title) in [
        (DECODE, "3. Decode in memory"),
        (ENCODE, "4. Encode in memory"),
    ] {
        if sizes(r, group).is_empty() {
            continue;
        }
        let base_of = |f: &str| -> Option<&str> {
            match f {
                "header-codec-whole" => Some("ldc-whole"),
                "header-codec-chunked" => Some("ldc-chunked"),
                "header-codec" | "header-prefix" => Some("ldc"),
                _ => None,
            }
        };
        let mut table = Table::new([
            ("codec", Align::Left),
            ("payload", Align::Right),
            ("frames/s", Align::Right),
            ("body MB/s", Align::Right),
            ("ratio to LengthDelimitedCodec", Align::Right),
            ("ratio to memcpy", Align::Right),
        ]);
        for size in sizes(r, group) {
            for f in functions(r, group, &order(group)) {
                let Some(res) = find(r, group, &f, size) else {
                    continue;
                };
                let v = res.elements_per_sec();
                table.row([
                    label(&f).into_owned(),
                    size_label(size),
                    v.map_or(MISSING.into(), rate),
                    res.bytes_per_sec().map_or(MISSING.into(), mb_per_sec),
                    base_of(&f).map_or(MISSING.into(), |b| ratio(v, eps(r, group, b, size))),
                    if group == DECODE && f != "memcpy" {
                        ratio(v, eps(r, DECODE, "memcpy", size))
                    } else {
                        MISSING.into()
                    },
                ]);
            }
        }
        out.push(Section {
            title: title.into(),
            per_iter: frames_per_iteration(r, group),
            table: table.markdown(),
            chart: chart_of(charts, group),
        });
    }
    out
}

/// `16 384 frames of 16 B, …, 4 frames of 64 KiB`: the frames one
/// iteration of `group` handled at each size, as criterion recorded them.
fn frames_per_iteration(results: &[BenchResult], group: &str) -> Option<String> {
    let parts: Vec<String> = sizes(results, group)
        .into_iter()
        .filter_map(|size| {
            let n = results
                .iter()
                .filter(|r| r.group == group && r.size() == Some(size))
                .find_map(|r| r.throughput?.elements())?;
            Some(format!(
                "{} {} of {}",
                fmt::group_thousands(n),
                if n == 1 { "frame" } else { "frames" },
                size_label(size)
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn codec_notes(results: &[BenchResult]) -> Option<CodecNotes> {
    if sizes(results, DECODE).is_empty() {
        return None;
    }
    let over = |a: &str, b: &str, size: u64| {
        let (x, y) = (
            eps(results, DECODE, a, size)?,
            eps(results, DECODE, b, size)?,
        );
        (y > 0.0).then(|| x / y)
    };
    let memcpy = over("header-codec-whole", "memcpy", 64 * 1024);
    Some(CodecNotes {
        decode_64k_over_memcpy: memcpy.map(fmt::times),
        decode_64k_faster_than_memcpy: memcpy.is_some_and(|m| m > 1.0),
        header_over_ldc_16: over("header-codec-whole", "ldc-whole", 16).map(fmt::times),
    })
}

fn harness(results: &[BenchResult], charts: &[ChartFile]) -> Vec<Section> {
    other_groups(results)
        .into_iter()
        .map(|group| {
            let mut t = Table::new([
                ("benchmark", Align::Left),
                ("parameter", Align::Left),
                ("time per iteration", Align::Right),
                ("elements/s", Align::Right),
                ("MB/s", Align::Right),
            ]);
            for res in results.iter().filter(|x| x.group == group) {
                t.row([
                    res.function.clone(),
                    res.value.clone().unwrap_or_default(),
                    duration(res.ns_per_iter),
                    res.elements_per_sec().map_or(MISSING.into(), rate),
                    res.bytes_per_sec().map_or(MISSING.into(), mb_per_sec),
                ]);
            }
            Section {
                title: group.into(),
                per_iter: None,
                table: t.markdown(),
                chart: chart_of(charts, group),
            }
        })
        .collect()
}

fn targets_table(results: &[BenchResult], ratios: &RatioFile) -> Table {
    let mut t = Table::new([
        ("check", Align::Left),
        ("side by side", Align::Right),
        ("criterion", Align::Right),
        ("target", Align::Left),
        ("met", Align::Left),
    ]);
    for c in checks(results, ratios) {
        t.row([
            c.what,
            c.measured,
            c.criterion,
            c.target,
            fuzz_speed::met(c.met).into(),
        ]);
    }
    t
}

fn ratios_table(ratios: &RatioFile) -> Option<Table> {
    if ratios.is_empty() {
        return None;
    }
    let mut t = Table::new([
        ("group", Align::Left),
        ("first", Align::Left),
        ("second", Align::Left),
        ("payload", Align::Right),
        ("median", Align::Right),
        ("min–max", Align::Right),
        ("rounds", Align::Right),
    ]);
    for (key, s) in ratios {
        let parts: Vec<&str> = key.split('/').collect();
        if let [group, a, b, size] = parts[..] {
            t.row([
                group.to_owned(),
                label(a).into_owned(),
                label(b).into_owned(),
                size.parse().map_or(size.to_owned(), size_label),
                format!("{:.2}×", s.median),
                format!("{:.2}–{:.2}", s.min, s.max),
                s.rounds.to_string(),
            ]);
        }
    }
    Some(t)
}

/// Renders the report; `charts` are the files written next to it.
///
/// # Errors
///
/// The template's error (a bug in the template, caught by the tests).
pub fn render(inputs: &Inputs<'_>, charts: &[ChartFile]) -> Result<String, String> {
    let r = inputs.results;
    let page = Page {
        command: inputs.command,
        criterion_html: inputs.criterion_html,
        quick: inputs.machine.mode == "quick",
        machine: inputs.machine,
        targets: targets_table(r, inputs.ratios).markdown(),
        ratios: ratios_table(inputs.ratios).map(|t| t.markdown()),
        reqresp: reqresp(inputs, charts),
        oneway: oneway(inputs, charts),
        codec: codec(inputs, charts),
        codec_notes: codec_notes(r),
        harness: harness(r, charts),
        fuzz: inputs.fuzz.map(|f| {
            let (runs, seconds) = f.runs_and_seconds();
            Fuzz {
                machine: f.machine.clone(),
                runs,
                seconds: format!("{seconds:.0}"),
                table: f.table().markdown(),
                checks: f.checks().markdown(),
            }
        }),
        fuzz_note: inputs.fuzz_note.filter(|n| !n.is_empty()),
    };
    let mut tt = TinyTemplate::new();
    tt.set_default_formatter(&tinytemplate::format_unescaped);
    tt.add_template("benchmarks", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let md = tt.render("benchmarks", &page).map_err(|e| e.to_string())?;
    Ok(collapse_blank_lines(&md))
}

/// At most one blank line in a row (the template's optional parts leave
/// more where they are empty), and one newline at the end.
fn collapse_blank_lines(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut blank = 0;
    for line in md.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fuzz_speed::TargetSpeed, results::Throughput};

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

    fn nagle_on() -> String {
        id(Framing::TwoSend {
            ack: false,
            nodelay: false,
        })
    }

    fn machine(mode: &str) -> Machine {
        Machine {
            cpu: "Test CPU".into(),
            nproc: 2,
            rustc: "rustc 1.95.0".into(),
            date: "2026-11-22 23:00 UTC".into(),
            mode: mode.into(),
            load: "1.00 0.50 0.20".into(),
        }
    }

    fn inputs<'a>(
        results: &'a [BenchResult],
        latencies: &'a LatencyFile,
        ratios: &'a RatioFile,
        fuzz: Option<&'a FuzzSpeed>,
        machine: &'a Machine,
    ) -> Inputs<'a> {
        Inputs {
            results,
            latencies,
            ratios,
            fuzz,
            fuzz_note: None,
            machine,
            command: "bash ci/bench-report.sh --quick",
            criterion_html: "../target/criterion/report/index.html",
        }
    }

    #[test]
    fn labels_come_from_the_codec_for_strategies() {
        for f in Framing::ALL {
            assert_eq!(label(&f.id()), f.label());
        }
        assert_eq!(
            label(FRAMED_LDC),
            "tokio-util Framed + LengthDelimitedCodec"
        );
        assert_eq!(label("unknown-id"), "unknown-id");
        assert_eq!(
            chart_name("harness/check decoder"),
            "bench-harness_check_decoder.svg"
        );
    }

    #[test]
    fn checks_compare_against_targets() {
        let results = vec![
            res(ONEWAY, "length", 256, 3.0e6),
            res(ONEWAY, FRAMED_LDC, 256, 3.2e6),
            res(ONEWAY, "length", 65_536, 40_000.0),
            res(ONEWAY, FRAMED_LDC, 65_536, 30_000.0),
            res(ONEWAY, RAW_WRITES, 65_536, 50_000.0),
            res(DECODE, "header-codec-whole", 16, 7e6),
        ];
        let ratios = RatioFile::from([(
            paired::key(ONEWAY, "length", RAW_WRITES, 65_536),
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
            get("one-way 64 KiB: binary length / Framed").met,
            Some(true)
        );
        // The criterion figures say 0.80×, the side-by-side median 0.95×:
        // the side-by-side measurement decides.
        let raw = get("one-way 64 KiB: binary length / raw");
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
    fn report_has_tables_ratios_latencies_machine_and_no_reference_figures() {
        let results = vec![
            res(REQRESP, "length", 256, 40_000.0),
            res(REQRESP, &nagle_on(), 256, 11.0),
            res(ONEWAY, FRAMED_LDC, 256, 2e6),
            res(ONEWAY, "length", 256, 3e6),
            res(DECODE, "header-codec-whole", 16, 1.2e7),
            res(DECODE, "ldc-whole", 16, 2.4e7),
            BenchResult {
                throughput: Some(Throughput::ElementsAndBytes {
                    elements: 4,
                    bytes: 4 * 65_536,
                }),
                ..res(DECODE, "ldc-whole", 65_536, 1e6)
            },
            BenchResult {
                group: "harness".into(),
                function: "roundtrip".into(),
                value: None,
                ns_per_iter: 1e6,
                throughput: Some(Throughput::Elements(100)),
            },
        ];
        let latencies = LatencyFile::from([(
            latency::key(REQRESP, &nagle_on(), "256"),
            LatencySummary {
                count: 20,
                p50_ns: 88_000_000,
                p99_ns: 92_000_000,
                max_ns: 93_000_000,
            },
        )]);
        let ratios = RatioFile::from([(
            paired::key(REQRESP, "json-header", "length", 256),
            RatioSummary {
                rounds: 5,
                median: 0.97,
                min: 0.9,
                max: 1.01,
            },
        )]);
        let m = machine("quick");
        let inputs = inputs(&results, &latencies, &ratios, None, &m);
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
        let md = render(&inputs, &charts).unwrap();
        for needle in [
            "| CPU | Test CPU (2 logical CPUs) |",
            "**This was a quick run**",
            "| two sends, Nagle on | 11.0 | 88.0 ms | 92.0 ms | 0.00028× |",
            "- **Two sends with Nagle on** stalled: p50 88.0 ms per round trip.",
            "| binary length prefix | 3.00 M | 768 | 1.50× |",
            "At 256 B the binary length ran at 1.50× of `Framed`'s rate, faster.",
            "| HeaderCodec, whole buffer | 16 B | 12.0 M | 192 | 0.50× | – |",
            "at 16 B, `HeaderCodec` decoded at 0.50× of `LengthDelimitedCodec`'s rate",
            "![loopback_reqresp](bench-loopback_reqresp.svg)",
            "| roundtrip |  | 1.0 ms | 100 000 | – |",
            "../target/criterion/report/index.html",
            "| loopback_reqresp | JSON header | binary length prefix | 256 B | 0.97× | 0.90–1.01 | 5 |",
            "the JSON header ran at 0.97× of the binary length's rate side by side",
            "minimal header `{\"data_size\":N}`",
            "One stream per iteration: 1 frame of 16 B, 4 frames of 64 KiB;",
            "## 6. Fuzzing speed\n\nNot measured in this run",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
        }
        // Only figures of this run: no reference columns, no borrowed rates.
        assert!(!md.to_lowercase().contains("reference"), "{md}");
        assert!(!md.contains("{{") && !md.contains("{rr."), "{md}");
        assert!(!md.contains("\n\n\n"), "{md}");
    }

    #[test]
    fn a_full_run_says_no_quick_note_and_a_fast_nagle_is_not_a_stall() {
        let results = vec![
            res(REQRESP, "length", 256, 40_000.0),
            res(REQRESP, &nagle_on(), 256, 30_000.0),
        ];
        let latencies = LatencyFile::from([(
            latency::key(REQRESP, &nagle_on(), "256"),
            LatencySummary {
                count: 20,
                p50_ns: 40_000,
                p99_ns: 90_000,
                max_ns: 93_000,
            },
        )]);
        let m = machine("full");
        let ratios = RatioFile::new();
        let md = render(&inputs(&results, &latencies, &ratios, None, &m), &[]).unwrap();
        assert!(!md.contains("quick run"), "{md}");
        assert!(
            md.contains("- **Two sends with Nagle on** did not stall in this run (p50 40.0 µs)."),
            "{md}"
        );
        assert!(!md.contains("## 2. One-way"), "{md}");
        assert!(!md.contains("!["), "no chart files, no links: {md}");
    }

    #[test]
    fn fuzzing_speed_is_rendered_from_the_file_when_there_is_one() {
        let fuzz = FuzzSpeed {
            machine: "AMD EPYC, 2 CPUs".into(),
            targets: vec![
                TargetSpeed {
                    target: "decode".into(),
                    config: fuzz_speed::ASAN.into(),
                    execs_per_sec: 12_400.0,
                    seconds: 10.0,
                    runs: vec![],
                },
                TargetSpeed {
                    target: "decode".into(),
                    config: fuzz_speed::FAST.into(),
                    execs_per_sec: 140_000.0,
                    seconds: 10.0,
                    runs: vec![130_000.0, 140_000.0, 150_000.0],
                },
            ],
            oracle_vs_plain: None,
        };
        let m = machine("full");
        let (results, latencies, ratios) = (Vec::new(), LatencyFile::new(), RatioFile::new());
        let md = render(&inputs(&results, &latencies, &ratios, Some(&fuzz), &m), &[]).unwrap();
        assert!(md.contains("in this run, on AMD EPYC, 2 CPUs"), "{md}");
        assert!(
            md.contains("| `decode` | 12 400 | 140 000 (130 000–150 000) | 11× |"),
            "{md}"
        );
        assert!(
            md.contains("| `decode` without sanitizer, exec/s | 140 000 (130 000–150 000) | ≥ 300 000 | **no** |"),
            "{md}"
        );
        assert!(
            md.contains("the median of 3 fuzzing runs of 10 s each"),
            "{md}"
        );
        assert!(!md.contains("Not measured in this run"), "{md}");
    }

    #[test]
    fn an_unmeasured_fuzzing_speed_says_why_when_told() {
        let m = machine("quick");
        let (results, latencies, ratios) = (Vec::new(), LatencyFile::new(), RatioFile::new());
        let mut i = inputs(&results, &latencies, &ratios, None, &m);
        i.fuzz_note = Some("cargo-fuzz is not installed");
        let md = render(&i, &[]).unwrap();
        assert!(
            md.contains("Not measured in this run: cargo-fuzz is not installed."),
            "{md}"
        );
    }
}
