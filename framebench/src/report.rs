//! The run's results, their summary (found, nearest-rank medians, false
//! alarms, the goal's checks) and the Markdown report and SVG chart made
//! from them. Numbers are computed here; the prose is in
//! `templates/framebench.md`.

use serde::{Deserialize, Serialize};
use tinytemplate::TinyTemplate;

use plotters::prelude::*;

use crate::{
    bugs::Bug,
    legs::{Baseline, Detection},
};

/// The legs, in the report's column order.
pub const LEGS: [&str; 5] = [
    "framecheck",
    "one read",
    "partial-io",
    "one-byte reads",
    "cargo fuzz",
];
/// Index of the fuzz leg in [`LEGS`].
pub const FUZZ: usize = 4;
/// The baselines framecheck is held against (indices in [`LEGS`]).
pub const BASELINES: [usize; 3] = [1, 2, 3];

/// One search with one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Cases (fuzz: executions) up to the first detection; `None` if the
    /// search found nothing.
    pub cases: Option<u64>,
    /// Seconds until then (or of the whole search).
    pub seconds: f64,
    /// What was reported.
    pub what: String,
}

/// One leg on one bug: an outcome per seed, for the bug and its twin.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LegRuns {
    /// On the buggy codec.
    pub bug: Vec<Outcome>,
    /// On the fixed twin.
    pub twin: Vec<Outcome>,
}

/// Every leg on one bug.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BugRuns {
    /// The bug's id.
    pub id: String,
    /// Where it was reported.
    pub tracker: String,
    /// Its mechanism.
    pub shape: String,
    /// Indexed like [`LEGS`]; a leg not run has no outcomes.
    pub legs: Vec<LegRuns>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Seeds per bug and leg.
    pub seeds: u32,
    /// framecheck's cases per property (proptest's default).
    pub cases_per_property: u32,
    /// Cases each baseline may run per seed.
    pub baseline_budget: u32,
    /// The fuzz leg's time budget per run, if it ran.
    pub fuzz_seconds: Option<f64>,
    /// The fuzz leg's seeds.
    pub fuzz_seeds: u32,
    /// The largest read and the number of limited reads of partial-io's
    /// strategy.
    pub partial_io: (usize, usize),
    /// Per bug.
    pub bugs: Vec<BugRuns>,
}

impl From<Detection> for Outcome {
    fn from(d: Detection) -> Self {
        Outcome {
            cases: d.cases.map(u64::from),
            seconds: d.time.as_secs_f64(),
            what: d.what,
        }
    }
}

/// Runs framecheck and the three baselines (every leg but fuzz) on `bug`
/// and its twin, seeds `1..=seeds`, each baseline up to `budget` cases;
/// the fuzz leg is left empty.
pub fn run_legs(bug: &Bug, seeds: u32, budget: u32) -> Vec<LegRuns> {
    let mut runs = vec![LegRuns::default(); LEGS.len()];
    for seed in 1..=u64::from(seeds) {
        for fixed in [false, true] {
            let mut push = |leg: usize, d: Detection| {
                let r = &mut runs[leg];
                if fixed { &mut r.twin } else { &mut r.bug }.push(d.into());
            };
            push(0, bug.subject.framecheck(fixed, seed));
            for (i, b) in [Baseline::OneRead, Baseline::PartialIo, Baseline::OneByte]
                .into_iter()
                .enumerate()
            {
                push(1 + i, bug.subject.baseline(b, fixed, seed, budget));
            }
        }
    }
    runs
}

/// The nearest-rank median (the `ceil(n/2)`-th smallest) of `values`,
/// a miss counting as larger than any number; `None` when that rank is a
/// miss or there are no values.
pub fn median(values: &[Option<f64>]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().map(|x| x.unwrap_or(f64::INFINITY)).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v[(v.len() - 1) / 2];
    m.is_finite().then_some(m)
}

/// One leg on one bug, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Seeds that found the bug.
    pub found: usize,
    /// Seeds run.
    pub seeds: usize,
    /// Median cases to the first detection.
    pub cases: Option<f64>,
    /// Median seconds to the first detection.
    pub seconds: Option<f64>,
    /// Seeds that raised an alarm on the fixed twin.
    pub false_alarms: usize,
    /// Seeds run on the twin.
    pub twin_seeds: usize,
    /// What the alarms on the twin said (distinct).
    pub alarm_what: Vec<String>,
}

