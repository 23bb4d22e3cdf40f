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
//! [`Harness`] is the one runner: settings, then the codec
//! ([`Harness::codec`] for one type, [`Harness::split`] for an encoder and
//! a decoder of different types, [`Target::compare`] for items without
//! `PartialEq`, [`Target::merge`] for pieces), then a property:
//!
//! - [`Target::check_roundtrip`]: frames in, the same frames out, whatever
//!   the reads.
//! - [`Target::check_truncation`]: a stream cut short yields the complete
//!   frames, then an error (or a clean end exactly at a frame boundary).
//! - [`Target::check_oracle`]: damaged valid encodings decode the same in
//!   one read and in any reads.
//! - [`Target::check_framed_roundtrip`]: the frames through tokio-util's
//!   own `FramedWrite` and `FramedRead` over a pipe whose ends split, merge
//!   and stall I/O ([`io`]).
//! - [`Target::check_all`]: all four, each verdict apart.
//! - [`Harness::check_alloc_bound`] / [`check_alloc_bound`]: memory bounded
//!   by bytes received, against hostile streams ([`alloc`] must be
//!   installed; `docs/allocation-bound.md`).
//!
//! `check_*` returns the [`Failure`], `assert_*` panics with its report.
//! Sugar: [`check_roundtrip`] / [`assert_roundtrip`],
//! [`check_truncation_detected`] / [`assert_truncation_detected`],
//! [`fuzz::check_input`] / [`fuzz::assert_input`] (the fuzz targets'
//! oracle on any bytes), [`roundtrip_case`] / [`truncation_case`] (one case
//! without a runner), [`decode_in_reads`] (what a decoder makes of given
//! bytes in given reads), [`io`] (async adapters, and the round trip
//! through tokio-util's own `FramedWrite`/`FramedRead` as
//! [`io::check_framed_roundtrip`]).
//!
//! The properties of a [`Target`] decode on a worker thread under a time
//! limit ([`Harness::time_limit`]). A thread cannot be killed: one whose
//! decoder hangs is left behind, at most one per property run that failed
//! with [`FailureKind::Hung`] ([`worker_threads`] counts the live ones).
//!
//! Codecs: tokio-util 0.7 `Decoder`/`Encoder` as they are; with the
//! `asynchronous-codec` feature, asynchronous-codec 0.7 codecs wrapped in
//! `Async`, driven by that crate's end-of-stream rule ([`EofRule`]). The
//! guide `docs/testing-a-real-codec.md` has a worked example of each.
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
mod framework;
pub mod fuzz;
mod harness;
pub mod io;
mod persist;
mod reduce;
mod roundtrip;
mod spec;
pub mod strategies;
pub mod targets;
mod truncation;
mod watch;

/// The proptest this crate's strategies are built with, for writing frame
/// strategies without a version mismatch.
pub use proptest;

pub use crate::alloc_bound::{
    alloc_case, assert_alloc_bound, check_alloc_bound, hostiles, AllocBound, Field, Hostile,
    DEFAULT_CONSTANT, DEFAULT_PER_BYTE,
};
/// The bytes this crate's codecs read and write, so your versions match.
pub use bytes;

/// The tokio-util this crate drives codecs with, so your versions match.
pub use tokio_util;

/// asynchronous-codec, when the `asynchronous-codec` feature is on.
#[cfg(feature = "asynchronous-codec")]
pub use asynchronous_codec;

pub use crate::codec::TestableCodec;
pub use crate::drive::{decode_in_reads, ReadLimit, FRAMED_READ_CAPACITY};
pub use crate::failure::{value_width, Failure, FailureKind, Property, DEFAULT_WIDTH};
#[cfg(feature = "asynchronous-codec")]
pub use crate::framework::Async;
pub use crate::framework::{EofRule, FrameDecoder, FrameEncoder};
pub use crate::harness::{
    assert_roundtrip, assert_truncation_detected, check_roundtrip, check_truncation_detected,
    ok_or_panic, Compare, Equal, Harness, MergeItems, NoMerge, Target, Verdicts,
    DEFAULT_TIME_LIMIT,
};
pub use crate::roundtrip::roundtrip_case;
pub use crate::truncation::truncation_case;
pub use crate::watch::worker_threads;
/// The tracking allocator the allocation property needs (the
/// `framecheck-alloc` crate).
pub use framecheck_alloc as alloc;
