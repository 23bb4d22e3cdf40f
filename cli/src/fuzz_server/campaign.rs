//! The campaign: generate cases, run them on `jobs` client threads until a
//! case looks wrong, then (alone, on a fresh server each time) confirm it
//! by replaying, minimise it, replay the minimal case `replays` times,
//! deduplicate it by kind and place, and write its replay file.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex,
    },
    thread,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{
    case::{Case, Mode},
    exchange::Client,
    format::Format,
    gen::Generator,
    minimise::{minimise, Budget},
    oracle::{run_case, Kind, Observation, Server, Thresholds},
    replay::{ReplayFile, MAGIC},
    target::Target,
};

/// Campaign settings (the `fuzz-server` flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// Message format.
    pub format: Format,
    /// Seed of the case generator.
    pub seed: u64,
    /// Stop generating after this long.
    pub time: Duration,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    /// Go on after the first finding.
    pub keep_going: bool,
    /// Client threads running cases at once.
    pub jobs: usize,
    /// Pause after each write of a cut run.
    pub pause: Duration,
    /// Reply, close and canary timeout.
    pub timeout: Duration,
    /// Replays of a minimal case (the reported reproduction rate).
    pub replays: usize,
    /// Messages from `--seeds` captures.
    pub seeds: Vec<Vec<u8>>,
    /// Resource thresholds.
    pub thresholds: Thresholds,
    /// Minimiser limits.
    pub budget: Budget,
    /// Where replay files go (`None`: not written).
    pub out: Option<PathBuf>,
    /// Draw a progress line on stderr (only where stderr is a terminal).
    pub progress: bool,
}

impl Config {
    /// The command's defaults for `format`.
    pub fn new(format: Format) -> Config {
        Config {
            format,
            seed: 1,
            time: Duration::from_secs(30),
            cases: None,
            keep_going: false,
            jobs: 8,
            pause: Duration::from_micros(1000),
            timeout: Duration::from_millis(1000),
            replays: 10,
            seeds: Vec::new(),
            thresholds: Thresholds {
                rss_growth: 64 << 20,
                fd_growth: 16,
                stall: Duration::from_millis(400),
            },
            budget: Budget {
                tries: 40,
                time: Duration::from_secs(15),
            },
            out: None,
            progress: false,
        }
    }
}

/// A confirmed, minimised finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Everything in its replay file.
    pub file: ReplayFile,
    /// Where the replay file was written.
    pub path: Option<PathBuf>,
    /// From the campaign's start to the case that first showed it.
    pub found_after: Duration,
    /// Minimiser tries.
    pub minimise_tries: usize,
}

/// What a campaign did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Cases run by the client threads (not counting replays).
    pub cases: u64,
    /// Time spent running them (not counting confirmation and
    /// minimising).
    pub fuzz_time: Duration,
    /// Wall time of the whole campaign.
    pub elapsed: Duration,
    /// Distinct findings.
    pub findings: Vec<Finding>,
    /// Suspicious cases that no replay reproduced: (kind, place).
    pub unconfirmed: Vec<(Kind, String)>,
    /// Findings dropped as duplicates of an earlier kind and place.
    pub duplicates: usize,
    /// Server starts, the first included.
    pub starts: u64,
    /// Why the campaign ended early, if it did.
    pub stopped: Option<String>,
}

impl Report {
    /// Cases per second of fuzzing time.
    pub fn cases_per_sec(&self) -> f64 {
        self.cases as f64 / self.fuzz_time.as_secs_f64().max(1e-9)
    }
}

/// Where in a conversation a case aims: its first cut, classified by the
/// format's layout (or, for hostile cases, what the generator aimed at).
pub fn place(case: &Case, format: Format) -> String {
    if case.mode != Mode::Compare {
        return case.aim.clone();
    }
    let cuts = case.clean_cuts();
    let Some(&c) = cuts.first() else {
        return if case.messages.len() > 1 {
            "messages glued into one write".into()
        } else {
            "one message in one write".into()
        };
    };
    let ends = case.ends();
    let i = ends.iter().position(|&e| e >= c).unwrap_or(0);
    if ends[i] == c {
        return "cut at a message boundary".into();
    }
    let start = if i == 0 { 0 } else { ends[i - 1] };
    let msg = &case.messages[i];
    let o = c - start;
    let head = format.head_len(msg);
    let length_field = matches!(format, Format::JsonHeader | Format::Length);
    if length_field && o < 4 {
        "cut in the length field".into()
    } else if o < head {
        "cut in the header".into()
    } else if o == head && head > 0 {
        "cut between header and body".into()
    } else if o + 1 == msg.len() {
        "cut before the last byte".into()
    } else {
        "cut in the body".into()
    }
}

