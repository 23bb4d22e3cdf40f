//! Arbitrary frames and an arbitrary chunking: encode with `HeaderCodec`,
//! cut, decode, compare.
#![no_main]

use framecheck::targets::{
    roundtrip::{run, FuzzFrame},
    RoundtripInput,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: RoundtripInput<FuzzFrame>| run(&input));
