//! Arbitrary frames and an arbitrary chunking: encode with `HeaderCodec`,
//! cut, decode, compare.
#![no_main]

use framecheck::targets::RoundtripInput;
use framecheck_codec_fuzz::roundtrip::{run, FuzzFrame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: RoundtripInput<FuzzFrame>| run(&input));