/// Runs one case against `target`, alone; restarts a spawned server first
/// when `fresh`.
fn run_alone(
    target: &mut Target,
    config: &Config,
    case: &Case,
    fresh: bool,
) -> Option<Observation> {
    if fresh && target.spawned() && target.restart().is_err() {
        return None;
    }
    let client = Client {
        addr: target.addr(),
        format: config.format,
        timeout: config.timeout,
    };
    let pid = target.pid();
    let shared = Mutex::new(target);
    let exited = || shared.lock().ok().and_then(|mut t| t.exited());
    let stderr = || shared.lock().map(|t| t.stderr_tail()).unwrap_or_default();
    let server = Server {
        client,
        pid,
        exited: &exited,
        stderr: &stderr,
    };
    run_case(case, &server, &config.thresholds, true)
}

/// Runs `case` `times` times, each on a fresh server when spawned; how
/// many showed `kind`, and the last such observation.
pub fn reproduce(
    target: &mut Target,
    config: &Config,
    case: &Case,
    kind: Kind,
    times: usize,
) -> (usize, Option<Observation>) {
    let (hits, last, _) = reproduce_verbose(target, config, case, kind, times);
    (hits, last)
}

/// [`reproduce`], also returning what each run saw (`None`: nothing).
pub fn reproduce_verbose(
    target: &mut Target,
    config: &Config,
    case: &Case,
    kind: Kind,
    times: usize,
) -> (usize, Option<Observation>, Vec<Option<Observation>>) {
    let mut hits = 0;
    let mut last = None;
    let mut runs = Vec::new();
    for _ in 0..times {
        let seen = run_alone(target, config, case, true);
        if let Some(o) = &seen {
            if o.kind == kind {
                hits += 1;
                last = Some(o.clone());
            }
        }
        runs.push(seen);
    }
    (hits, last, runs)
}

/// Liveness kinds count as one for [`run`]'s "one cause per event".
fn group(kind: Kind) -> Kind {
    match kind {
        Kind::Crash | Kind::Refused | Kind::Hang => Kind::Crash,
        k => k,
    }
}

/// Pause after each write once a case is suspected: confirming,
/// minimising and replaying run one case at a time, so a long pause costs
/// little and makes the server's reads match the cuts more often.
pub const REPLAY_PAUSE_US: u64 = 5_000;

struct Suspect {
    index: u64,
    case: Case,
    obs: Observation,
    at: Duration,
}

/// Runs a campaign against `target` (left running at the end).
pub fn run(config: &Config, target: &mut Target) -> Report {
    let generator = Generator::new(
        config.format,
        config.seed,
        config.pause.as_micros() as u64,
        config.seeds.clone(),
    );
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let mut report = Report::default();
    let mut keys = HashSet::new();
    let progress = if config.progress {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    'campaign: loop {
        let out_of_cases = config
            .cases
            .is_some_and(|n| next.load(Ordering::Relaxed) >= n);
        if started.elapsed() >= config.time || out_of_cases {
            break;
        }
        let suspects = run_round(
            config,
            target,
            &generator,
            started,
            &next,
            &done,
            &progress,
            report.findings.len(),
        );
        report.fuzz_time += suspects.1;
        let mut confirmed_kinds = HashSet::new();
        for s in suspects.0 {
            // One liveness event has one cause: once a crash, refusal or
            // hang is confirmed, the other cases in flight are not tried.
            if confirmed_kinds.contains(&group(s.obs.kind)) {
                continue;
            }
            progress.set_message(format!(
                "confirming a {} finding (case {})",
                s.obs.kind, s.index
            ));
            match confirm(config, target, s) {
                Ok(f) => {
                    confirmed_kinds.insert(group(f.file.kind));
                    if keys.insert((f.file.kind, f.file.place.clone())) {
                        report.findings.push(f);
                    } else {
                        report.duplicates += 1;
                    }
                }
                Err(u) => report.unconfirmed.push(u),
            }
            if !config.keep_going && !report.findings.is_empty() {
                break 'campaign;
            }
        }
        // A fresh server for the next round; a --connect server must still
        // answer.
        if target.spawned() {
            if let Err(e) = target.restart() {
                report.stopped = Some(format!("could not restart the server: {e}"));
                break;
            }
        } else if let Err(e) = (Client {
            addr: target.addr(),
            format: config.format,
            timeout: config.timeout,
        })
        .canary()
        {
            report.stopped = Some(format!(
                "the server no longer answers ({e}); --connect cannot restart it"
            ));
            break;
        }
    }
    progress.finish_and_clear();
    report.cases = done.load(Ordering::Relaxed);
    report.elapsed = started.elapsed();
    report.starts = target.starts;
    report
}

