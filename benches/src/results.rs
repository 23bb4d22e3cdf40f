//! Criterion's results on disk: for each benchmark,
//! `target/criterion/<group>/<function>/<value>/new/benchmark.json` (its id
//! and throughput) and `estimates.json` (time per iteration, nanoseconds).

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use serde::Deserialize;

/// Work done by one iteration, as criterion records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Throughput {
    /// Bits per iteration.
    Bits(u64),
    /// Bytes per iteration.
    Bytes(u64),
    /// Bytes per iteration, shown with decimal units.
    BytesDecimal(u64),
    /// Elements (messages, frames, cases) per iteration.
    Elements(u64),
    /// Both.
    ElementsAndBytes {
        /// Elements per iteration.
        elements: u64,
        /// Bytes per iteration.
        bytes: u64,
    },
}

impl Throughput {
    /// Elements per iteration, if recorded.
    pub fn elements(&self) -> Option<u64> {
        match *self {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => Some(n),
            _ => None,
        }
    }

    /// Bytes per iteration, if recorded.
    pub fn bytes(&self) -> Option<u64> {
        match *self {
            Throughput::Bytes(n)
            | Throughput::BytesDecimal(n)
            | Throughput::ElementsAndBytes { bytes: n, .. } => Some(n),
            Throughput::Bits(n) => Some(n / 8),
            Throughput::Elements(_) => None,
        }
    }
}

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    /// Criterion group.
    pub group: String,
    /// Function id within the group (the strategy or codec).
    pub function: String,
    /// Parameter (here: the payload size in bytes), if any.
    pub value: Option<String>,
    /// Time per iteration in nanoseconds: criterion's median over samples,
    /// which a burst of load on a shared machine moves less than the mean
    /// or the slope.
    pub ns_per_iter: f64,
    /// Work per iteration.
    pub throughput: Option<Throughput>,
}

impl BenchResult {
    /// Elements per second.
    pub fn elements_per_sec(&self) -> Option<f64> {
        let n = self.throughput?.elements()?;
        per_sec(n, self.ns_per_iter)
    }

    /// Bytes per second.
    pub fn bytes_per_sec(&self) -> Option<f64> {
        let n = self.throughput?.bytes()?;
        per_sec(n, self.ns_per_iter)
    }

    /// The value parsed as a number (payload size), if it is one.
    pub fn size(&self) -> Option<u64> {
        self.value.as_deref()?.parse().ok()
    }
}

fn per_sec(n: u64, ns: f64) -> Option<f64> {
    (ns > 0.0).then(|| n as f64 * 1e9 / ns)
}

#[derive(Deserialize)]
struct RawId {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<Throughput>,
}

#[derive(Deserialize)]
struct RawEstimate {
    point_estimate: f64,
}

#[derive(Deserialize)]
struct RawEstimates {
    median: RawEstimate,
}

/// Builds a result from the text of `benchmark.json` and `estimates.json`.
///
/// # Errors
///
/// `InvalidData` naming what did not parse.
pub fn parse(benchmark_json: &str, estimates_json: &str) -> io::Result<BenchResult> {
    let id: RawId =
        serde_json::from_str(benchmark_json).map_err(|e| invalid("benchmark.json", e))?;
    let est: RawEstimates =
        serde_json::from_str(estimates_json).map_err(|e| invalid("estimates.json", e))?;
    Ok(BenchResult {
        group: id.group_id,
        function: id.function_id.unwrap_or_default(),
        value: id.value_str,
        ns_per_iter: est.median.point_estimate,
        throughput: id.throughput,
    })
}

fn invalid(what: &str, e: serde_json::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

/// Every result under `criterion_dir` (criterion's output directory,
/// usually `target/criterion`), sorted by group, function and size.
///
/// # Errors
///
/// A read error, or a result that does not parse (with its path).
pub fn load_all(criterion_dir: &Path) -> io::Result<Vec<BenchResult>> {
    let mut dirs = Vec::new();
    find_new_dirs(criterion_dir, &mut dirs, 0)?;
    let mut out = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let read = |name: &str| fs::read_to_string(dir.join(name));
        let (Ok(id), Ok(est)) = (read("benchmark.json"), read("estimates.json")) else {
            continue;
        };
        let r = parse(&id, &est)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        out.push(r);
    }
    out.sort_by(|a, b| {
        (&a.group, &a.function, a.size(), &a.value).cmp(&(
            &b.group,
            &b.function,
            b.size(),
            &b.value,
        ))
    });
    Ok(out)
}

