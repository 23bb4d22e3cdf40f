//! Fuzz target bodies: the logic behind `fuzz/fuzz_targets/*.rs`, kept here
//! so that each target is a few lines and the same checks run in `cargo test`.
//!
//! - [`header`]: a frame described part by part, held to the exact outcome.
//! - [`decode`]: raw bytes, whole versus chunked ([`crate::fuzz`]'s oracle).
//! - [`roundtrip`]: arbitrary frames, arbitrary reads, the same frames back.
//! - [`transport`]: arbitrary messages through each framing strategy over
//!   a duplex stream with split and merged I/O.
//! - [`codec_target`], [`roundtrip_target`] and [`fuzz_codec!`](crate::fuzz_codec):
//!   the same for any codec.

mod codec;
pub mod decode;
pub mod header;
pub mod roundtrip;
pub mod transport;

pub use codec::{codec_target, roundtrip_target, RoundtripInput};