#[allow(clippy::too_many_arguments)]
fn run_round(
    config: &Config,
    target: &mut Target,
    generator: &Generator,
    started: Instant,
    next: &AtomicU64,
    done: &AtomicU64,
    progress: &ProgressBar,
    findings: usize,
) -> (Vec<Suspect>, Duration) {
    let round_start = Instant::now();
    let client = Client {
        addr: target.addr(),
        format: config.format,
        timeout: config.timeout,
    };
    let pid = target.pid();
    let shared = Mutex::new(target);
    let exited = || shared.lock().ok().and_then(|mut t| t.exited());
    let stderr = || shared.lock().map(|t| t.stderr_tail()).unwrap_or_default();
    let server = Server {
        client,
        pid,
        exited: &exited,
        stderr: &stderr,
    };
    let stop = AtomicBool::new(false);
    let suspects = Mutex::new(Vec::<Suspect>::new());
    let jobs = config.jobs.max(1);
    let inflight: Vec<Mutex<Option<(u64, Case)>>> = (0..jobs).map(|_| Mutex::new(None)).collect();
    thread::scope(|scope| {
        for w in 0..jobs {
            let (server, stop, suspects, inflight) = (&server, &stop, &suspects, &inflight);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) && started.elapsed() < config.time {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if config.cases.is_some_and(|n| index >= n) {
                        break;
                    }
                    let case = generator.case(index);
                    if let Ok(mut slot) = inflight[w].lock() {
                        *slot = Some((index, case.clone()));
                    }
                    // With one client thread every case has the server to
                    // itself: the descriptor oracle can run.
                    let seen = run_case(&case, server, &config.thresholds, jobs == 1);
                    done.fetch_add(1, Ordering::Relaxed);
                    let Some(obs) = seen else { continue };
                    stop.store(true, Ordering::Relaxed);
                    let at = started.elapsed();
                    let mut list = suspects.lock().unwrap_or_else(|e| e.into_inner());
                    let liveness = matches!(obs.kind, Kind::Crash | Kind::Refused | Kind::Hang);
                    list.push(Suspect {
                        index,
                        case,
                        obs: obs.clone(),
                        at,
                    });
                    if liveness {
                        // Any case in flight may have caused it.
                        for (v, slot) in inflight.iter().enumerate() {
                            if v == w {
                                continue;
                            }
                            if let Some((index, case)) = slot.lock().ok().and_then(|s| s.clone()) {
                                list.push(Suspect {
                                    index,
                                    case,
                                    obs: obs.clone(),
                                    at,
                                });
                            }
                        }
                    }
                }
            });
        }
        // The progress line.
        while !stop.load(Ordering::Relaxed)
            && started.elapsed() < config.time
            && config
                .cases
                .is_none_or(|n| done.load(Ordering::Relaxed) < n)
        {
            let n = done.load(Ordering::Relaxed);
            let secs = started.elapsed().as_secs_f64();
            progress.set_message(format!(
                "{n} cases, {:.0}/s, {findings} finding(s), {secs:.1} s",
                n as f64 / secs.max(1e-9)
            ));
            progress.tick();
            thread::sleep(Duration::from_millis(100));
        }
    });
    let mut list = suspects.into_inner().unwrap_or_else(|e| e.into_inner());
    // Crashes first (they explain other symptoms), then by time.
    list.sort_by_key(|s| (s.obs.kind != Kind::Crash, s.at));
    for s in &mut list {
        s.case.pause_us = s.case.pause_us.max(REPLAY_PAUSE_US);
    }
    let mut seen = HashSet::new();
    list.retain(|s| seen.insert(s.index));
    (list, round_start.elapsed())
}

fn confirm(config: &Config, target: &mut Target, s: Suspect) -> Result<Finding, (Kind, String)> {
    let kind = s.obs.kind;
    let place_of = |c: &Case| place(c, config.format);
    // --connect: a server that is gone cannot be replayed against.
    if !target.spawned() && matches!(kind, Kind::Crash | Kind::Refused) {
        return Ok(write(
            config,
            finding_file(config, kind, &s, s.case.clone(), &s.obs, 0, 0),
            s.at,
            0,
        ));
    }
    let quick = config.replays.clamp(1, 2);
    let confirmed = (0..quick)
        .any(|_| run_alone(target, config, &s.case, true).is_some_and(|o| o.kind == kind));
    if !confirmed {
        return Err((kind, place_of(&s.case)));
    }
    let m = minimise(s.case.clone(), config.format, config.budget, |c| {
        run_alone(target, config, c, true).is_some_and(|o| o.kind == kind)
    });
    let (mut hits, mut obs) = reproduce(target, config, &m.case, kind, config.replays);
    let mut case = m.case;
    if hits == 0 {
        // The minimal case was a lucky one: report the original.
        (hits, obs) = reproduce(target, config, &s.case, kind, config.replays);
        case = s.case.clone();
    }
    let obs = obs.unwrap_or_else(|| s.obs.clone());
    let file = finding_file(config, kind, &s, case, &obs, hits, config.replays);
    Ok(write(config, file, s.at, m.tries))
}

