//! Seeded cuts of a byte stream, decided by stream offset: the one cutter
//! that `slice-proxy` and `fuzz-server` share.
//!
//! A cut at offset `c` means "a write ends after byte `c - 1`". Offsets
//! count from the first byte of the stream (one connection, one direction),
//! so the positions depend on the seed and the bytes' places in the stream,
//! never on how the bytes happened to arrive:
//!
//! ```text
//!  stream   |0 1 2 3 4 5 6 7 8 9 ...
//!  sizes     <-3-> <---4---> <2>        drawn from the seed, in [min, max]
//!  cuts           3         7   9 ...   running sums: the write ends
//!  reads    |0 1 2 3 4 5|6 7 8 9|       however the sender wrote them,
//!  writes   |0 1 2|3 4 5 6|7 8|9        the writes end at the same cuts
//! ```
//!
//! [`Cutter`] draws the chunk sizes; [`SeededCuts`] turns them into
//! offsets and splits whatever arrives at those offsets; [`pieces`] splits a
//! buffer at explicit offsets (the fuzz-server's aimed cuts).

use rand::{rngs::StdRng, Rng, SeedableRng};

/// Draws chunk sizes in `[min, max]` from a seeded generator: the same
/// seed gives the same sizes.
///
/// ```
/// use framecheck_cli::cut::Cutter;
/// let cuts: Vec<usize> = Cutter::new(1, 4, 9).cuts(10).collect();
/// assert_eq!(cuts.iter().sum::<usize>(), 10);
/// assert_eq!(cuts, Cutter::new(1, 4, 9).cuts(10).collect::<Vec<_>>());
/// ```
#[derive(Debug, Clone)]
pub struct Cutter {
    rng: StdRng,
    min: usize,
    max: usize,
}

impl Cutter {
    /// A cutter for chunks of `min..=max` bytes (`min` is raised to 1 and
    /// `max` to `min`).
    pub fn new(min: usize, max: usize, seed: u64) -> Self {
        let min = min.max(1);
        Cutter {
            rng: StdRng::seed_from_u64(seed),
            min,
            max: max.max(min),
        }
    }

    /// The next chunk size, in `[min, max]`.
    pub fn next_size(&mut self) -> usize {
        self.rng.random_range(self.min..=self.max)
    }

    /// Chunk sizes that add up to `len`; all in range except perhaps the
    /// last, which takes what is left.
    pub fn cuts(&mut self, len: usize) -> impl Iterator<Item = usize> + '_ {
        let mut left = len;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let size = self.next_size().min(left);
            left -= size;
            Some(size)
        })
    }
}

/// Cut offsets of one stream, from a seed: the running sums of a
/// [`Cutter`]'s sizes. Feed it the stream in any pieces with
/// [`SeededCuts::split`]; the cuts fall at the same offsets.
///
/// ```
/// use framecheck_cli::cut::SeededCuts;
/// let whole = SeededCuts::new(1, 16, 5).split(0, 100);
/// let mut c = SeededCuts::new(1, 16, 5);
/// let mut parts = c.split(0, 30);
/// parts.extend(c.split(30, 70).into_iter().map(|o| o + 30));
/// assert_eq!(whole, parts);
/// ```
#[derive(Debug, Clone)]
pub struct SeededCuts {
    sizes: Cutter,
    next: u64,
}

impl SeededCuts {
    /// Cuts every `min..=max` bytes, seeded.
    pub fn new(min: usize, max: usize, seed: u64) -> Self {
        let mut sizes = Cutter::new(min, max, seed);
        let next = sizes.next_size() as u64;
        SeededCuts { sizes, next }
    }

    /// The cuts that fall inside `start..start + len` (a cut at `start`
    /// itself was reported with the bytes before it), as offsets relative
    /// to `start`, ascending; the last may equal `len`. `start` must be
    /// where the previous call's bytes ended.
    pub fn split(&mut self, start: u64, len: usize) -> Vec<usize> {
        let end = start + len as u64;
        let mut out = Vec::new();
        while self.next <= end {
            if self.next > start {
                out.push((self.next - start) as usize);
            }
            self.next += self.sizes.next_size() as u64;
        }
        out
    }
}

/// Splits `data` at the offsets in `cuts` (ascending; offsets of 0, at or
/// past the end, or repeated are ignored). No cuts: one piece.
///
/// ```
/// use framecheck_cli::cut::pieces;
/// let p: Vec<&[u8]> = pieces(b"abcdef", &[1, 1, 4, 9]).collect();
/// assert_eq!(p, [&b"a"[..], b"bcd", b"ef"]);
/// ```
pub fn pieces<'a>(data: &'a [u8], cuts: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut at = 0usize;
    let mut cuts = cuts.iter().copied().peekable();
    let mut done = data.is_empty();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        for c in cuts.by_ref() {
            if c > at && c < data.len() {
                let piece = &data[at..c];
                at = c;
                return Some(piece);
            }
        }
        done = true;
        Some(&data[at..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_stay_in_range_and_cover_the_input() {
        let mut c = Cutter::new(3, 7, 42);
        for len in [0, 1, 2, 3, 7, 8, 100, 65_536] {
            let cuts: Vec<usize> = c.cuts(len).collect();
            assert_eq!(cuts.iter().sum::<usize>(), len);
            if let Some((last, rest)) = cuts.split_last() {
                assert!(rest.iter().all(|&s| (3..=7).contains(&s)), "{cuts:?}");
                assert!((1..=7).contains(last));
            }
        }
    }

    #[test]
    fn same_seed_replays_the_same_cuts_and_another_differs() {
        let run = |seed| {
            let mut c = Cutter::new(1, 1500, seed);
            (0..20)
                .flat_map(|_| c.cuts(4096).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    fn absolute(splits: &[(u64, usize)], seed: u64) -> Vec<u64> {
        let mut c = SeededCuts::new(1, 32, seed);
        splits
            .iter()
            .flat_map(|&(start, len)| {
                c.split(start, len)
                    .into_iter()
                    .map(move |o| start + o as u64)
            })
            .collect()
    }

    #[test]
    fn seeded_cuts_do_not_depend_on_how_the_stream_arrives() {
        let whole = absolute(&[(0, 4000)], 11);
        let two = absolute(&[(0, 1000), (1000, 3000)], 11);
        let bytes: Vec<(u64, usize)> = (0..4000).map(|i| (i, 1)).collect();
        let ones = absolute(&bytes, 11);
        assert_eq!(whole, two);
        assert_eq!(whole, ones);
        assert!(whole.len() > 100, "{}", whole.len());
        assert_ne!(whole, absolute(&[(0, 4000)], 12));
    }

    #[test]
    fn pieces_cover_the_data_in_order() {
        let data: Vec<u8> = (0..50).collect();
        let cuts = [0, 3, 3, 10, 49, 50, 70];
        let p: Vec<&[u8]> = pieces(&data, &cuts).collect();
        assert_eq!(p.concat(), data);
        assert_eq!(p.iter().map(|p| p.len()).collect::<Vec<_>>(), [3, 7, 39, 1]);
        assert_eq!(pieces(b"", &[1]).count(), 0);
    }
}
