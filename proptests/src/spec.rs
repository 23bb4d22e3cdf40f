//! What one test of a codec is made of, whatever the property: the
//! encoder and decoder factories (one codec or two), how a decoded item is
//! compared with the frame sent, how read-dependent pieces merge, how
//! large a read may be, and where decoding runs (on a worker thread under
//! a time limit, or in line).

use std::{fmt::Debug, time::Duration};

use std::cell::Cell;

use bytes::{Bytes, BytesMut};

use crate::{
    case::{
        fill_header_only, probe_head_bytewise, probe_head_once, probe_heads, PROBE_BYTES,
        PROBE_FRAMES,
    },
    chunk::{mark_head_frames, Cut, Layout},
    drive::{feed, quietly, ReadLimit, Run, Stop, When},
    failure::Heads,
    framework::FrameDecoder,
};

/// Decoding on a worker thread: `None` when the time limit passed.
pub(crate) type Offload<'a, D> =
    &'a dyn Fn(
        D,
        Bytes,
        Vec<usize>,
        ReadLimit,
        usize,
    ) -> Option<Run<<D as FrameDecoder>::Item, <D as FrameDecoder>::Error>>;

/// Probing a frame's header end on a worker thread: `(frame, bytes one at
/// a time)`, `None` when the time limit passed.
pub(crate) type OffloadProbe<'a> = &'a dyn Fn(Bytes, usize) -> Option<Option<usize>>;

/// Merges `next` into `item` (returns `None`), or gives it back.
pub(crate) type Merge<'a, T> = &'a dyn Fn(&mut T, T) -> Option<T>;

/// The codec under test and how its output is judged.
pub(crate) struct Spec<'a, I, E, D: FrameDecoder> {
    pub(crate) encoder: &'a dyn Fn() -> E,
    pub(crate) decoder: &'a dyn Fn() -> D,
    pub(crate) same: &'a dyn Fn(&D::Item, &I) -> bool,
    pub(crate) merge: Option<Merge<'a, D::Item>>,
    pub(crate) limit: ReadLimit,
    pub(crate) offload: Option<Offload<'a, D>>,
    /// Probes on the worker (with `offload`).
    pub(crate) probe: Option<OffloadProbe<'a>>,
    pub(crate) time_limit: Duration,
    /// Cut probes in a row in which one-byte feeding showed no header
    /// end: past [`BLIND_PROBES`], only the one-call probe runs.
    pub(crate) blind: Cell<u32>,
}

/// Cut probes without a header seen one byte at a time, after which the
/// decoder is taken to show none that way (as `LinesCodec`).
const BLIND_PROBES: u32 = 16;

/// Bytes of each frame fed one at a time to find its header end when a
/// generated cut aims there (reports probe further).
const CUT_PROBE_BYTES: usize = 512;

impl<'a, I, E, D: FrameDecoder> Spec<'a, I, E, D> {
    /// A spec that decodes on the calling thread, with no time limit,
    /// unlimited reads and no merging.
    pub(crate) fn in_line(
        encoder: &'a dyn Fn() -> E,
        decoder: &'a dyn Fn() -> D,
        same: &'a dyn Fn(&D::Item, &I) -> bool,
    ) -> Self {
        Spec {
            encoder,
            decoder,
            same,
            merge: None,
            limit: crate::drive::ReadLimit::Unlimited,
            offload: None,
            probe: None,
            time_limit: Duration::ZERO,
            blind: Cell::new(0),
        }
    }
}

