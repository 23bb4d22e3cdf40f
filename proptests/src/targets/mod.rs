//! Fuzz target bodies for any codec: [`codec_target`], [`roundtrip_target`]
//! and [`fuzz_codec!`](crate::fuzz_codec), so that a `cargo fuzz` target is
//! one line and the same checks run in `cargo test`.
//!
//! The targets of framecheck's own `HeaderCodec` (`header`, `decode`,
//! `roundtrip`, `transport`) live in the `framecheck-codec-fuzz` crate next
//! to the codec, so that this crate does not depend on that codec.

mod codec;

pub use codec::{codec_target, roundtrip_target, RoundtripInput};
