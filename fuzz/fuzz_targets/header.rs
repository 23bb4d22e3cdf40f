//! A frame described part by part (length field, JSON shape, `data_size`,
//! body, limits, end of stream), decoded whole and in reads by `HeaderCodec`
//! and held to the exact outcome the description calls for.
#![no_main]

use framecheck_codec_fuzz::header::{run, HeaderCase};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: HeaderCase| run(&case));