/// Summarises `runs`.
pub fn summarise(runs: &LegRuns) -> Summary {
    let cases: Vec<Option<f64>> = runs.bug.iter().map(|o| o.cases.map(|c| c as f64)).collect();
    let seconds: Vec<Option<f64>> = runs
        .bug
        .iter()
        .map(|o| o.cases.map(|_| o.seconds))
        .collect();
    let mut alarm_what: Vec<String> = runs
        .twin
        .iter()
        .filter(|o| o.cases.is_some())
        .map(|o| o.what.clone())
        .collect();
    alarm_what.sort();
    alarm_what.dedup();
    Summary {
        found: runs.bug.iter().filter(|o| o.cases.is_some()).count(),
        seeds: runs.bug.len(),
        cases: median(&cases),
        seconds: median(&seconds),
        false_alarms: runs.twin.iter().filter(|o| o.cases.is_some()).count(),
        twin_seeds: runs.twin.len(),
        alarm_what,
    }
}

/// What the searches that found the bug reported most often (the first
/// in sorted order among equals).
pub fn most_common_what(runs: &LegRuns) -> String {
    let mut found: Vec<&str> = runs
        .bug
        .iter()
        .filter(|o| o.cases.is_some())
        .map(|o| o.what.as_str())
        .collect();
    found.sort_unstable();
    let mut best: (usize, &str) = (0, "");
    for w in found.chunk_by(|a, b| a == b) {
        if w.len() > best.0 {
            best = (w.len(), w[0]);
        }
    }
    best.1.to_owned()
}

/// `0.000123` → `123 µs`.
pub fn duration(seconds: f64) -> String {
    match seconds {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.1} ms", s * 1e3),
        s => format!("{:.0} µs", s * 1e6),
    }
}

fn cell(s: &Summary) -> String {
    if s.seeds == 0 {
        return "not run".to_owned();
    }
    match (s.cases, s.seconds) {
        (Some(c), Some(t)) => format!("{}/{} · {} ({})", s.found, s.seeds, c, duration(t)),
        _ => format!("{}/{}", s.found, s.seeds),
    }
}

/// A Markdown table.
fn table(head: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut out = line(head);
    out.push_str(&line(&vec!["---".to_owned(); head.len()]));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// How framecheck's median compares with one baseline's, on the bugs that
/// baseline finds at least once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Versus {
    /// The baseline's name.
    pub baseline: String,
    /// Bugs it found at least once.
    pub found_by_baseline: usize,
    /// Of those, where framecheck's median is smaller.
    pub fewer: usize,
    /// Equal.
    pub equal: usize,
    /// Larger (or framecheck's median is a miss).
    pub more: usize,
    /// The bugs where it is larger, comma-separated.
    pub more_list: String,
    /// The bugs where they are equal, comma-separated.
    pub equal_list: String,
}

/// What the template gets: tables and computed verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    seeds: u32,
    bugs: usize,
    shapes: usize,
    cases_per_property: u32,
    framecheck_budget: u32,
    baseline_budget: u32,
    fuzz_ran: bool,
    fuzz_seconds: String,
    fuzz_seeds: u32,
    partial_read_max: usize,
    partial_ops_max: usize,
    bug_table: String,
    twin_table: String,
    totals_table: String,
    every_seed: bool,
    missed: String,
    false_alarms: usize,
    alarm_list: String,
    versus: Vec<Versus>,
    all_fewer: bool,
    never_more: bool,
    ties_at_one: bool,
    chart: String,
}

