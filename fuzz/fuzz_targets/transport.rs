//! Arbitrary messages through the two-send (with and without ack), length
//! and JSON-header strategies over a duplex stream with split and merged
//! reads and writes; exactly the messages sent must arrive.
#![no_main]

use framecheck_codec_fuzz::transport::{run, TransportCase};
use libfuzzer_sys::fuzz_target;
// Links the allocation limit (`framecheck_fuzz::alloc`): a single allocation
// over FUZZ_MALLOC_MB aborts, with or without a sanitizer.
use framecheck_fuzz as _;

fuzz_target!(|case: TransportCase| run(&case));
