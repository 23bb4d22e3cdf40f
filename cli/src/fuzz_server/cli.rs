//! The `fuzz-server` and `replay` commands: flags, then one call into the
//! engine, then the summary. Exit status 0: no finding (not reproduced),
//! 1: findings (reproduced), 2: could not run.

use std::{path::PathBuf, time::Duration};

use super::{
    campaign::{self, reproduce_verbose, Config},
    format::Format,
    replay::ReplayFile,
    target::{Spec, Target},
};

/// Exit status: no finding / not reproduced.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status: findings / reproduced.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: could not run.
pub const EXIT_ERROR: u8 = 2;

/// Where the server is: `--connect HOST:PORT` or `-- CMD ARGS...`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Attack a server that is already running (no restarts; a refused
    /// connection is a finding).
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: Option<String>,
    /// Wait this long for a spawned server to accept connections.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub start_timeout_ms: u64,
    /// The server command, after `--`; every `{port}` is replaced by a free
    /// port, and framecheck waits until it accepts.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

impl ServerArgs {
    /// The target spec.
    ///
    /// # Errors
    ///
    /// Neither or both of `--connect` and a command.
    pub fn spec(&self) -> Result<Spec, String> {
        match (&self.connect, self.command.is_empty()) {
            (Some(a), true) => Ok(Spec::Connect(a.clone())),
            (None, false) => Ok(Spec::Spawn(self.command.clone())),
            (Some(_), false) => {
                Err("give either --connect HOST:PORT or -- CMD ARGS..., not both".into())
            }
            (None, true) => {
                Err("give the server: --connect HOST:PORT or -- CMD ARGS... (with {port})".into())
            }
        }
    }
}

/// `framecheck fuzz-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct FuzzArgs {
    /// How the server delimits messages.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Stop generating cases after this many seconds (confirming and
    /// minimising a finding may take longer).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub time: f64,
    /// Stop after this many cases.
    #[arg(long, value_name = "N")]
    pub cases: Option<u64>,
    /// Seed of the case generator: the same seed makes the same cases.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Directory for the replay files.
    #[arg(long, value_name = "DIR", default_value = "fuzz-server-findings")]
    pub out: PathBuf,
    /// Captures of real sessions (raw bytes a client sent), split into
    /// messages by the format and mixed into the cases.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub seeds: Vec<PathBuf>,
    /// Go on after the first finding (findings are deduplicated by kind
    /// and place).
    #[arg(long)]
    pub keep_going: bool,
    /// Client threads running cases at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub jobs: usize,
    /// Pause after each write of a cut conversation, in microseconds.
    #[arg(long, value_name = "US", default_value_t = 1000)]
    pub pause_us: u64,
    /// Reply, close and canary timeout, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub timeout_ms: u64,
    /// Replays of each minimal finding (the reported reproduction rate).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub replays: usize,
    /// RSS growth during one case that is a finding, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_rss_growth_mib: u64,
    /// Descriptors one case may leave open.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_fd_growth: usize,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `framecheck replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// A replay file written by `fuzz-server`.
    pub file: PathBuf,
    /// How many times to run it (each on a fresh server when spawned).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub times: usize,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Prints to stdout; a closed stdout (`| head`) is not an error.
fn say(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn error(what: &str, e: impl std::fmt::Display) -> u8 {
    eprintln!("framecheck {what}: {e}");
    EXIT_ERROR
}

/// Builds the engine's [`Config`] from the flags.
///
/// # Errors
///
/// Unreadable `--seeds` files and out-of-range numbers.
pub fn config(args: &FuzzArgs) -> Result<Config, String> {
    if !(args.time.is_finite() && args.time > 0.0) {
        return Err(format!(
            "--time must be a positive number of seconds, not {}",
            args.time
        ));
    }
    let mut c = Config::new(args.format);
    c.seed = args.seed;
    c.time = Duration::from_secs_f64(args.time);
    c.cases = args.cases;
    c.keep_going = args.keep_going;
    c.jobs = args.jobs.max(1);
    c.pause = Duration::from_micros(args.pause_us);
    c.timeout = Duration::from_millis(args.timeout_ms.max(1));
    c.replays = args.replays.max(1);
    c.thresholds.rss_growth = args.max_rss_growth_mib << 20;
    c.thresholds.fd_growth = args.max_fd_growth;
    c.out = Some(args.out.clone());
    c.progress = true;
    for f in &args.seeds {
        let bytes = std::fs::read(f).map_err(|e| format!("--seeds {}: {e}", f.display()))?;
        c.seeds.extend(args.format.split(&bytes));
    }
    Ok(c)
}

/// `framecheck fuzz-server`: runs the campaign and prints the summary, a
/// replay command and a Python regression client per finding.
pub fn run_fuzz(args: FuzzArgs) -> u8 {
    let spec = match args.server.spec() {
        Ok(s) => s,
        Err(e) => return error("fuzz-server", e),
    };
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => return error("fuzz-server", e),
    };
    let mut target = match Target::start(
        spec.clone(),
        Duration::from_millis(args.server.start_timeout_ms),
    ) {
        Ok(t) => t,
        Err(e) => return error("fuzz-server", e),
    };
    let report = campaign::run(&config, &mut target);
    target.stop();
    let mut text = report.to_string();
    let server = match &spec {
        Spec::Connect(a) => format!("--connect {a}"),
        Spec::Spawn(cmd) => format!("-- {}", cmd.join(" ")),
    };
    for f in &report.findings {
        if let Some(p) = &f.path {
            text += &format!("\nReplay it: framecheck replay {} {server}\n", p.display());
        }
        text += &format!(
            "Regression test (python3 regress.py PORT):\n```python\n{}```\n",
            f.file.python()
        );
    }
    say(&text);
    if report.findings.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    }
}

/// `framecheck replay`: runs a replay file's case and says what it saw.
pub fn run_replay(args: ReplayArgs) -> u8 {
    let file = match ReplayFile::load(&args.file) {
        Ok(f) => f,
        Err(e) => return error("replay", e),
    };
    let spec = match args.server.spec() {
        Ok(s) => s,
        Err(e) => return error("replay", e),
    };
    let mut target = match Target::start(spec, Duration::from_millis(args.server.start_timeout_ms))
    {
        Ok(t) => t,
        Err(e) => return error("replay", e),
    };
    let mut config = Config::new(file.format);
    config.timeout = Duration::from_millis(file.timeout_ms.max(1));
    let times = args.times.max(1);
    let (hits, obs, runs) = reproduce_verbose(&mut target, &config, &file.case, file.kind, times);
    target.stop();
    let mut head = format!(
        "replay of {} ({}): {}\n",
        args.file.display(),
        file.kind,
        file.place
    );
    for (i, r) in runs.iter().enumerate() {
        head += &match r {
            Some(o) => format!("  run {}: {}: {}\n", i + 1, o.kind, o.seen),
            None => format!("  run {}: every oracle content\n", i + 1),
        };
    }
    match obs {
        Some(o) => {
            say(&format!(
                "{head}reproduced in {hits} of {times} run(s)\n  expected: {}\n  seen:     {}\n",
                o.expected, o.seen
            ));
            EXIT_FINDINGS
        }
        None => {
            say(&format!(
                "{head}not reproduced in {times} run(s): the server passed the {} oracle\n",
                file.kind
            ));
            EXIT_CLEAN
        }
    }
}
