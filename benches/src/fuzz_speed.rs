//! The fuzz targets' speed, as `ci/fuzz.sh --speed` measures it into
//! `target/fuzz-speed.json`:
//!
//! ```text
//! {"machine": "...",
//!  "targets": [{"target": "decode", "config": "asan" | "fast",
//!               "execs_per_sec": 123456, "seconds": 10,
//!               "runs": [120000, 123456, 130000]}, ...],
//!  "oracle_vs_plain": {"oracle_target": "decode", "plain_target": "decode_plain",
//!                      "oracle_execs_per_sec": N, "plain_execs_per_sec": M, "ratio": R}}
//! ```
//!
//! `execs_per_sec` is the median of `runs`, one figure per fuzzing run
//! (each from the committed seeds, with its own `-seed`): a run's rate
//! depends on what it happens to find, so one run alone moves by 10-20%.
//! The report shows the range beside the median, and a target counts as met
//! only when every run met it. Files without `runs` (one run) still load.
//!
//! The report renders it when the file is there and says the speed was not
//! measured when it is not; `ci/bench-report.sh` deletes the file before a
//! run, so a report never shows an earlier run's figures.

use std::{fs, io, path::Path};

use framecheck_figures::{
    fmt,
    table::{Align, Table},
};
use serde::{Deserialize, Serialize};

/// The configuration with AddressSanitizer (the CI smoke run's).
pub const ASAN: &str = "asan";
/// The configuration without sanitizer (long runs).
pub const FAST: &str = "fast";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FuzzSpeed {
    /// Where it ran.
    pub machine: String,
    /// One entry per target and configuration.
    pub targets: Vec<TargetSpeed>,
    /// The oracle target against a plain decode target over the same
    /// corpus, side by side; absent when not measured.
    #[serde(default)]
    pub oracle_vs_plain: Option<OracleVsPlain>,
}

/// One target in one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSpeed {
    /// The cargo-fuzz target.
    pub target: String,
    /// [`ASAN`] or [`FAST`].
    pub config: String,
    /// Executions per CPU second: the median of [`TargetSpeed::runs`].
    pub execs_per_sec: f64,
    /// How long each run fuzzed.
    pub seconds: f64,
    /// Each run's executions per CPU second (empty in files from before
    /// repeated runs: then `execs_per_sec` is the one run).
    #[serde(default)]
    pub runs: Vec<f64>,
}

impl TargetSpeed {
    /// Each run's rate: [`TargetSpeed::runs`], or the one figure when the
    /// file has no runs.
    pub fn rates(&self) -> &[f64] {
        if self.runs.is_empty() {
            std::slice::from_ref(&self.execs_per_sec)
        } else {
            &self.runs
        }
    }

    /// The median, with the range of the runs when there was more than one:
    /// `190 700 (185 000–196 000)`.
    pub fn shown(&self) -> String {
        let rates = self.rates();
        let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if rates.len() > 1 {
            format!(
                "{} ({}–{})",
                fmt::rate(self.execs_per_sec),
                fmt::rate(lo),
                fmt::rate(hi)
            )
        } else {
            fmt::rate(self.execs_per_sec)
        }
    }

    /// How many runs reached `at_least`, of how many.
    pub fn reached(&self, at_least: f64) -> (usize, usize) {
        let rates = self.rates();
        (
            rates.iter().filter(|&&r| r >= at_least).count(),
            rates.len(),
        )
    }
}

/// The oracle's cost against a plain decode-only target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OracleVsPlain {
    /// The target running framecheck's oracle.
    pub oracle_target: String,
    /// The decode-only target.
    pub plain_target: String,
    /// The oracle target's executions per second.
    pub oracle_execs_per_sec: f64,
    /// The plain target's executions per second.
    pub plain_execs_per_sec: f64,
    /// The ratio as the script computed it (the report recomputes the
    /// cost from the two rates, see [`OracleVsPlain::cost`]).
    pub ratio: f64,
}