/// Computes the context of the report.
pub fn context(results: &Results, chart: &str) -> Context {
    let summaries: Vec<Vec<Summary>> = results
        .bugs
        .iter()
        .map(|b| b.legs.iter().map(summarise).collect())
        .collect();
    let mut head = vec!["bug".to_owned(), "mechanism".to_owned()];
    head.extend(LEGS.iter().map(|l| (*l).to_owned()));
    head.push("framecheck's failure (most seeds)".to_owned());
    let bug_rows: Vec<Vec<String>> = results
        .bugs
        .iter()
        .zip(&summaries)
        .map(|(b, s)| {
            let mut row = vec![format!("`{}` ({})", b.id, b.tracker), b.shape.clone()];
            row.extend(s.iter().map(cell));
            row.push(b.legs.first().map(most_common_what).unwrap_or_default());
            row
        })
        .collect();
    let mut twin_head = vec!["fixed twin of".to_owned()];
    twin_head.extend(LEGS.iter().map(|l| (*l).to_owned()));
    let twin_rows: Vec<Vec<String>> = results
        .bugs
        .iter()
        .zip(&summaries)
        .map(|(b, s)| {
            let mut row = vec![format!("`{}`", b.id)];
            row.extend(s.iter().map(|s| {
                if s.twin_seeds == 0 {
                    "not run".to_owned()
                } else if s.false_alarms == 0 {
                    format!("0/{}", s.twin_seeds)
                } else {
                    format!(
                        "**{}/{}** ({})",
                        s.false_alarms,
                        s.twin_seeds,
                        s.alarm_what.join("; ")
                    )
                }
            }));
            row
        })
        .collect();
    let n = results.bugs.len();
    let totals_rows: Vec<Vec<String>> = LEGS
        .iter()
        .enumerate()
        .map(|(i, leg)| {
            let col: Vec<&Summary> = summaries.iter().map(|s| &s[i]).collect();
            let ran = col.iter().filter(|s| s.seeds > 0).count();
            let every = col
                .iter()
                .filter(|s| s.seeds > 0 && s.found == s.seeds)
                .count();
            let once = col.iter().filter(|s| s.found > 0).count();
            let alarms: usize = col.iter().map(|s| s.false_alarms).sum();
            let twin_runs: usize = col.iter().map(|s| s.twin_seeds).sum();
            let twins = col.iter().filter(|s| s.false_alarms > 0).count();
            vec![
                (*leg).to_owned(),
                format!("{every} of {ran}"),
                format!("{once} of {ran}"),
                format!("{alarms} of {twin_runs} runs ({twins} twins)"),
            ]
        })
        .collect();
    let fc: Vec<&Summary> = summaries.iter().map(|s| &s[0]).collect();
    let missed: Vec<&str> = results
        .bugs
        .iter()
        .zip(&fc)
        .filter(|(_, s)| s.found < s.seeds)
        .map(|(b, _)| b.id.as_str())
        .collect();
    let alarm_list: Vec<String> = results
        .bugs
        .iter()
        .zip(&fc)
        .filter(|(_, s)| s.false_alarms > 0)
        .map(|(b, s)| format!("`{}` ({})", b.id, s.alarm_what.join("; ")))
        .collect();
    let versus_ties: Vec<(Versus, bool)> = BASELINES
        .iter()
        .map(|&leg| {
            let mut v = Versus {
                baseline: LEGS[leg].to_owned(),
                found_by_baseline: 0,
                fewer: 0,
                equal: 0,
                more: 0,
                more_list: String::new(),
                equal_list: String::new(),
            };
            let (mut more, mut equal) = (Vec::new(), Vec::new());
            let mut tie_above_one = false;
            for (b, s) in results.bugs.iter().zip(&summaries) {
                if s[leg].found == 0 {
                    continue;
                }
                v.found_by_baseline += 1;
                let theirs = s[leg].cases.unwrap_or(f64::INFINITY);
                let ours = s[0].cases.unwrap_or(f64::INFINITY);
                if ours < theirs {
                    v.fewer += 1;
                } else if ours == theirs {
                    v.equal += 1;
                    tie_above_one |= ours > 1.0;
                    equal.push(format!("`{}`", b.id));
                } else {
                    v.more += 1;
                    more.push(format!("`{}`", b.id));
                }
            }
            v.more_list = more.join(", ");
            v.equal_list = equal.join(", ");
            (v, tie_above_one)
        })
        .collect();
    let ties_at_one = versus_ties.iter().all(|(_, above)| !above);
    let versus: Vec<Versus> = versus_ties.into_iter().map(|(v, _)| v).collect();
    let mut shapes: Vec<&str> = results.bugs.iter().map(|b| b.shape.as_str()).collect();
    shapes.sort_unstable();
    shapes.dedup();
    Context {
        seeds: results.seeds,
        bugs: n,
        shapes: shapes.len(),
        cases_per_property: results.cases_per_property,
        framecheck_budget: results.cases_per_property * 2,
        baseline_budget: results.baseline_budget,
        fuzz_ran: results.fuzz_seconds.is_some(),
        fuzz_seconds: results
            .fuzz_seconds
            .map(|s| format!("{s}"))
            .unwrap_or_default(),
        fuzz_seeds: results.fuzz_seeds,
        partial_read_max: results.partial_io.0,
        partial_ops_max: results.partial_io.1,
        bug_table: table(&head, &bug_rows),
        twin_table: table(&twin_head, &twin_rows),
        totals_table: table(
            &[
                "leg".to_owned(),
                "bugs found in every seed".to_owned(),
                "found at least once".to_owned(),
                "false alarms on the fixed twins".to_owned(),
            ],
            &totals_rows,
        ),
        every_seed: missed.is_empty(),
        missed: missed.join(", "),
        false_alarms: fc.iter().map(|s| s.false_alarms).sum(),
        alarm_list: alarm_list.join(", "),
        all_fewer: versus.iter().all(|v| v.equal == 0 && v.more == 0),
        never_more: versus.iter().all(|v| v.more == 0),
        versus,
        ties_at_one,
        chart: chart.to_owned(),
    }
}

