//! What every case needs: the frames encoded once, back to back, with
//! their layout, and where each frame's header ends as the decoder shows
//! it (probed only when a cut aims there or a report names it).

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};

use crate::{
    chunk::Layout,
    drive::quietly,
    failure::{Failure, FailureKind, Heads},
    framework::{FrameDecoder, FrameEncoder},
};

/// Frames encoded once, back to back, and where each ends: a reduction
/// drops a frame by leaving out its bytes, with nothing encoded again.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pieces {
    stream: Bytes,
    ends: Vec<usize>,
}

impl Pieces {
    /// Encodes `frames` in order with one encoder from `make_encoder`.
    /// `show(i)` is frame `i`'s `Debug` text, for the report when the
    /// encoder refuses it.
    pub(crate) fn encode<E, I>(
        make_encoder: &dyn Fn() -> E,
        frames: impl IntoIterator<Item = I>,
        show: &dyn Fn(usize) -> String,
    ) -> Result<Pieces, Failure>
    where
        E: FrameEncoder<I>,
    {
        let mut stream = BytesMut::new();
        let mut ends = Vec::new();
        let mut at = 0;
        let mut made = false;
        let result = quietly(|| {
            let mut encoder = make_encoder();
            made = true;
            for (i, frame) in frames.into_iter().enumerate() {
                at = i;
                if let Err(e) = encoder.encode_frame(frame, &mut stream) {
                    return Err(format!("{e:?}"));
                }
                ends.push(stream.len());
            }
            Ok(())
        });
        if let (false, Err(panic)) = (made, &result) {
            return Err(Failure::new(
                FailureKind::Panicked,
                format!("making the encoder panicked: {panic}"),
                "the encoder factory failed before any frame was encoded\n".to_owned(),
            ));
        }
        let what = match result {
            Ok(Ok(())) => {
                return Ok(Pieces {
                    stream: stream.freeze(),
                    ends,
                })
            }
            Ok(Err(error)) => format!("refused it: {error}"),
            Err(panic) => format!("panicked: {panic}"),
        };
        Err(Failure::new(
            FailureKind::EncodeRefused { frame: at },
            format!("frame {at}: the encoder {what}"),
            format!(
                "the frame strategy generated a frame this codec cannot send; \
                 generate only frames it accepts\nframe {at}: {}\n",
                crate::failure::short(&show(at), crate::failure::value_width())
            ),
        ))
    }

    /// Encodes clones of `frames` with one encoder from `make_encoder` and
    /// returns the whole stream and its layout: what a one-case entry point
    /// (no reduction) needs.
    pub(crate) fn encode_all<E, I>(
        make_encoder: &dyn Fn() -> E,
        frames: &[I],
    ) -> Result<(Bytes, Layout), Failure>
    where
        E: FrameEncoder<I>,
        I: Clone + Debug,
    {
        let pieces = Pieces::encode(make_encoder, frames.iter().cloned(), &|i| {
            format!("{:?}", frames[i])
        })?;
        Ok((pieces.stream.clone(), Layout::new(pieces.ends.clone())))
    }

    /// The stream of the frames at `keep` (sorted indices), and its layout.
    pub(crate) fn stream(&self, keep: &[usize]) -> (Bytes, Layout) {
        if keep.len() == self.ends.len() {
            return (self.stream.clone(), Layout::new(self.ends.clone()));
        }
        let start = |k: usize| if k == 0 { 0 } else { self.ends[k - 1] };
        let total = keep.iter().map(|&k| self.ends[k] - start(k)).sum();
        let mut stream = BytesMut::with_capacity(total);
        let mut ends = Vec::with_capacity(keep.len());
        for &k in keep {
            stream.extend_from_slice(&self.stream[start(k)..self.ends[k]]);
            ends.push(stream.len());
        }
        (stream.freeze(), Layout::new(ends))
    }
}

/// Longest prefix of a frame the probe feeds one byte at a time.
pub(crate) const PROBE_BYTES: usize = 4096;
/// Frames probed; later ones are described by their encoded length alone.
pub(crate) const PROBE_FRAMES: usize = 64;

