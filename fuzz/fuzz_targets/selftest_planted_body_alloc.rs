//! NOT a real target: `HeaderCodec` behind a decoder with a planted bug
//! (the body buffer sized from `data_size` before the body limit check),
//! fuzzed through `framecheck::fuzz_codec!`. Built only with
//! `--features planted-bug` (see `ci/fuzz-selftest.sh`).
#![no_main]

framecheck::fuzz_codec!(decode: framecheck_fuzz::planted::ReservesClaimedBody::default);
