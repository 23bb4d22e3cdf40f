//! Per-request latency percentiles.
//!
//! Criterion estimates the time per iteration (the report quotes its median,
//! see [`results`](crate::results)) but keeps no per-request percentiles, so
//! the request/response benches time each request themselves and store a summary
//! per benchmark in one JSON file (by default
//! `target/framecheck-bench/latency.json`), keyed like criterion's ids:
//! `group/function/value`.

use std::{
    collections::BTreeMap,
    fs, io,
    path::{Path, PathBuf},
};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Latency percentiles of one benchmark, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of timed requests.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Largest.
    pub max_ns: u64,
}

/// Every benchmark's summary, by `group/function/value`.
pub type LatencyFile = BTreeMap<String, LatencySummary>;

/// Summarises `samples` (nanoseconds, any order; sorted in place) with the
/// nearest-rank percentiles of
/// [`framecheck_figures::percentile`]; `None` when there are none.
///
/// ```
/// use framecheck_benches::latency::summarize;
///
/// let mut samples: Vec<u64> = (1..=100).rev().collect();
/// let s = summarize(&mut samples).unwrap();
/// assert_eq!((s.count, s.p50_ns, s.p99_ns, s.max_ns), (100, 50, 99, 100));
/// assert_eq!(summarize(&mut []), None);
/// ```
pub fn summarize(samples: &mut [u64]) -> Option<LatencySummary> {
    let s = framecheck_figures::percentile::summarize(samples)?;
    Some(LatencySummary {
        count: s.count,
        p50_ns: s.p50,
        p99_ns: s.p99,
        max_ns: s.max,
    })
}

/// The key of a benchmark in the latency file.
pub fn key(group: &str, function: &str, value: &str) -> String {
    format!("{group}/{function}/{value}")
}

/// Where the benches write the latency file: `$CARGO_TARGET_DIR`, or the
/// `target` directory that holds the running bench binary
/// (`target/release/deps/<bench>`), then `framecheck-bench/latency.json`.
pub fn default_path() -> PathBuf {
    bench_dir().join("latency.json")
}

/// `$CARGO_TARGET_DIR/framecheck-bench`, or the `target` directory that
/// holds the running bench binary (`target/release/deps/<bench>`).
pub fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            // <target>/<profile>/deps/<binary>
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("framecheck-bench")
}

/// Reads a file of summaries by key (latencies, or
/// [`paired`](crate::paired) ratios); a missing file is an empty one.
///
/// # Errors
///
/// The read error, or `InvalidData` when the file does not parse.
pub fn load<T: DeserializeOwned>(path: &Path) -> io::Result<BTreeMap<String, T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e),
    }
}

/// Adds `entries` to the file at `path` (replacing entries with the same
/// key, keeping the others, so benches run with a filter add to it).
///
/// # Errors
///
/// As [`load`], or the write error.
pub fn merge_and_save<T: Serialize + DeserializeOwned>(
    path: &Path,
    entries: BTreeMap<String, T>,
) -> io::Result<()> {
    let mut all = load(path)?;
    all.extend(entries);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(&all).map_err(io::Error::other)?;
    fs::write(path, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_fields_are_the_nearest_rank_percentiles_in_ns() {
        // 1000 samples, ten of them slow: p99 is the last fast one.
        let mut samples = vec![10; 990];
        samples.extend([5_000; 10]);
        assert_eq!(
            summarize(&mut samples),
            Some(LatencySummary {
                count: 1000,
                p50_ns: 10,
                p99_ns: 10,
                max_ns: 5_000
            })
        );
    }

    #[test]
    fn merge_keeps_other_keys_and_replaces_same_key() {
        let dir = std::env::temp_dir().join(format!("framecheck-latency-{}", std::process::id()));
        let path = dir.join("latency.json");
        let s = |n| LatencySummary {
            count: 1,
            p50_ns: n,
            p99_ns: n,
            max_ns: n,
        };
        merge_and_save(&path, LatencyFile::from([(key("g", "a", "1"), s(1))])).unwrap();
        merge_and_save(
            &path,
            LatencyFile::from([(key("g", "b", "1"), s(2)), (key("g", "a", "1"), s(3))]),
        )
        .unwrap();
        let all: LatencyFile = load(&path).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all["g/a/1"].p50_ns, 3);
        assert_eq!(all["g/b/1"].p50_ns, 2);
    }

    #[test]
    fn missing_file_is_empty_and_garbage_is_an_error() {
        let dir =
            std::env::temp_dir().join(format!("framecheck-latency-bad-{}", std::process::id()));
        assert!(load::<LatencySummary>(&dir.join("none.json"))
            .unwrap()
            .is_empty());
        fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.json");
        fs::write(&bad, b"[1, 2]").unwrap();
        let err = load::<LatencySummary>(&bad).unwrap_err();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