/// Where each frame's header ends, as the decoder shows it: the number of
/// bytes it consumed (took out of its buffer) while still waiting for the
/// rest of the frame, with bytes left in its buffer. First with the frame
/// less its last byte, in one call; if that shows nothing, one byte at a
/// time (the last consumption before the frame came out). `None` when the
/// decoder consumes nothing early (as `LinesCodec`), takes every byte as it
/// arrives (a decoder with a private buffer: no header end can be seen),
/// errs or panics.
pub(crate) fn probe_heads<D: FrameDecoder>(
    make: &dyn Fn() -> D,
    stream: &[u8],
    layout: &Layout,
) -> Heads {
    let heads: Heads = (0..layout.frames())
        .map(|i| {
            if i >= PROBE_FRAMES {
                return None;
            }
            probe_head(make, &stream[layout.start(i)..layout.end(i)], PROBE_BYTES)
        })
        .collect();
    fill_header_only(heads, layout)
}

/// `heads` with frames of an empty body filled in: when every header seen
/// has the same length, a frame that long is all header.
pub(crate) fn fill_header_only(mut heads: Heads, layout: &Layout) -> Heads {
    // A frame with an empty body shows no header by itself; when every
    // header seen has the same length and this frame is that long, it is
    // all header.
    let mut seen = heads.iter().flatten();
    if let Some(&h) = seen.next() {
        if seen.all(|&other| other == h) {
            for (i, head) in heads.iter_mut().enumerate() {
                if head.is_none() && layout.end(i) - layout.start(i) == h {
                    *head = Some(h);
                }
            }
        }
    }
    heads
}

/// One frame's header end (see [`probe_heads`]), probing at most `bytes`
/// bytes one at a time.
pub(crate) fn probe_head<D: FrameDecoder>(
    make: &dyn Fn() -> D,
    frame: &[u8],
    bytes: usize,
) -> Option<usize> {
    let mut buf = BytesMut::new();
    quietly(|| {
        probe_all_but_last(make(), frame, &mut buf).or_else(|| {
            (bytes > 0)
                .then(|| probe_bytewise(make(), frame, bytes))
                .flatten()
        })
    })
    .ok()
    .flatten()
}

/// As [`probe_head`], one call with the frame less its last byte only,
/// into a reused buffer.
pub(crate) fn probe_head_once<D: FrameDecoder>(
    make: &dyn Fn() -> D,
    frame: &[u8],
    buf: &mut BytesMut,
) -> Option<usize> {
    quietly(|| probe_all_but_last(make(), frame, buf))
        .ok()
        .flatten()
}

/// As [`probe_head`] after [`probe_head_once`] has found nothing: only
/// the byte-at-a-time part, at most `bytes` bytes (the one-call part is
/// not run a second time).
pub(crate) fn probe_head_bytewise<D: FrameDecoder>(
    make: &dyn Fn() -> D,
    frame: &[u8],
    bytes: usize,
) -> Option<usize> {
    if bytes == 0 {
        return None;
    }
    quietly(|| probe_bytewise(make(), frame, bytes))
        .ok()
        .flatten()
}

fn probe_all_but_last<D: FrameDecoder>(
    mut decoder: D,
    bytes: &[u8],
    buf: &mut BytesMut,
) -> Option<usize> {
    let prefix = bytes.len().checked_sub(1)?;
    buf.clear();
    buf.extend_from_slice(&bytes[..prefix]);
    match decoder.decode_frame(buf) {
        // Something consumed, something left: a header was taken.
        Ok(None) if buf.len() < prefix && !buf.is_empty() => Some(prefix - buf.len()),
        _ => None,
    }
}

fn probe_bytewise<D: FrameDecoder>(mut decoder: D, bytes: &[u8], limit: usize) -> Option<usize> {
    let mut buf = BytesMut::new();
    let mut head = None;
    // A decoder that takes every byte as it arrives (a private buffer)
    // shows no header end: it is told apart by never leaving a byte.
    let mut takes_all = true;
    for (k, byte) in bytes.iter().take(limit).enumerate() {
        buf.extend_from_slice(&[*byte]);
        match decoder.decode_frame(&mut buf) {
            Ok(None) => {
                let consumed = k + 1 - buf.len();
                takes_all &= buf.is_empty();
                if consumed > 0 {
                    head = Some(consumed);
                }
            }
            Ok(Some(_)) => break,
            Err(_) => return None,
        }
    }
    head.filter(|_| !takes_all)
}
