//! Nearest-rank percentiles: the `p`-th percentile of `n` sorted samples is
//! the sample at 1-based rank `ceil(p / 100 × n)`, so it is always one of
//! the samples (no interpolation) and p100 is the largest.

/// The `percent`-th percentile of `sorted` (ascending) by nearest rank;
/// `None` when `sorted` is empty. `percent` above 100 is taken as 100.
///
/// ```
/// use framecheck_figures::percentile::nearest_rank;
///
/// let v: Vec<u64> = (1..=100).collect();
/// assert_eq!(nearest_rank(&v, 50), Some(50));
/// assert_eq!(nearest_rank(&v, 99), Some(99));
/// assert_eq!(nearest_rank::<u64>(&[], 50), None);
/// ```
pub fn nearest_rank<T: Copy>(sorted: &[T], percent: u32) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let p = percent.min(100) as usize;
    // ceil(p * n / 100), at least rank 1.
    let rank = (p * n).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// The percentiles a report quotes for latency samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Median (nearest rank).
    pub p50: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Largest sample.
    pub max: u64,
}

/// Sorts `samples` in place and summarises them; `None` when empty.
///
/// ```
/// use framecheck_figures::percentile::summarize;
///
/// let mut samples: Vec<u64> = (1..=100).rev().collect();
/// let s = summarize(&mut samples).unwrap();
/// assert_eq!((s.count, s.p50, s.p99, s.max), (100, 50, 99, 100));
/// assert_eq!(summarize(&mut []), None);
/// ```
pub fn summarize(samples: &mut [u64]) -> Option<Summary> {
    samples.sort_unstable();
    Some(Summary {
        count: samples.len() as u64,
        p50: nearest_rank(samples, 50)?,
        p99: nearest_rank(samples, 99)?,
        max: *samples.last()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_is_every_percentile() {
        assert_eq!(
            summarize(&mut [7]),
            Some(Summary {
                count: 1,
                p50: 7,
                p99: 7,
                max: 7
            })
        );
        assert_eq!(nearest_rank(&[7], 0), Some(7));
        assert_eq!(nearest_rank(&[7, 8], 250), Some(8));
    }

    #[test]
    fn p99_moves_only_past_one_percent_of_slow_samples() {
        // 1000 samples, ten of them slow: p99 is the last fast one.
        let mut samples = vec![10; 990];
        samples.extend([5_000; 10]);
        let s = summarize(&mut samples).unwrap();
        assert_eq!((s.p50, s.p99, s.max), (10, 10, 5_000));
        samples.push(5_000);
        assert_eq!(summarize(&mut samples).unwrap().p99, 5_000);
    }

    #[test]
    fn median_of_an_even_count_is_the_lower_middle() {
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0, 4.0, 5.0], 50), Some(3.0));
    }
}
