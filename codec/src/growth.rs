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
//! one per read). Once a connection has delivered a frame part of some
//! size in full, the next one up to that size gets its room at once (and
//! room for one more, so the bytes held move to the front of the buffer
//! at most once per part).

use bytes::BytesMut;

/// One read's worth: what a buffer may hold beyond the bytes received.
/// The same as tokio-util's `FramedRead` initial capacity.
pub(crate) const STEP: usize = 8 * 1024;

/// Makes room in `src` toward holding `want` bytes (the end of the frame
/// part being waited for). `earned` is the largest frame part this
/// connection has already delivered in full (bytes it did send):
///
/// - nothing when the spare room already takes the rest of the part;
/// - for a part no larger than `earned`: room for it and one more like it,
///   so the bytes held are moved to the front of the allocation at most
///   once per part (the steady state of a connection);
/// - otherwise room the buffer's own allocation already has, if that
///   suffices (moving the bytes it holds to the front);
/// - otherwise nothing while the spare room takes one read's worth;
/// - otherwise a new allocation of at most `max(src.len(), STEP)` bytes
///   beyond what it holds: the first large part grows geometrically with
///   its bytes.
pub(crate) fn reserve_toward(src: &mut BytesMut, want: usize, earned: usize) {
    let len = src.len();
    let Some(missing) = want.checked_sub(len).filter(|&m| m > 0) else {
        return;
    };
    let spare = src.capacity() - len;
    if spare >= missing {
        return;
    }
    if want <= earned {
        // Room for this part and one more like it: the buffer is moved to
        // the front of its allocation at most once per part.
        src.reserve(missing + earned);
        return;
    }
    let allowance = len.max(STEP).max(earned);
    if src.try_reclaim(missing) {
        return;
    }
    if missing <= allowance {
        src.reserve(missing);
        return;
    }
    if spare >= STEP {
        return;
    }
    src.reserve(allowance);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_bounded_by_what_arrived() {
        let mut src = BytesMut::new();
        reserve_toward(&mut src, 8 << 20, 0);
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
            reserve_toward(&mut src, 8 << 20, 0);
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
        reserve_toward(&mut src, 150, 0);
        assert!(src.capacity() >= 150);
        assert!(src.capacity() < 100 + STEP);
    }
}