/// The report's template.
pub const TEMPLATE: &str = include_str!("../templates/framebench.md");

/// Renders the Markdown report; `chart` is the chart's file name.
///
/// # Errors
///
/// The template engine's error, as text.
pub fn render(results: &Results, chart: &str) -> Result<String, String> {
    let mut tt = TinyTemplate::new();
    tt.set_default_formatter(&tinytemplate::format_unescaped);
    tt.add_template("report", TEMPLATE)
        .map_err(|e| e.to_string())?;
    tt.render("report", &context(results, chart))
        .map_err(|e| e.to_string())
}

const COLORS: [RGBColor; 5] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
];

/// The chart: one row per bug, one bar per leg with its median cases to
/// the first detection (fuzz: executions), on a log axis that starts at
/// 0.5 so that a median of one case still shows; a leg whose median is a
/// miss has no bar. `None` if nothing was found.
///
/// # Errors
///
/// plotters' error, as text.
pub fn chart(results: &Results) -> Result<Option<String>, String> {
    let medians: Vec<Vec<Option<f64>>> = results
        .bugs
        .iter()
        .map(|b| b.legs.iter().map(|l| summarise(l).cases).collect())
        .collect();
    let Some(max) = medians.iter().flatten().flatten().copied().reduce(f64::max) else {
        return Ok(None);
    };
    let hi = 10f64.powf(max.log10().ceil().max(1.0));
    let n = results.bugs.len();
    let legs = LEGS.len() as f64;
    let mut svg = String::new();
    {
        let height = 120 + 60 * n as u32;
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "FrameBench: median cases to the first detection (fuzz: executions)",
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(150)
            .build_cartesian_2d((0.5..hi).log_scale(), 0.0..n as f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .bold_line_style(BLACK.mix(0.2))
            .light_line_style(TRANSPARENT)
            .x_desc("cases (log scale)")
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
        // Bug i's row spans [n-1-i, n-i): first bug at the top, legs top to
        // bottom inside it, a gap of one bar between rows.
        let slot = |i: usize, leg: usize| {
            let top = (n - i) as f64 - (leg as f64 + 0.5) / (legs + 1.0);
            (top - 1.0 / (legs + 1.0), top)
        };
        for (leg, name) in LEGS.iter().enumerate() {
            let color = COLORS[leg];
            let bars = medians.iter().enumerate().filter_map(move |(i, m)| {
                let value = m.get(leg).copied().flatten()?;
                let (y0, y1) = slot(i, leg);
                Some(Rectangle::new([(0.5, y0), (value, y1)], color.filled()))
            });
            chart
                .draw_series(bars)
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, b) in results.bugs.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.5, (n - i) as f64 - 0.5));
            root.draw(&Text::new(
                b.id.clone(),
                (px - 140, py - 6),
                ("sans-serif", 12),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(Some(svg))
}
