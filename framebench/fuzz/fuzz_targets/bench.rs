//! framecheck's fuzz oracle on the FrameBench bug named by
//! `FRAMEBENCH_BUG` (its fixed twin with `FRAMEBENCH_FIXED=1`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| framebench::fuzz::run(data));
