//! After proptest's shrinking, a few greedy passes of our own, which know
//! what a chunking means: drop whole frames and single cuts, and replace a
//! set of cuts ("every byte", "every header") or a fraction of the stream
//! by the plain frame-relative points it stands for, so the minimal case
//! reads "into(1,2)" rather than "every(1)".

use crate::chunk::{Chunking, Cut, Layout, Point};

/// Most positions a set cut is replaced by.
const EXPLODE_LIMIT: usize = 256;
/// Most candidates tried in all.
pub(crate) const BUDGET: usize = 4000;

/// The frame-relative point for byte `at` of a stream laid out as `layout`.
pub(crate) fn point_at(layout: &Layout, at: usize) -> Point {
    match layout.frame_at(at) {
        Some(i) => Point::IntoFrame {
            frame: u16::try_from(i).unwrap_or(u16::MAX),
            offset: u32::try_from(at - layout.start(i)).unwrap_or(u32::MAX),
        },
        None => Point::BeforeEnd {
            frame: u16::try_from(layout.frames().saturating_sub(1)).unwrap_or(u16::MAX),
            back: 0,
        },
    }
}

/// Chunkings simpler than `chunking`: one cut fewer, a set cut replaced by
/// its points, a fraction replaced by its frame-relative point.
pub(crate) fn simpler_chunkings(
    chunking: &Chunking,
    layout: Option<&Layout>,
    limit: usize,
) -> Vec<Chunking> {
    let cuts = chunking.cuts();
    let mut out = Vec::new();
    for j in 0..cuts.len() {
        let mut fewer = cuts.to_vec();
        fewer.remove(j);
        out.push(Chunking::new(fewer));
    }
    let Some(layout) = layout else {
        return out;
    };
    if layout.frames() > usize::from(u16::MAX) {
        return out;
    }
    for (j, cut) in cuts.iter().enumerate() {
        let replacement: Vec<Cut> = match cut {
            Cut::At(Point::Fraction { .. })
            | Cut::FrameHeads { .. }
            | Cut::Boundaries { .. }
            | Cut::Every { .. }
            | Cut::HeadEnds { .. } => {
                let mut ends = Vec::new();
                Chunking::new(vec![*cut]).read_ends_into(layout, limit, &mut ends);
                if ends.len() > EXPLODE_LIMIT {
                    continue;
                }
                ends.into_iter()
                    .map(|at| Cut::At(point_at(layout, at)))
                    .collect()
            }
            Cut::At(_) => continue,
        };
        let mut exploded = cuts[..j].to_vec();
        exploded.extend(replacement);
        exploded.extend_from_slice(&cuts[j + 1..]);
        out.push(Chunking::new(exploded));
    }
    out
}

/// `items` without element `i`, for each `i`.
pub(crate) fn without_each<T: Clone>(items: &[T]) -> impl Iterator<Item = Vec<T>> + '_ {
    (0..items.len()).map(move |i| {
        let mut fewer = items.to_vec();
        fewer.remove(i);
        fewer
    })
}

/// Runs `fails` on simpler and simpler candidates from `simpler`, keeping
/// each that still fails, until none does or the budget is spent.
pub(crate) fn reduce<V>(
    mut value: V,
    simpler: &dyn Fn(&V) -> Vec<V>,
    fails: &dyn Fn(&V) -> bool,
) -> V {
    let mut budget = BUDGET;
    'outer: loop {
        for candidate in simpler(&value) {
            if budget == 0 {
                break 'outer;
            }
            budget -= 1;
            if fails(&candidate) {
                value = candidate;
                continue 'outer;
            }
        }
        break;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_explodes_into_frame_relative_points() {
        let layout = Layout::from_lens([3, 2]);
        let simpler = simpler_chunkings(&Chunking::one_byte_reads(), Some(&layout), 5);
        assert_eq!(simpler[0], Chunking::whole());
        assert_eq!(
            simpler[1].to_string(),
            "into(0,1) into(0,2) into(1,0) into(1,1)"
        );
    }

    #[test]
    fn reduce_keeps_the_smallest_failing_value() {
        // Fails while the list holds a 7.
        let simpler = |v: &Vec<u8>| without_each(v).collect::<Vec<_>>();
        let fails = |v: &Vec<u8>| v.contains(&7);
        assert_eq!(reduce(vec![1, 7, 3, 7, 9], &simpler, &fails), vec![7]);
    }
}
