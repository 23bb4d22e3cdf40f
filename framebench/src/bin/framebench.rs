//! `framebench`: runs every leg on every bug and fixed twin, writes the
//! results as JSON and the report as Markdown with an SVG chart.
//!
//! ```text
//! framebench run --seeds 20 [--fuzz-bin PATH --fuzz-seconds 1] --json R --md M --svg S
//! framebench render --json R --md M --svg S
//! ```

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use clap::{Parser, Subcommand};
use framebench::{
    bugs, legs,
    report::{self, BugRuns, Outcome, Results},
};

/// FrameBench: re-created framing bugs, and what finds them.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args)]
struct Out {
    /// Where the results go as JSON.
    #[arg(long)]
    json: PathBuf,
    /// Where the Markdown report goes.
    #[arg(long)]
    md: PathBuf,
    /// Where the SVG chart goes (the report links it by file name).
    #[arg(long)]
    svg: PathBuf,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs the legs and writes the report.
    Run {
        /// Seeds per bug and leg (1, 2, ...).
        #[arg(long, default_value_t = 20)]
        seeds: u32,
        /// Only these bugs (ids, comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// The built fuzz target (`framebench/fuzz`'s `bench`); no fuzz leg
        /// without it.
        #[arg(long)]
        fuzz_bin: Option<PathBuf>,
        /// The fuzz leg's time budget per run, in seconds.
        #[arg(long, default_value_t = 1)]
        fuzz_seconds: u32,
        /// Seeds of the fuzz leg (each run of a fixed twin takes the whole
        /// budget).
        #[arg(long, default_value_t = 5)]
        fuzz_seeds: u32,
        /// Scratch directory for the fuzz leg's corpora.
        #[arg(long, default_value = "target/framebench")]
        work: PathBuf,
        #[command(flatten)]
        out: Out,
    },
    /// Writes the report from saved results.
    Render {
        #[command(flatten)]
        out: Out,
    },
}

/// One libFuzzer run of `bin` on `bug` (`fixed`: its twin): executions to
/// the crash if it crashed, and the seconds it took.
fn fuzz_once(
    bin: &Path,
    bug: &str,
    fixed: bool,
    seed: u32,
    seconds: u32,
    seeds_dir: &Path,
    work: &Path,
) -> std::io::Result<Outcome> {
    let out = work.join(format!("run-{bug}-{fixed}-{seed}"));
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let start = Instant::now();
    let run = Command::new(bin)
        .arg(&out)
        .arg(seeds_dir)
        .arg(format!("-seed={seed}"))
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", out.display()))
        .env("FRAMEBENCH_BUG", bug)
        .env("FRAMEBENCH_FIXED", if fixed { "1" } else { "0" })
        .env("RUST_BACKTRACE", "0")
        .output()?;
    let elapsed = start.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&run.stderr);
    let execs = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse::<u64>().ok());
    let crashed = log.contains("ERROR: libFuzzer");
    std::fs::remove_dir_all(&out)?;
    if !crashed && !run.status.success() {
        return Err(std::io::Error::other(format!(
            "{} exited with {} without a finding:\n{log}",
            bin.display(),
            run.status
        )));
    }
    let what = if crashed {
        // The panic's message: the line after "panicked at", which starts
        // with the bug's id and then framecheck's headline.
        let mut lines = log.lines().skip_while(|l| !l.contains("panicked at"));
        lines.next();
        let message = lines.next().unwrap_or("libFuzzer: deadly signal").trim();
        message.chars().take(160).collect()
    } else {
        String::new()
    };
    Ok(Outcome {
        cases: if crashed {
            Some(execs.unwrap_or(0))
        } else {
            None
        },
        seconds: elapsed,
        what,
    })
}

fn write(out: &Out, results: &Results) -> Result<(), String> {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let json = serde_json::to_string_pretty(results).map_err(|e| e.to_string())?;
    std::fs::write(&out.json, json).map_err(|e| format!("{}: {e}", out.json.display()))?;
    let chart_name = name(&out.svg).unwrap_or_default();
    if let Some(svg) = report::chart(results)? {
        std::fs::write(&out.svg, svg).map_err(|e| format!("{}: {e}", out.svg.display()))?;
    }
    let mut md = report::render(results, &chart_name)?;
    if !md.ends_with('\n') {
        md.push('\n');
    }
    std::fs::write(&out.md, md).map_err(|e| format!("{}: {e}", out.md.display()))?;
    eprintln!(
        "wrote {}, {}, {}",
        out.json.display(),
        out.md.display(),
        out.svg.display()
    );
    Ok(())
}

/// The fuzz leg's settings.
struct Fuzz<'a> {
    bin: &'a Path,
    seconds: u32,
    seeds: u32,
}

fn run(
    seeds: u32,
    only: &[String],
    fuzz: Option<&Fuzz<'_>>,
    work: &Path,
) -> Result<Results, String> {
    let budget = legs::default_cases() * 2;
    let mut out = Vec::new();
    for bug in bugs::all() {
        if !only.is_empty() && !only.iter().any(|o| o == bug.id) {
            continue;
        }
        let start = Instant::now();
        let mut legs_runs = report::run_legs(&bug, seeds, budget);
        if let Some(fuzz) = fuzz {
            let dir = work.join(format!("seeds-{}", bug.id));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            // Raw encoded streams: the oracle's input layout takes raw bytes
            // as they are (a chunking, when there is one, is a trailer).
            for (i, stream) in bug.subject.sample_streams(4).into_iter().enumerate() {
                std::fs::write(dir.join(format!("stream-{i}")), stream)
                    .map_err(|e| e.to_string())?;
            }
            for seed in 1..=fuzz.seeds {
                for fixed in [false, true] {
                    let o = fuzz_once(fuzz.bin, bug.id, fixed, seed, fuzz.seconds, &dir, work)
                        .map_err(|e| e.to_string())?;
                    let runs = &mut legs_runs[report::FUZZ];
                    if fixed { &mut runs.twin } else { &mut runs.bug }.push(o);
                }
            }
        }
        eprintln!("{:20} {:.1} s", bug.id, start.elapsed().as_secs_f64());
        out.push(BugRuns {
            id: bug.id.to_owned(),
            tracker: bug.tracker.to_owned(),
            shape: bug.shape.to_owned(),
            legs: legs_runs,
        });
    }
    Ok(Results {
        seeds,
        cases_per_property: legs::default_cases(),
        baseline_budget: budget,
        fuzz_seconds: fuzz.map(|f| f64::from(f.seconds)),
        fuzz_seeds: fuzz.map_or(0, |f| f.seeds),
        partial_io: (legs::PARTIAL_READ_MAX, legs::PARTIAL_OPS_MAX),
        bugs: out,
    })
}

fn main() -> Result<(), String> {
    match Cli::parse().command {
        Cmd::Run {
            seeds,
            only,
            fuzz_bin,
            fuzz_seconds,
            fuzz_seeds,
            work,
            out,
        } => {
            std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
            let fuzz = fuzz_bin.as_deref().map(|bin| Fuzz {
                bin,
                seconds: fuzz_seconds,
                seeds: fuzz_seeds,
            });
            let results = run(seeds, &only, fuzz.as_ref(), &work)?;
            write(&out, &results)
        }
        Cmd::Render { out } => {
            let text = std::fs::read_to_string(&out.json)
                .map_err(|e| format!("{}: {e}", out.json.display()))?;
            let results: Results = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            write(&out, &results)
        }
    }
}
