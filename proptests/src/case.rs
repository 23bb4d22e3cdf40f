//! What every case needs: the frames encoded back to back with their
//! layout, and (only to write a report) where each frame's header ends.

use std::fmt::Debug;

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::{
    chunk::Layout,
    drive::quietly,
    failure::{Failure, FailureKind, Heads},
};

/// Encodes `frames` with one codec, back to back.
pub(crate) fn encode_all<C, I>(codec: &mut C, frames: &[I]) -> Result<(BytesMut, Layout), Failure>
where
    C: Encoder<I>,
    C::Error: Debug,
    I: Clone + Debug,
{
    let mut stream = BytesMut::new();
    let mut ends = Vec::with_capacity(frames.len());
    let mut at = 0;
    let result = quietly(|| {
        for (i, frame) in frames.iter().enumerate() {
            at = i;
            if let Err(e) = codec.encode(frame.clone(), &mut stream) {
                return Err(format!("{e:?}"));
            }
            ends.push(stream.len());
        }
        Ok(())
    });
    let what = match result {
        Ok(Ok(())) => return Ok((stream, Layout::new(ends))),
        Ok(Err(error)) => format!("refused it: {error}"),
        Err(panic) => format!("panicked: {panic}"),
    };
    Err(Failure::new(
        FailureKind::EncodeRefused { frame: at },
        format!("frame {at}: the encoder {what}"),
        format!(
            "the frame strategy generated a frame this codec cannot send; \
             generate only frames it accepts\nframe {at}: {:?}\n",
            frames[at]
        ),
    ))
}

/// Longest prefix of a frame the probe feeds one byte at a time.
const PROBE_BYTES: usize = 4096;
/// Frames probed; later ones are described by their encoded length alone.
const PROBE_FRAMES: usize = 64;

/// Where each frame's header ends, as the decoder shows it: the number of
/// bytes it consumed (took out of its buffer) while still waiting for the
/// rest of the frame. First with the frame less its last byte, in one call;
/// if that shows nothing, one byte at a time (the last consumption before
/// the frame came out). `None` when the decoder consumes nothing early (as
/// `LinesCodec`), errs or panics.
pub(crate) fn probe_heads<D: Decoder>(
    make: &dyn Fn() -> D,
    stream: &[u8],
    layout: &Layout,
) -> Heads {
    let mut heads: Heads = (0..layout.frames())
        .map(|i| {
            if i >= PROBE_FRAMES {
                return None;
            }
            let bytes = &stream[layout.start(i)..layout.end(i)];
            quietly(|| probe_all_but_last(make(), bytes).or_else(|| probe_bytewise(make(), bytes)))
                .ok()
                .flatten()
        })
        .collect();
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

fn probe_all_but_last<D: Decoder>(mut decoder: D, bytes: &[u8]) -> Option<usize> {
    let prefix = bytes.len().checked_sub(1)?;
    let mut buf = BytesMut::from(&bytes[..prefix]);
    match decoder.decode(&mut buf) {
        Ok(None) if buf.len() < prefix => Some(prefix - buf.len()),
        _ => None,
    }
}

fn probe_bytewise<D: Decoder>(mut decoder: D, bytes: &[u8]) -> Option<usize> {
    let mut buf = BytesMut::new();
    let mut head = None;
    for (k, byte) in bytes.iter().take(PROBE_BYTES).enumerate() {
        buf.extend_from_slice(&[*byte]);
        match decoder.decode(&mut buf) {
            Ok(None) => {
                let consumed = k + 1 - buf.len();
                if consumed > 0 {
                    head = Some(consumed);
                }
            }
            Ok(Some(_)) => break,
            Err(_) => return None,
        }
    }
    head
}
