//! Raw bytes into `HeaderCodec`, whole versus chunked
//! (`framecheck::fuzz::check_decoder`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| framecheck_codec_fuzz::decode::run(data));
