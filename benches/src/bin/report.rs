//! Writes `docs/benchmarks.md` and one SVG chart per group from criterion's
//! results and the latency file. Run by `ci/bench-report.sh` after the
//! benches; by hand:
//!
//! ```text
//! cargo run -p framecheck-benches --bin report -- \
//!     --criterion-dir target/criterion \
//!     --latency target/framecheck-bench/latency.json \
//!     --ratios target/framecheck-bench/ratios.json \
//!     --out-dir docs --mode quick --command "ci/bench-report.sh --quick"
//! ```
#![forbid(unsafe_code)]

use std::{
    fs,
    path::PathBuf,
    process::{Command, ExitCode},
};

use framecheck_benches::{latency, paired, report, results};

struct Args {
    criterion_dir: PathBuf,
    latency: PathBuf,
    ratios: PathBuf,
    out_dir: PathBuf,
    mode: String,
    command: String,
    date: String,
    load: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        criterion_dir: PathBuf::from("target/criterion"),
        latency: PathBuf::from("target/framecheck-bench/latency.json"),
        ratios: PathBuf::from("target/framecheck-bench/ratios.json"),
        out_dir: PathBuf::from("docs"),
        mode: "full".into(),
        command: "ci/bench-report.sh".into(),
        date: "unknown".into(),
        load: read_load(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--criterion-dir" => args.criterion_dir = value()?.into(),
            "--latency" => args.latency = value()?.into(),
            "--ratios" => args.ratios = value()?.into(),
            "--out-dir" => args.out_dir = value()?.into(),
            "--mode" => args.mode = value()?,
            "--command" => args.command = value()?,
            "--date" => args.date = value()?,
            "--load" => args.load = value()?,
            "-h" | "--help" => {
                return Err(
                    "usage: report [--criterion-dir DIR] [--latency FILE] [--ratios FILE] [--out-dir DIR] \
                            [--mode quick|full] [--command CMD] [--date DATE] [--load TEXT]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
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
    let args = parse_args()?;
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
        mode: args.mode,
        load: args.load,
    };
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
    let md = report::render(&inputs, &charts);
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
