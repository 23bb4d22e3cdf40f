//! Frame strategies that reach the sizes where length fields overflow.
//!
//! The harness cuts and merges whatever frames you give it, but it cannot
//! invent frames of your type: sizes past 255 or 65 535 bytes (where a `u8`
//! or `u16` length wraps), empty frames and one-byte frames must come from
//! your frame strategy. These produce them often; use them directly for
//! byte frames, or map them into your type.
//!
//! The lists of frames ([`byte_frames`], [`lines`]) hold one to eight
//! ([`FRAMES_PER_CASE`]), never none: an empty list is a case spent on an
//! empty stream, which no read can split, and the truncation property
//! feeds an empty stream anyway whenever it cuts at offset 0. Use the same
//! range for your own lists (`vec(element, FRAMES_PER_CASE)`), or `0..=8`
//! if an empty stream is a case you want among the others.
//!
//! ```
//! use framecheck::strategies;
//! use proptest::{collection::vec, prelude::*};
//!
//! #[derive(Debug, Clone, PartialEq)]
//! struct Msg { id: u8, payload: bytes::Bytes }
//!
//! let msg = (any::<u8>(), strategies::bodies()).prop_map(|(id, payload)| Msg { id, payload });
//! let msgs = vec(msg, strategies::FRAMES_PER_CASE);
//! # let _ = msgs;
//! ```

use bytes::Bytes;
use proptest::{collection::vec, prelude::*, sample::select};

/// Sizes just around the limits of `u8`, `u16` and 7-bit varint lengths.
const EDGES: [usize; 14] = [
    0, 1, 126, 127, 128, 129, 254, 255, 256, 257, 65_534, 65_535, 65_536, 65_537,
];

/// Body lengths: empty and tiny often, up to 300 bytes often, exactly
/// around 127/128, 255/256 and 65 535/65 536 often, anything up to 70 000
/// bytes sometimes. About one body in twenty is larger than 65 535 bytes
/// (weights 3:3:3:1: 3/10 × 2/14 from the edges plus 1/10 × 4 465/70 001
/// from the wide range, 0.0492; checked by a test).
pub fn body_lens() -> impl Strategy<Value = usize> + Clone {
    prop_oneof![
        3 => 0usize..=8,
        3 => 0usize..=300,
        3 => select(&EDGES[..]),
        1 => 0usize..=70_000,
    ]
}

/// Bodies of [`body_lens`] bytes, filled from a seed (cheap to generate
/// even at 64 KiB; shrinking shortens them).
pub fn bodies() -> impl Strategy<Value = Bytes> + Clone {
    bodies_of(body_lens())
}

/// Bodies whose lengths come from `lens`, filled with pseudo-random bytes
/// from a generated seed: far cheaper than a strategy per byte, and
/// shrinking only shortens them (the seed is kept: other bytes are not a
/// simpler framing case).
///
/// ```
/// use framecheck::strategies::bodies_of;
/// use framecheck::proptest::{collection::vec, strategy::Strategy};
///
/// // About 1 KiB per case: one to eight bodies of 64 to 191 bytes.
/// let frames = vec(bodies_of(64..192), 1..=8);
/// // Untyped literals are fine, inclusive ranges too.
/// let large = vec(bodies_of(20_000..=28_000), 1..=2);
/// # let _ = (frames.boxed(), large.boxed());
/// ```
pub fn bodies_of<S>(lens: S) -> impl Strategy<Value = Bytes> + Clone
where
    S: Strategy + Clone,
    S::Value: Len,
{
    // The seed does not shrink: other bytes are not a simpler case.
    (lens, any::<u64>().no_shrink()).prop_map(|(len, seed)| Bytes::from(fill(len.to_len(), seed)))
}

/// A length from any integer type, so that a range of untyped literals
/// (`bodies_of(20_000..=28_000)`, which Rust types as `i32`) is a
/// strategy of lengths. Negative values are taken as 0.
pub trait Len: Copy + std::fmt::Debug {
    /// The length.
    fn to_len(self) -> usize;
}

