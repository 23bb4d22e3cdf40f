//! How the decoders grow their read buffer: with the bytes that arrive,
//! never with a peer's claim.
//!
//! A header may declare an 8 MiB body and then send nothing; reserving the
//! declared size at once would let a few kilobytes of headers pin gigabytes
//! (tokio-util's `LengthDelimitedCodec` does that). Instead the buffer is
//! grown toward the frame's end by at most what it already holds, or by
//! [`STEP`] when it holds less: the capacity stays within about twice the
//! bytes received plus one read's worth, and a frame that does arrive is
//! still read with geometrically growing reads (a few reallocations, not
//! one per read).

use bytes::BytesMut;

/// One read's worth: what a buffer may hold beyond the bytes received.
/// The same as tokio-util's `FramedRead` initial capacity.
pub(crate) const STEP: usize = 8 * 1024;

/// Makes room in `src` toward holding `want` bytes (the end of the frame
/// part being waited for): nothing when the spare room already takes one
/// read's worth or the rest of the part, otherwise at most
/// `max(src.len(), STEP)` bytes beyond what it holds.
pub(crate) fn reserve_toward(src: &mut BytesMut, want: usize) {
    let len = src.len();
    let Some(missing) = want.checked_sub(len).filter(|&m| m > 0) else {
        return;
    };
    if src.capacity() - len >= missing.min(STEP) {
        return;
    }
    src.reserve(missing.min(len.max(STEP)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_bounded_by_what_arrived() {
        let mut src = BytesMut::new();
        reserve_toward(&mut src, 8 << 20);
        assert!(
            src.capacity() >= 1 && src.capacity() <= 2 * STEP,
            "{}",
            src.capacity()
        );
        // Fill it, then grow again: at most twice what is held (plus the
        // allocator's own rounding, which BytesMut does not add).
        let mut received = 0;
        while received < 1 << 20 {
            let spare = src.capacity() - src.len();
            src.extend_from_slice(&vec![0; spare]);
            received += spare;
            reserve_toward(&mut src, 8 << 20);
            assert!(
                src.capacity() <= 2 * src.len() + STEP,
                "capacity {} after {} bytes",
                src.capacity(),
                src.len()
            );
        }
    }

    #[test]
    fn never_reserves_past_the_frame() {
        let mut src = BytesMut::from(&[0u8; 100][..]);
        reserve_toward(&mut src, 150);
        assert!(src.capacity() >= 150);
        assert!(src.capacity() < 100 + STEP);
    }
}