impl<I, E, D: FrameDecoder> Spec<'_, I, E, D> {
    /// Feeds `stream` to a fresh decoder: on the worker when there is one
    /// (`None` when it did not finish within the time limit).
    pub(crate) fn feed(
        &self,
        stream: &Bytes,
        read_ends: &[usize],
        limit: ReadLimit,
        max_items: usize,
    ) -> Option<Run<D::Item, D::Error>> {
        let decoder = match quietly(|| (self.decoder)()) {
            Ok(decoder) => decoder,
            Err(message) => {
                return Some(Run {
                    items: Vec::new(),
                    consumed: Vec::new(),
                    when: Vec::new(),
                    stop: Stop::Panic {
                        at: When::AfterRead { read: 0, end: 0 },
                        message: format!("making the decoder: {message}"),
                    },
                    reads: Vec::new(),
                })
            }
        };
        match self.offload {
            Some(offload) => offload(
                decoder,
                stream.clone(),
                read_ends.to_vec(),
                limit,
                max_items,
            ),
            None => {
                let mut decoder = decoder;
                Some(feed(&mut decoder, stream, read_ends, limit, max_items))
            }
        }
    }

    /// Items a decoder may return before it counts as a runaway: a few
    /// past the frames, or (with a merge: pieces follow the reads) one per
    /// byte more.
    pub(crate) fn max_items(&self, frames: usize, bytes: usize) -> usize {
        let pieces = if self.merge.is_some() { bytes } else { 0 };
        frames + pieces + 8
    }

    /// `items` with consecutive pieces merged, and for each merged item the
    /// index of its last piece.
    pub(crate) fn merged(&self, items: Vec<D::Item>) -> (Vec<D::Item>, Vec<usize>) {
        merge_items(self.merge, items)
    }

    /// The first item that is not the frame sent at its index.
    pub(crate) fn first_difference(&self, got: &[D::Item], want: &[&I]) -> Option<usize> {
        got.iter().zip(want).position(|(g, w)| !(self.same)(g, w))
    }

    /// Header ends for aiming cuts: cheaper than a report's probe (a
    /// reused buffer, one byte at a time only while that has shown
    /// something lately).
    /// Only the frames the cuts aim at are probed.
    pub(crate) fn heads_for_cuts(
        &self,
        stream: &[u8],
        layout: &Layout,
        cuts: &[Cut],
    ) -> Vec<Option<usize>> {
        let mut want = vec![false; layout.frames().min(64)];
        for cut in cuts {
            mark_head_frames(cut, &mut want);
        }
        let mut buf = BytesMut::new();
        let bytewise = self.blind.get() < BLIND_PROBES;
        let mut seen = false;
        let heads = (0..want.len())
            .map(|i| {
                if !want[i] {
                    return None;
                }
                let frame = &stream[layout.start(i)..layout.end(i)];
                if let Some(probe) = self.probe {
                    let bytes = if bytewise { CUT_PROBE_BYTES } else { 0 };
                    let head = probe(Bytes::copy_from_slice(frame), bytes).flatten();
                    seen |= head.is_some();
                    return head;
                }
                let head = probe_head_once(self.decoder, frame, &mut buf).or_else(|| {
                    bytewise
                        .then(|| probe_head_bytewise(self.decoder, frame, CUT_PROBE_BYTES))
                        .flatten()
                });
                seen |= head.is_some();
                head
            })
            .collect();
        if bytewise {
            self.blind.set(if seen { 0 } else { self.blind.get() + 1 });
        }
        heads
    }

    /// Each frame's header end, as the decoder shows it (for a report; on
    /// the worker when there is one, so that a hang is not waited for).
    pub(crate) fn heads(&self, stream: &[u8], layout: &Layout) -> Heads {
        match self.probe {
            Some(probe) => {
                let heads = (0..layout.frames().min(PROBE_FRAMES))
                    .map(|i| {
                        let frame = Bytes::copy_from_slice(&stream[layout.start(i)..layout.end(i)]);
                        probe(frame, PROBE_BYTES).flatten()
                    })
                    .collect();
                fill_header_only(heads, layout)
            }
            None => probe_heads(self.decoder, stream, layout),
        }
    }
}

/// `items` with consecutive pieces merged by `merge` (none: as they are),
/// and for each merged item the index of its last piece.
pub(crate) fn merge_items<T>(merge: Option<Merge<'_, T>>, items: Vec<T>) -> (Vec<T>, Vec<usize>) {
    let Some(merge) = merge else {
        let last = (0..items.len()).collect();
        return (items, last);
    };
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    let mut last = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let rest = match out.last_mut() {
            Some(prev) => merge(prev, item),
            None => Some(item),
        };
        match rest {
            Some(item) => {
                out.push(item);
                last.push(i);
            }
            None => {
                if let Some(l) = last.last_mut() {
                    *l = i;
                }
            }
        }
    }
    (out, last)
}

/// The `Debug` texts of `values`.
pub(crate) fn texts<T: Debug>(values: impl IntoIterator<Item = T>) -> Vec<String> {
    values.into_iter().map(|v| format!("{v:?}")).collect()
}
