//! A frame described part by part (length field, JSON shape, `data_size`,
//! body, limits, end of stream), decoded whole and in reads by `HeaderCodec`
//! and held to the exact outcome the description calls for.
#![no_main]

use framecheck_codec_fuzz::header::{run, HeaderCase};
use libfuzzer_sys::fuzz_target;
// Links the allocation limit (`framecheck_fuzz::alloc`): a single allocation
// over FUZZ_MALLOC_MB aborts, with or without a sanitizer.
use framecheck_fuzz as _;

fuzz_target!(|case: HeaderCase| run(&case));