impl OracleVsPlain {
    /// The oracle's cost per input in plain inputs: plain exec/s over
    /// oracle exec/s; `None` when a rate is not positive.
    pub fn cost(&self) -> Option<f64> {
        (self.oracle_execs_per_sec > 0.0 && self.plain_execs_per_sec.is_finite())
            .then(|| self.plain_execs_per_sec / self.oracle_execs_per_sec)
    }
}

/// The targets set for fuzzing speed: `(target, config, at least exec/s)`.
pub const TARGETS: [(&str, &str, f64); 3] = [
    ("decode", FAST, 300_000.0),
    ("header", FAST, 50_000.0),
    ("roundtrip", FAST, 50_000.0),
];

/// The oracle's cost per input may be at most this many plain inputs.
pub const ORACLE_COST_TARGET: f64 = 3.0;

/// Reads the file; `None` when there is none.
///
/// # Errors
///
/// A read error, or `InvalidData` naming the file when it does not parse.
pub fn load(path: &Path) -> io::Result<Option<FuzzSpeed>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl FuzzSpeed {
    fn entry(&self, target: &str, config: &str) -> Option<&TargetSpeed> {
        self.targets
            .iter()
            .find(|t| t.target == target && t.config == config)
    }

    /// How many fuzzing runs each figure is the median of (the most any
    /// entry has), and how long each ran: for the report's prose.
    pub fn runs_and_seconds(&self) -> (usize, f64) {
        let runs = self.targets.iter().map(|t| t.rates().len()).max();
        let seconds = self.targets.first().map_or(0.0, |t| t.seconds);
        (runs.unwrap_or(0), seconds)
    }

    /// One row per target (in the file's order): exec/s with ASan, without,
    /// and how many times faster the fast build runs.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            ("target", Align::Left),
            ("exec/s with ASan", Align::Right),
            ("exec/s without sanitizer", Align::Right),
            ("without / with", Align::Right),
        ]);
        let mut seen: Vec<&str> = Vec::new();
        for entry in &self.targets {
            if seen.contains(&entry.target.as_str()) {
                continue;
            }
            seen.push(&entry.target);
            let asan = self.entry(&entry.target, ASAN);
            let fast = self.entry(&entry.target, FAST);
            t.row([
                format!("`{}`", entry.target),
                asan.map_or(fmt::MISSING.into(), TargetSpeed::shown),
                fast.map_or(fmt::MISSING.into(), TargetSpeed::shown),
                fmt::ratio(fast.map(|f| f.execs_per_sec), asan.map(|a| a.execs_per_sec)),
            ]);
        }
        t
    }

    /// The targets, checked: what was set, what was measured, and whether
    /// every run met it (`yes`), none did (`**no**`) or only some
    /// (`**in 2 of 3 runs**`).
    pub fn checks(&self) -> Table {
        let mut t = Table::new([
            ("check", Align::Left),
            ("measured", Align::Right),
            ("target", Align::Left),
            ("met", Align::Left),
        ]);
        for (target, config, at_least) in TARGETS {
            let got = self.entry(target, config);
            let verdict = match got.map(|g| g.reached(at_least)) {
                None => met(None).to_owned(),
                Some((k, n)) if k == n => met(Some(true)).to_owned(),
                Some((0, _)) => met(Some(false)).to_owned(),
                Some((k, n)) => format!("**in {k} of {n} runs**"),
            };
            t.row([
                format!("`{target}` without sanitizer, exec/s"),
                got.map_or(fmt::MISSING.into(), TargetSpeed::shown),
                format!("≥ {}", fmt::rate(at_least)),
                verdict,
            ]);
        }
        if let Some(o) = &self.oracle_vs_plain {
            let cost = o.cost();
            t.row([
                format!(
                    "oracle cost per input: `{}` / `{}` exec/s",
                    o.plain_target, o.oracle_target
                ),
                cost.map_or(fmt::MISSING.into(), fmt::times),
                format!("≤ {ORACLE_COST_TARGET:.0}×"),
                met(cost.map(|c| c <= ORACLE_COST_TARGET)).into(),
            ]);
        }
        t
    }
}

