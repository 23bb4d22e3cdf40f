//! framecheck-codec-fuzz: the fuzz models of framecheck's own
//! [`HeaderCodec`](framecheck_codec::HeaderCodec), where the generic
//! harness ([`framecheck`]) and the codec ([`framecheck_codec`]) meet.
//!
//! Each module is the body of one `cargo fuzz` target in `fuzz/` (each
//! target is a few lines calling into it), kept here so the same checks run
//! in `cargo test`:
//!
//! - [`header`]: a frame described part by part, held to the exact outcome.
//! - [`decode`]: raw bytes, whole versus chunked ([`framecheck::fuzz`]'s
//!   oracle), and [`decode::plain`], the same bytes decoded once, the
//!   yardstick for the oracle's cost.
//! - [`roundtrip`]: arbitrary frames, arbitrary reads, the same frames back.
//! - [`transport`]: arbitrary messages through each framing strategy over
//!   a duplex stream with split and merged I/O.
//! - [`strategies`]: proptest strategies for `HeaderCodec` frames.
//!
//! These modules were `framecheck::targets::{header, decode, roundtrip,
//! transport}` and `framecheck::strategies::header_frame{,s}`. They cannot
//! stay there as deprecated paths: that would keep `framecheck` depending
//! on `framecheck-codec` and `serde_json`, which is what moving them
//! removes. Replace `framecheck::targets::header` with
//! `framecheck_codec_fuzz::header` (and so on). The targets for any codec
//! (`framecheck::targets::codec_target`, `roundtrip_target`,
//! `framecheck::fuzz_codec!`) stay in `framecheck`.
#![forbid(unsafe_code)]

pub mod decode;
pub mod header;
pub mod roundtrip;
pub mod strategies;
pub mod transport;
