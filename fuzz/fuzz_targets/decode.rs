//! Raw bytes into `HeaderCodec`, whole versus chunked
//! (`framecheck::fuzz::assert_input`).
#![no_main]

use libfuzzer_sys::fuzz_target;
// Links the allocation limit (`framecheck_fuzz::alloc`): a single allocation
// over FUZZ_MALLOC_MB aborts, with or without a sanitizer.
use framecheck_fuzz as _;

fuzz_target!(|data: &[u8]| framecheck_codec_fuzz::decode::run(data));