macro_rules! lens {
    ($($t:ty),*) => {$(
        impl Len for $t {
            fn to_len(self) -> usize {
                usize::try_from(self).unwrap_or(if self > 0 { usize::MAX } else { 0 })
            }
        }
    )*};
}
lens!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// How many frames [`byte_frames`] and [`lines`] put in one case: one to
/// eight. Never none: a case without frames is an empty stream, which
/// tests nothing a read could split, and the truncation property already
/// feeds an empty stream whenever it cuts at offset 0 (and reduction drops
/// frames down to none when that still fails).
pub const FRAMES_PER_CASE: std::ops::RangeInclusive<usize> = 1..=8;

/// One to eight [`bodies`] ([`FRAMES_PER_CASE`]): frames for any codec of
/// `Bytes` (such as tokio-util's `LengthDelimitedCodec`). Empty bodies
/// come up, empty lists do not.
pub fn byte_frames() -> impl Strategy<Value = Vec<Bytes>> + Clone {
    vec(bodies(), FRAMES_PER_CASE)
}

/// One to eight lines ([`FRAMES_PER_CASE`]) for a newline-delimited codec
/// (such as tokio-util's `LinesCodec`): no `\n` or `\r` inside, empty
/// lines included, some past 255 characters, some non-ASCII.
pub fn lines() -> impl Strategy<Value = Vec<String>> + Clone {
    let line = prop_oneof![
        2 => "[a-z ]{0,8}",
        2 => "[ -~]{0,80}",
        1 => "[a-zé€😀]{250,300}",
    ];
    vec(line, FRAMES_PER_CASE)
}

/// `len` pseudo-random bytes from `seed` (xorshift64*), 8 at a time.
fn fill(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let word = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let take = (len - out.len()).min(8);
        out.extend_from_slice(&word[..take]);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::{strategy::ValueTree, test_runner::TestRunner};

    use super::*;

    #[test]
    fn body_lens_reach_past_u8_and_u16_often() {
        let mut runner = TestRunner::deterministic();
        let lens: Vec<usize> = (0..2000)
            .map(|_| body_lens().new_tree(&mut runner).unwrap().current())
            .collect();
        let count = |f: &dyn Fn(usize) -> bool| lens.iter().filter(|&&n| f(n)).count();
        assert!(count(&|n| n == 0) > 100, "empty bodies");
        assert!(count(&|n| n > 255) > 200, "past u8");
        assert!(count(&|n| n > 65_535) > 80, "past u16");
        // The share the docs state: about one in twenty (0.049).
        let share = count(&|n| n > 65_535) as f64 / lens.len() as f64;
        assert!((0.035..0.065).contains(&share), "{share}");
        assert!(lens.iter().all(|&n| n <= 70_000));
    }

    #[test]
    fn frame_lists_are_never_empty_and_reach_eight() {
        let mut runner = TestRunner::deterministic();
        let mut longest = 0;
        for _ in 0..500 {
            let frames = byte_frames().new_tree(&mut runner).unwrap().current();
            let lines = lines().new_tree(&mut runner).unwrap().current();
            assert!(!frames.is_empty() && !lines.is_empty());
            assert!(frames.len() <= 8 && lines.len() <= 8);
            longest = longest.max(frames.len()).max(lines.len());
        }
        assert_eq!(longest, 8);
        // Shrinking stops at one frame, not at an empty stream.
        let mut tree = byte_frames().new_tree(&mut runner).unwrap();
        while tree.simplify() {}
        assert_eq!(tree.current().len(), 1);
    }

    #[test]
    fn fill_is_deterministic_and_varied() {
        assert_eq!(fill(13, 5), fill(13, 5));
        assert_ne!(fill(13, 5), fill(13, 6));
        assert_eq!(fill(13, 5).len(), 13);
        assert!(fill(256, 9).iter().any(|&b| b != fill(256, 9)[0]));
    }
}
