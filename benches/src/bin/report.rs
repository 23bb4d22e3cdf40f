//! Writes `docs/benchmarks.md` and one SVG chart per group from criterion's
//! results, the latency and ratio files and, when present, the fuzz speed
//! file. Run by `ci/bench-report.sh` after the benches; by hand:
//!
//! ```text
//! cargo run -p framecheck-benches --bin report -- \
//!     --criterion-dir target/criterion \
//!     --latency target/framecheck-bench/latency.json \
//!     --ratios target/framecheck-bench/ratios.json \
//!     --fuzz-speed target/fuzz-speed.json \
//!     --out-dir docs --mode quick --command "bash ci/bench-report.sh --quick"
//! ```
#![forbid(unsafe_code)]

use std::{
    fs,
    path::PathBuf,
    process::{Command, ExitCode},
};

use clap::{Parser, ValueEnum};
use framecheck_benches::{fuzz_speed, latency, paired, report, results};

/// Writes `docs/benchmarks.md` and one SVG chart per group from a bench run.
#[derive(Debug, Parser)]
#[command(name = "report")]
struct Args {
    /// Criterion's output directory.
    #[arg(long, value_name = "DIR", default_value = "target/criterion")]
    criterion_dir: PathBuf,
    /// The request/response latency file the benches wrote.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/framecheck-bench/latency.json"
    )]
    latency: PathBuf,
    /// The side-by-side ratio file the benches wrote.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/framecheck-bench/ratios.json"
    )]
    ratios: PathBuf,
    /// `ci/fuzz.sh --speed`'s output; a missing file means "not measured".
    #[arg(long, value_name = "FILE", default_value = "target/fuzz-speed.json")]
    fuzz_speed: PathBuf,
    /// Why the fuzzing speed was not measured (quoted when there is no
    /// fuzz speed file).
    #[arg(long, value_name = "TEXT")]
    fuzz_note: Option<String>,
    /// Where `benchmarks.md` and the charts go.
    #[arg(long, value_name = "DIR", default_value = "docs")]
    out_dir: PathBuf,
    /// How the benches ran.
    #[arg(long, value_enum, default_value_t = Mode::Full)]
    mode: Mode,
    /// The command that produced the run, quoted in the report.
    #[arg(long, value_name = "CMD", default_value = "bash ci/bench-report.sh")]
    command: String,
    /// When the run happened.
    #[arg(long, default_value = "unknown")]
    date: String,
    /// Load averages to quote (default: the current `/proc/loadavg`).
    #[arg(long)]
    load: Option<String>,
}

/// How the benches ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// `ci/bench-report.sh --quick`: short measurements.
    Quick,
    /// The full run.
    Full,
}

fn read_load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn rustc_version() -> String {
    Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-V")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn run() -> Result<(), String> {
    let args = Args::parse();
    let results = results::load_all(&args.criterion_dir).map_err(|e| e.to_string())?;
    if results.is_empty() {
        return Err(format!(
            "no criterion results under {}: run the benches first",
            args.criterion_dir.display()
        ));
    }
    let latencies: latency::LatencyFile =
        latency::load(&args.latency).map_err(|e| e.to_string())?;
    let ratios: paired::RatioFile = latency::load(&args.ratios).map_err(|e| e.to_string())?;
    let machine = report::Machine {
        cpu: cpu_model(),
        nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
        rustc: rustc_version(),
        date: args.date,
        mode: match args.mode {
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
        .into(),
        load: args.load.unwrap_or_else(read_load),
    };
    let fuzz = fuzz_speed::load(&args.fuzz_speed).map_err(|e| e.to_string())?;
    // The report lives in out_dir; link criterion's pages relative to it
    // when both are relative to the same working directory.
    let html = args.criterion_dir.join("report").join("index.html");
    let criterion_html = if html.is_relative() && args.out_dir.is_relative() {
        let up = "../".repeat(args.out_dir.components().count());
        format!("{up}{}", html.display())
    } else {
        html.display().to_string()
    };
    let inputs = report::Inputs {
        results: &results,
        latencies: &latencies,
        ratios: &ratios,
        fuzz: fuzz.as_ref(),
        fuzz_note: args.fuzz_note.as_deref(),
        machine: &machine,
        command: &args.command,
        criterion_html: &criterion_html,
    };
    let charts = report::charts(&results)?;
    fs::create_dir_all(&args.out_dir).map_err(|e| format!("{}: {e}", args.out_dir.display()))?;
    for chart in &charts {
        let path = args.out_dir.join(&chart.name);
        fs::write(&path, &chart.svg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let md = report::render(&inputs, &charts)?;
    let path = args.out_dir.join("benchmarks.md");
    fs::write(&path, md).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "wrote {} ({} results, {} charts)",
        path.display(),
        results.len(),
        charts.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("report: {e}");
            ExitCode::FAILURE
        }
    }
}
