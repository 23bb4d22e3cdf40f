//! Raw bytes into `HeaderCodec` once, in one read, checking nothing: the
//! yardstick `ci/fuzz.sh --speed` runs beside `decode` over the same
//! corpus to measure what the oracle costs per input. Not worth fuzzing
//! on its own (`decode` covers all it runs), so `ci/fuzz.sh` and
//! ClusterFuzzLite skip it.
#![no_main]

use libfuzzer_sys::fuzz_target;
// Links the allocation limit (`framecheck_fuzz::alloc`): a single allocation
// over FUZZ_MALLOC_MB aborts, with or without a sanitizer.
use framecheck_fuzz as _;

fuzz_target!(|data: &[u8]| {
    std::hint::black_box(framecheck_codec_fuzz::decode::plain(data));
});
