//! How the decoders grow their read buffer: with the bytes that arrive,
//! never with a peer's claim.
//!
//! A header may declare an 8 MiB body and then send nothing; reserving the
//! declared size at once would let a few kilobytes of headers pin gigabytes
//! (tokio-util's `LengthDelimitedCodec` does that). Instead, while a frame
//! part (a header, a body, a length-prefixed frame) is awaited,
//! [`Room::reserve_toward`] grows the buffer toward the part's end:
//!
//! ```text
//!  frame:  |<- taken ->|<------- held ------->|<-- spare -->|...... end
//!           (before)      in the buffer now     room to read   (claimed)
//!
//!  frame no larger than one the peer already sent in full (`earned`):
//!      room up to `end` (+ the next frame's start; one read's worth at
//!      least) at once, as an up-front reservation would: the steady state
//!      of a connection
//!  otherwise, once the spare room is under one read (STEP, 8 KiB):
//!      the next rung of the ladder  end, end/2, end/4, ...  that fits in
//!      max(2 x held, held + STEP); for a 64 KiB frame from 8 KiB of it:
//!      8 KiB + a few bytes, 16 KiB, 32 KiB, 64 KiB (four allocations)
//! ```
//!
//! The bound: when the decoder allocates, the new buffer's capacity is at
//! most `max(2 x held, held + STEP)`, or the larger of `STEP` and the end
//! of a frame no larger than `earned` plus room for the next frame's
//! prefix (itself no larger than `earned`); `held` and `earned` are bytes
//! the peer did send. So after `N` bytes received on a connection, no
//! allocation the decoder makes exceeds `max(2 N, N + STEP)`, however
//! large the claim. Room the buffer already has (its own allocation, with
//! consumed bytes at the front) is reclaimed first, without allocating.
//!
//! What it costs against reserving the claim up front: the first large
//! frame of a connection is copied rung by rung (about as many bytes again
//! as the frame, in `log2(frame / 8 KiB)` allocations); every later frame
//! up to that size reuses the allocation it earned and costs nothing more
//! while the caller drops its frames (a caller that keeps them pins each
//! buffer, and gets a new one whenever a frame runs past its end, as with
//! an up-front reservation).
//! `benches/benches/codec.rs`, group `codec_growth`, measures it. Two
//! things `BytesMut::reserve` would do are avoided: it at least doubles
//! the allocation when a few bytes are missing (a 64 KiB body plus a
//! 23-byte header would take 128 KiB), and reallocating copies the
//! consumed bytes in front of the held ones too. A new allocation here has
//! exactly the capacity asked for and copies only the held bytes.

use bytes::BytesMut;

/// One read's worth: the room a buffer may have beyond the bytes received
/// while it holds fewer than this many. The same as tokio-util's
/// `FramedRead` initial capacity.
pub(crate) const STEP: usize = 8 * 1024;

/// How a decoder makes room for the frame part it awaits.
///
/// Hidden: [`Growth::Received`] is the decoders' rule; the other exists so
/// the codec benches can measure what it costs through the same decode
/// path.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Growth {
    /// With the bytes received (this module's rule and bound).
    #[default]
    Received,
    /// The whole declared part reserved as soon as its length is known
    /// (`BytesMut::reserve`, as tokio-util's `LengthDelimitedCodec` does):
    /// memory set by the peer's claim. For measurements only.
    Claimed,
}

/// A decoder's growth state: the rule, and the largest frame the peer has
/// already sent in full.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Room {
    growth: Growth,
    /// The largest frame (or leading part of one: a length field and
    /// header) this connection delivered in full, in bytes it did send: a
    /// part ending within that many bytes of its frame's start gets its
    /// room at once.
    earned: usize,
}

impl Room {
    /// A decoder's state before any frame, with `growth` as its rule.
    pub(crate) fn new(growth: Growth) -> Self {
        Room { growth, earned: 0 }
    }

    /// Records that the first `len` bytes of a frame were received in full.
    pub(crate) fn earn(&mut self, len: usize) {
        self.earned = self.earned.max(len);
    }

    /// Makes room in `src` toward holding `want` bytes: the end of the
    /// part being waited for, counted from the start of `src`.
    ///
    /// `before` is how many bytes of the same frame the decoder already
    /// took out of `src` (a length field, a header): they count as held.
    /// `after` is room to keep past the frame's end for the start of the
    /// next one (the next frame's prefix; a length field an inner codec
    /// reserves as soon as it splits a frame off), so that the next frame
    /// of the same size, read from the front of the allocation, fits in it
    /// whole. With `held = before + src.len()` and, counted from the
    /// frame's start, `end = before + want + after`, the buffer gets room
    /// for:
    ///
    /// - nothing more when the spare room already takes the rest of the
    ///   part;
    /// - `max(end, before + STEP)`, when the part ends within the largest
    ///   frame already received in full (`before + want <= earned`);
    /// - otherwise nothing while the spare room takes one read's worth
    ///   ([`STEP`]);
    /// - otherwise the next rung of the ladder `end, end / 2, ...` within
    ///   `max(2 x held, held + STEP)` (see [`rung`]).
    ///
    /// `after` is at most the frame's own prefix or a 4-byte field, so the
    /// bound of the module docs holds.
    pub(crate) fn reserve_toward(
        &self,
        src: &mut BytesMut,
        want: usize,
        before: usize,
        after: usize,
    ) {
        let len = src.len();
        let Some(missing) = want.checked_sub(len).filter(|&m| m > 0) else {
            return;
        };
        let spare = src.capacity() - len;
        if spare >= missing {
            return;
        }
        let part_end = before.saturating_add(want);
        let end = part_end.saturating_add(after);
        let held = before + len;
        let target = match self.growth {
            Growth::Claimed => {
                src.reserve(missing);
                return;
            }
            // At least one read's worth: a caller that keeps its frames
            // pins the old allocation, and small frames would otherwise get
            // a buffer (and reads) of one frame each.
            Growth::Received if part_end <= self.earned => end.max(before + STEP),
            Growth::Received if spare >= STEP => return,
            Growth::Received => match rung(end, held, before + src.capacity()) {
                Some(rung) => rung,
                // The spare room (less than a read's worth, more than none)
                // fills up to the next rung first.
                None => return,
            },
        };
        grow_to(src, target - before);
    }
}

