//! NOT a real target: `HeaderCodec` behind a decoder with a planted bug
//! (the body buffer sized from `data_size` before the body limit check),
//! run through the `header` target's checks. Raw-byte fuzzing rarely finds
//! it (a longer `data_size` needs a matching header length field); the
//! structured description makes consistent frames with any `data_size`.
//! The fuzz crate's allocation limit (`framecheck_fuzz::alloc`) makes the
//! oversized reservation a crash, with or without a sanitizer. Built only
//! with `--features planted-bug` (see `ci/fuzz-selftest.sh`).
//!
//! The header model's own memory bound (`FailureKind::Memory`) also sees a
//! claimed reservation once it is made, for claims under the allocation
//! limit; this target passes those, so that what stops the run is always
//! the allocation limit it tests, whichever claim the fuzzer tries first.
#![no_main]

use framecheck_codec::HeaderCodec;
use framecheck_codec_fuzz::header::{check, FailureKind, HeaderCase};
use framecheck_fuzz::planted::ReservesClaimedBody;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: HeaderCase| {
    let make = |limits| ReservesClaimedBody(HeaderCodec::with_limits(limits));
    match check(&case, make) {
        Err(failure) if !matches!(failure.kind, FailureKind::Memory { .. }) => panic!("{failure}"),
        _ => {}
    }
});
