//! Ratios measured side by side: the bench alternates the two cases of a
//! pair for several rounds and keeps the median per-round ratio (rate of
//! the first over rate of the second) with its range, in
//! `target/framecheck-bench/ratios.json`. On a machine shared with other
//! jobs, a change in load hits both sides of such a ratio alike.

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Serialize};

/// One pair's ratios over the rounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatioSummary {
    /// Rounds measured.
    pub rounds: u32,
    /// Median ratio.
    pub median: f64,
    /// Smallest ratio.
    pub min: f64,
    /// Largest ratio.
    pub max: f64,
}

impl RatioSummary {
    /// Summarises per-round ratios (sorted in place); `None` when empty or
    /// when one is not a finite number.
    ///
    /// ```
    /// use framecheck_benches::paired::RatioSummary;
    ///
    /// let s = RatioSummary::of(&mut [1.2, 0.9, 1.0]).unwrap();
    /// assert_eq!((s.rounds, s.median, s.min, s.max), (3, 1.0, 0.9, 1.2));
    /// assert_eq!(RatioSummary::of(&mut []), None);
    /// ```
    pub fn of(ratios: &mut [f64]) -> Option<RatioSummary> {
        if ratios.is_empty() || ratios.iter().any(|r| !r.is_finite()) {
            return None;
        }
        ratios.sort_by(f64::total_cmp);
        let n = ratios.len();
        let median = if n % 2 == 1 {
            ratios[n / 2]
        } else {
            (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0
        };
        Some(RatioSummary {
            rounds: n as u32,
            median,
            min: ratios[0],
            max: ratios[n - 1],
        })
    }
}

/// Every pair's summary, by [`key`].
pub type RatioFile = BTreeMap<String, RatioSummary>;

/// `group/a/b/size`: the rate of `a` over the rate of `b`.
pub fn key(group: &str, a: &str, b: &str, size: u64) -> String {
    format!("{group}/{a}/{b}/{size}")
}

/// `target/framecheck-bench/ratios.json` (see
/// [`latency::bench_dir`](crate::latency::bench_dir)).
pub fn default_path() -> PathBuf {
    crate::latency::bench_dir().join("ratios.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_rounds_average_the_middle_two() {
        let s = RatioSummary::of(&mut [4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
    }

    #[test]
    fn a_non_finite_ratio_is_refused() {
        assert_eq!(RatioSummary::of(&mut [1.0, f64::INFINITY]), None);
        assert_eq!(RatioSummary::of(&mut [f64::NAN]), None);
    }
}