/// Collects every `new/` directory that holds a `benchmark.json`; skips
/// criterion's `report/` pages. Depth is bounded (group/function/value/new).
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> io::Result<()> {
    if depth > 5 {
        return Ok(());
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound && depth == 0 => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        let name = entry.file_name();
        if name == "report" {
            continue;
        }
        if name == "new" && path.join("benchmark.json").is_file() {
            out.push(path);
        } else if name != "base" && name != "change" {
            find_new_dirs(&path, out, depth + 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed from a real criterion 0.8 run.
    const BENCHMARK: &str = r#"{"group_id":"loopback_reqresp","function_id":"length","value_str":"256","throughput":{"ElementsAndBytes":{"elements":1,"bytes":256}},"full_id":"loopback_reqresp/length/256","directory_name":"loopback_reqresp/length/256","title":"loopback_reqresp/length/256"}"#;
    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":24000.0,"upper_bound":26000.0},"point_estimate":25000.0,"standard_error":500.0},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":24000.0,"upper_bound":26000.0},"point_estimate":24900.0,"standard_error":400.0},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},"slope":{"confidence_interval":{"confidence_level":0.95,"lower_bound":24500.0,"upper_bound":25500.0},"point_estimate":25600.0,"standard_error":300.0},"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1}}"#;

    #[test]
    fn parses_id_throughput_and_uses_the_median() {
        let r = parse(BENCHMARK, ESTIMATES).unwrap();
        assert_eq!(r.group, "loopback_reqresp");
        assert_eq!(r.function, "length");
        assert_eq!(r.size(), Some(256));
        assert_eq!(r.ns_per_iter, 24900.0);
        assert_eq!(
            r.throughput,
            Some(Throughput::ElementsAndBytes {
                elements: 1,
                bytes: 256
            })
        );
        assert_eq!(r.elements_per_sec(), Some(1e9 / 24900.0));
        assert_eq!(r.bytes_per_sec(), Some(256e9 / 24900.0));
    }

    #[test]
    fn flat_sampling_without_slope_parses() {
        let est = ESTIMATES.replace(
            r#""slope":{"confidence_interval":{"confidence_level":0.95,"lower_bound":24500.0,"upper_bound":25500.0},"point_estimate":25600.0,"standard_error":300.0}"#,
            r#""slope":null"#,
        );
        let r = parse(BENCHMARK, &est).unwrap();
        assert_eq!(r.ns_per_iter, 24900.0);
    }

    #[test]
    fn elements_only_and_no_throughput() {
        let id = r#"{"group_id":"harness","function_id":"roundtrip","value_str":null,"throughput":{"Elements":100}}"#;
        let r = parse(id, ESTIMATES).unwrap();
        assert_eq!(r.elements_per_sec(), Some(100e9 / 24900.0));
        assert_eq!(r.bytes_per_sec(), None);
        assert_eq!(r.size(), None);
        let id = r#"{"group_id":"g","function_id":null,"value_str":null,"throughput":null}"#;
        assert_eq!(parse(id, ESTIMATES).unwrap().elements_per_sec(), None);
    }

    #[test]
    fn malformed_json_names_the_file() {
        let err = parse("{}", ESTIMATES).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().starts_with("benchmark.json"), "{err}");
        let err = parse(BENCHMARK, r#"{"median":1}"#).unwrap_err();
        assert!(err.to_string().starts_with("estimates.json"), "{err}");
    }

    #[test]
    fn load_all_walks_group_function_value_dirs() {
        let root = std::env::temp_dir().join(format!("framecheck-results-{}", std::process::id()));
        let new = root.join("loopback_reqresp/length/256/new");
        fs::create_dir_all(&new).unwrap();
        fs::write(new.join("benchmark.json"), BENCHMARK).unwrap();
        fs::write(new.join("estimates.json"), ESTIMATES).unwrap();
        // criterion's own pages and the previous run are skipped.
        let base = root.join("loopback_reqresp/length/256/base");
        fs::create_dir_all(&base).unwrap();
        fs::write(base.join("benchmark.json"), BENCHMARK).unwrap();
        fs::write(base.join("estimates.json"), ESTIMATES).unwrap();
        fs::create_dir_all(root.join("report")).unwrap();
        let all = load_all(&root).unwrap();
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].function, "length");
        assert!(load_all(&root).unwrap().is_empty());
    }
}