/// The next size on the ladder `end, end / 2, end / 4, ...` (rounded up)
/// above `capacity` and within `max(2 x held, held + STEP)`, if there is
/// one. Climbing it rung by rung, a buffer at most doubles what it holds
/// each time and its last allocation is `end` exactly, not `end` rounded
/// up to the next doubling.
///
/// There is one whenever the buffer is full (`capacity == held`): each rung
/// is at most twice the one below it, and at most `end`.
fn rung(end: usize, held: usize, capacity: usize) -> Option<usize> {
    let most = held.saturating_add(held.max(STEP));
    let mut rung = end;
    while rung > most {
        rung = rung.div_ceil(2);
    }
    (rung > capacity).then_some(rung)
}

/// Gives `src` room for `size` bytes (more than it holds and than its
/// capacity): in its own allocation if the bytes consumed in front of it
/// make room (`BytesMut::try_reclaim`, which moves the held bytes to the
/// front only when fewer than those consumed), else in a new allocation of
/// exactly `size` bytes, copying only the held bytes.
fn grow_to(src: &mut BytesMut, size: usize) {
    let len = src.len();
    if src.try_reclaim(size - len) {
        return;
    }
    let mut bigger = BytesMut::with_capacity(size);
    bigger.extend_from_slice(src);
    *src = bigger;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills the spare room as a read would.
    fn fill(src: &mut BytesMut) {
        let spare = src.capacity() - src.len();
        src.extend_from_slice(&vec![0; spare]);
    }

    #[test]
    fn growth_is_bounded_by_what_arrived() {
        let room = Room::default();
        let mut src = BytesMut::new();
        room.reserve_toward(&mut src, 8 << 20, 0, 0);
        assert_eq!(src.capacity(), STEP);
        // Fill it, then grow again: at most twice what is held.
        let mut allocations = 0;
        while src.len() < 1 << 20 {
            fill(&mut src);
            let before = src.as_ptr();
            room.reserve_toward(&mut src, 8 << 20, 0, 0);
            allocations += usize::from(src.as_ptr() != before);
            assert!(
                src.capacity() <= (2 * src.len()).max(src.len() + STEP),
                "capacity {} after {} bytes",
                src.capacity(),
                src.len()
            );
            assert!(src.capacity() > src.len(), "room to read into");
        }
        // Geometric: each allocation at least doubles what is held, so
        // from 8 KiB to past 1 MiB (2 MiB at most) takes at most
        // log2(2 MiB / 8 KiB) = 8.
        assert!(allocations <= 8, "{allocations} allocations");
    }

    #[test]
    fn never_reserves_past_the_part() {
        let room = Room::default();
        let mut src = BytesMut::from(&[0u8; 100][..]);
        room.reserve_toward(&mut src, 150, 0, 0);
        assert_eq!(src.capacity(), 150);

        // The last step lands on the part's end exactly, not on the next
        // power of two: 64 KiB plus a few bytes stays under 128 KiB.
        let want = (64 << 10) + 23;
        let mut src = BytesMut::new();
        while src.len() < want {
            room.reserve_toward(&mut src, want, 0, 0);
            let spare = (src.capacity() - src.len()).min(want - src.len());
            src.extend_from_slice(&vec![0; spare]);
        }
        assert_eq!(src.capacity(), want);
    }

    #[test]
    fn a_part_the_peer_already_sent_gets_its_room_at_once() {
        let mut room = Room::default();
        room.earn(64 << 10);
        let mut src = BytesMut::from(&[0u8; 100][..]);
        room.reserve_toward(&mut src, 64 << 10, 0, 0);
        assert_eq!(src.capacity(), 64 << 10);
        // A larger claim gets only what the bytes held allow.
        let mut src = BytesMut::from(&[0u8; 100][..]);
        room.reserve_toward(&mut src, 8 << 20, 0, 0);
        assert!(src.capacity() <= 100 + STEP, "{}", src.capacity());
    }

    #[test]
    fn consumed_room_is_reclaimed_before_allocating() {
        let mut room = Room::default();
        room.earn(10_000);
        let mut src = BytesMut::with_capacity(20_000);
        fill(&mut src);
        let start = src.as_ptr();
        // 19 900 bytes consumed (and dropped), 100 held: room for 10 000
        // without a new allocation.
        let _ = src.split_to(19_900);
        room.reserve_toward(&mut src, 10_000, 0, 0);
        assert_eq!(src.as_ptr(), start);
        assert!(src.capacity() >= 10_000);

        // While the consumed bytes are still held elsewhere, a new buffer,
        // of at least one read's worth for a small part.
        let mut src = BytesMut::with_capacity(20_000);
        fill(&mut src);
        let kept = src.split_to(19_900);
        room.reserve_toward(&mut src, 1000, 0, 0);
        assert_eq!(src.capacity(), STEP);
        drop(kept);
    }

    #[test]
    fn claimed_growth_reserves_the_declared_part() {
        let room = Room::new(Growth::Claimed);
        let mut src = BytesMut::from(&[0u8; 100][..]);
        room.reserve_toward(&mut src, 8 << 20, 0, 0);
        assert!(src.capacity() >= 8 << 20);
    }
}
