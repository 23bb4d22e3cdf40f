//! framecheck: a harness that finds the framing bugs TCP's byte stream
//! provokes in any tokio-util codec.
//!
//! TCP delivers bytes, not messages: one write may arrive over several
//! reads and several writes in one. A decoder that works when each frame
//! arrives in one read can fail when a read ends inside a header, exactly
//! between header and body, one byte before a frame's end, or carries
//! several frames. framecheck encodes frames with your codec, cuts the
//! stream where decoders break, feeds the pieces to a fresh decoder as
//! tokio-util's `FramedRead` would, and shrinks any failure to a minimal
//! case told in the frames' terms.
//!
//! - [`assert_roundtrip`] / [`check_roundtrip`]: frames in, the same frames
//!   out, whatever the reads.
//! - [`assert_truncation_detected`] / [`check_truncation_detected`]: a
//!   stream cut short yields the complete frames, then an error (or a
//!   clean end exactly at a frame boundary).
//! - [`assert_alloc_bound`] / [`check_alloc_bound`]: memory bounded by
//!   bytes received, against hostile streams ([`alloc`] must be installed).
//! - [`fuzz::check_decoder`] / [`fuzz::try_check_decoder`]: the oracle of
//!   fuzz targets, for any decoder and any bytes.
//! - [`roundtrip_case`] / [`truncation_case`]: one case without a runner;
//!   [`decode_in_reads`]: what a decoder makes of given bytes in given
//!   reads (for asserting typed errors whatever the reads).
//! - [`Harness`]: the number of cases, a fixed seed, persistence of failing
//!   cases under `proptest-regressions/`.
//! - [`chunk`]: chunkings and their strategies; [`strategies`]: frames of
//!   the sizes that overflow length fields; [`io`]: async adapters that
//!   split and merge reads and writes.
//!
//! ```
//! use framecheck::strategies;
//! use tokio_util::codec::LengthDelimitedCodec;
//!
//! framecheck::assert_roundtrip(LengthDelimitedCodec::new, strategies::byte_frames());
//! ```
#![forbid(unsafe_code)]

mod alloc_bound;
mod case;
pub mod chunk;
mod codec;
mod drive;
mod failure;
pub mod fuzz;
mod harness;
pub mod io;
mod persist;
mod reduce;
mod roundtrip;
pub mod strategies;
pub mod targets;
mod truncation;

/// The proptest this crate's strategies are built with, for writing frame
/// strategies without a version mismatch.
pub use proptest;

pub use crate::alloc_bound::{
    alloc_case, assert_alloc_bound, check_alloc_bound, hostiles, AllocBound, Field, Hostile,
    DEFAULT_CONSTANT, DEFAULT_PER_BYTE,
};
pub use crate::codec::TestableCodec;
pub use crate::drive::decode_in_reads;
pub use crate::failure::{Failure, FailureKind};
pub use crate::harness::{
    assert_roundtrip, assert_truncation_detected, check_roundtrip, check_truncation_detected,
    Harness,
};
pub use crate::roundtrip::roundtrip_case;
pub use crate::truncation::truncation_case;
/// The tracking allocator the allocation property needs (the
/// `framecheck-alloc` crate).
pub use framecheck_alloc as alloc;
