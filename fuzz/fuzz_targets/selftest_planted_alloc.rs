//! NOT a real target: `HeaderCodec` behind a decoder with a planted bug
//! (the read buffer sized from the header length field before the limit
//! check), fuzzed through `framecheck::fuzz_codec!` to show that the fuzz
//! crate's allocation limit (`framecheck_fuzz::alloc`, linked through the
//! planted decoder) turns such an allocation into a finding, with or
//! without a sanitizer. Built only with `--features planted-bug` (see
//! `ci/fuzz-selftest.sh`).
#![no_main]

framecheck::fuzz_codec!(decode: framecheck_fuzz::planted::ReservesClaimedHeader::default);