/// `yes`, `**no**`, or `not run`.
pub fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "not run",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"machine": "AMD EPYC, 2 CPUs",
        "targets": [
            {"target": "decode", "config": "asan", "execs_per_sec": 12400, "seconds": 10},
            {"target": "decode", "config": "fast", "execs_per_sec": 310000, "seconds": 10},
            {"target": "header", "config": "fast", "execs_per_sec": 40000, "seconds": 10},
            {"target": "roundtrip", "config": "fast", "execs_per_sec": 52000, "seconds": 10,
             "runs": [47000, 52000, 55000]}],
        "oracle_vs_plain": {"oracle_target": "decode", "plain_target": "decode_plain",
            "oracle_execs_per_sec": 100000, "plain_execs_per_sec": 250000, "ratio": 2.5}}"#;

    #[test]
    fn renders_rates_ratios_and_verdicts() {
        let f: FuzzSpeed = serde_json::from_str(FILE).unwrap();
        let table = f.table().markdown();
        assert!(
            table.contains("| `decode` | 12 400 | 310 000 | 25× |"),
            "{table}"
        );
        assert!(table.contains("| `header` | – | 40 000 | – |"), "{table}");
        assert!(
            table.contains("| `roundtrip` | – | 52 000 (47 000–55 000) | – |"),
            "{table}"
        );
        let checks = f.checks().markdown();
        assert!(
            checks.contains("| `decode` without sanitizer, exec/s | 310 000 | ≥ 300 000 | yes |"),
            "{checks}"
        );
        assert!(
            checks.contains("| `header` without sanitizer, exec/s | 40 000 | ≥ 50 000 | **no** |"),
            "{checks}"
        );
        assert!(
            checks.contains(
                "| `roundtrip` without sanitizer, exec/s | 52 000 (47 000–55 000) | ≥ 50 000 | **in 2 of 3 runs** |"
            ),
            "{checks}"
        );
        assert!(
            checks.contains("`decode_plain` / `decode` exec/s | 2.50× | ≤ 3× | yes |"),
            "{checks}"
        );
    }

    #[test]
    fn missing_file_is_none_and_garbage_names_the_file() {
        let dir =
            std::env::temp_dir().join(format!("framecheck-fuzz-speed-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(load(&dir.join("none.json")).unwrap(), None);
        let bad = dir.join("fuzz-speed.json");
        fs::write(&bad, br#"{"machine": 1}"#).unwrap();
        let err = load(&bad).unwrap_err();
        fs::write(&bad, FILE).unwrap();
        let ok = load(&bad).unwrap().unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("fuzz-speed.json"), "{err}");
        assert_eq!(ok.targets.len(), 4);
        assert_eq!(ok.runs_and_seconds(), (3, 10.0));
    }

    #[test]
    fn a_target_met_in_every_run_or_in_none() {
        let mut f: FuzzSpeed = serde_json::from_str(FILE).unwrap();
        f.targets.push(TargetSpeed {
            target: "decode".into(),
            config: FAST.into(),
            execs_per_sec: 0.0,
            seconds: 10.0,
            runs: vec![],
        });
        let roundtrip = f
            .targets
            .iter_mut()
            .find(|t| t.target == "roundtrip")
            .unwrap();
        roundtrip.runs = vec![51_000.0, 52_000.0, 60_000.0];
        let checks = f.checks().markdown();
        assert!(
            checks.contains("| 52 000 (51 000–60 000) | ≥ 50 000 | yes |"),
            "{checks}"
        );
        let roundtrip = f
            .targets
            .iter_mut()
            .find(|t| t.target == "roundtrip")
            .unwrap();
        roundtrip.runs = vec![41_000.0, 42_000.0, 49_999.0];
        roundtrip.execs_per_sec = 42_000.0;
        let checks = f.checks().markdown();
        assert!(
            checks.contains("| 42 000 (41 000–50 000) | ≥ 50 000 | **no** |"),
            "{checks}"
        );
    }

    #[test]
    fn oracle_cost_without_a_rate_is_unknown() {
        let o = OracleVsPlain {
            oracle_target: "decode".into(),
            plain_target: "decode_plain".into(),
            oracle_execs_per_sec: 0.0,
            plain_execs_per_sec: 10.0,
            ratio: 0.0,
        };
        assert_eq!(o.cost(), None);
    }
}