fn finding_file(
    config: &Config,
    kind: Kind,
    s: &Suspect,
    case: Case,
    obs: &Observation,
    hits: usize,
    replays: usize,
) -> ReplayFile {
    ReplayFile {
        framecheck: MAGIC.into(),
        kind,
        oracle: kind.oracle().into(),
        place: place(&case, config.format),
        format: config.format,
        seed: config.seed,
        case_index: s.index,
        timeout_ms: config.timeout.as_millis() as u64,
        expected: obs.expected.clone(),
        seen: obs.seen.clone(),
        reproduced: hits,
        replays,
        case,
        original: s.case.clone(),
    }
}

fn write(config: &Config, file: ReplayFile, at: Duration, tries: usize) -> Finding {
    let path = config.out.as_ref().and_then(|dir| {
        std::fs::create_dir_all(dir).ok()?;
        let p = dir.join(file.file_name());
        file.save(&p).ok()?;
        Some(p)
    });
    Finding {
        file,
        path,
        found_after: at,
        minimise_tries: tries,
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.file;
        writeln!(f, "{} finding: {}", r.kind, r.place)?;
        writeln!(f, "  oracle:   {}", r.oracle)?;
        writeln!(f, "  expected: {}", r.expected)?;
        writeln!(f, "  seen:     {}", r.seen)?;
        let bytes: usize = r.case.messages.iter().map(Vec::len).sum();
        writeln!(
            f,
            "  found after {:.2} s (case {} of seed {}); the minimal case ({} message(s), {} cut(s), {} bytes, {} minimiser tries) reproduced in {} of {} replays",
            self.found_after.as_secs_f64(),
            r.case_index,
            r.seed,
            r.case.messages.len(),
            r.case.cuts.len(),
            bytes,
            self.minimise_tries,
            r.reproduced,
            r.replays
        )?;
        let hex: Vec<String> = r
            .case
            .pieces()
            .iter()
            .map(|p| super::case::hex(p))
            .collect();
        writeln!(
            f,
            "  minimal bytes, one write each (hex): {}",
            hex.join(" | ")
        )?;
        if let Some(p) = &self.path {
            writeln!(f, "  replay file: {}", p.display())?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "fuzz-server: {} cases in {:.1} s of fuzzing ({:.0} cases/s; {:.1} s in all, {} server start(s)), {} finding(s)",
            self.cases,
            self.fuzz_time.as_secs_f64(),
            self.cases_per_sec(),
            self.elapsed.as_secs_f64(),
            self.starts,
            self.findings.len()
        )?;
        if self.duplicates > 0 {
            writeln!(
                f,
                "  ({} duplicate(s) of an earlier kind and place left out)",
                self.duplicates
            )?;
        }
        for (kind, place) in &self.unconfirmed {
            writeln!(
                f,
                "  unconfirmed: a {kind} ({place}) that no replay reproduced"
            )?;
        }
        if let Some(why) = &self.stopped {
            writeln!(f, "  stopped early: {why}")?;
        }
        for (i, finding) in self.findings.iter().enumerate() {
            write!(f, "\n{}. {finding}", i + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_name_the_first_cut_in_the_format_s_terms() {
        let f = Format::JsonHeader;
        let msg = f.encode(b"body");
        let head = f.head_len(&msg);
        let case = |cuts: Vec<usize>, n: usize| Case {
            aim: String::new(),
            mode: Mode::Compare,
            messages: vec![msg.clone(); n],
            cuts,
            pause_us: 0,
        };
        assert_eq!(place(&case(vec![2], 1), f), "cut in the length field");
        assert_eq!(place(&case(vec![6], 1), f), "cut in the header");
        assert_eq!(
            place(&case(vec![head], 1), f),
            "cut between header and body"
        );
        assert_eq!(
            place(&case(vec![msg.len() - 1], 1), f),
            "cut before the last byte"
        );
        assert_eq!(
            place(&case(vec![msg.len()], 2), f),
            "cut at a message boundary"
        );
        assert_eq!(place(&case(vec![], 2), f), "messages glued into one write");
    }
}
