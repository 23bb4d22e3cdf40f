//! Arbitrary frames and an arbitrary chunking: encode with `HeaderCodec`,
//! cut, decode, compare.
#![no_main]

use framecheck::targets::RoundtripInput;
use framecheck_codec_fuzz::roundtrip::{run_owned, FuzzFrame};
use libfuzzer_sys::fuzz_target;
// Links the allocation limit (`framecheck_fuzz::alloc`): a single allocation
// over FUZZ_MALLOC_MB aborts, with or without a sanitizer.
use framecheck_fuzz as _;

fuzz_target!(|input: RoundtripInput<FuzzFrame>| run_owned(input));
