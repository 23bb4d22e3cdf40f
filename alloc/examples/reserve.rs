//! Which huge requests this machine can serve, with the system allocator
//! and with `Tracking`'s lazy reservation: the measurement behind the crate
//! docs. Calls the allocators directly, so a refused request is a null
//! pointer, not an abort.
//!
//! ```sh
//! cargo run -p framecheck-alloc --example reserve
//! sh -c 'ulimit -v 8388608 && cargo run -p framecheck-alloc --example reserve'   # RLIMIT_AS 8 GiB
//! ```
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

use framecheck_alloc::Tracking;

fn main() {
    let mode = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").unwrap_or_default();
    let limit = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let as_limit = limit
        .lines()
        .find(|l| l.starts_with("Max address space"))
        .unwrap_or("Max address space ?");
    println!(
        "vm.overcommit_memory = {}; {}",
        mode.trim(),
        as_limit.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    println!("{:>8} | {:>10} | {:>10}", "request", "System", "Tracking");
    let tracking = Tracking::new();
    for bits in [30, 33, 36, 40, 44, 46, 47, 48] {
        let layout = Layout::from_size_align(1usize << bits, 1).unwrap();
        let try_one = |a: &dyn GlobalAlloc| {
            // SAFETY: a non-zero layout; a served block is freed at once
            // with the same layout and allocator.
            unsafe {
                let p = a.alloc(layout);
                if p.is_null() {
                    "refused"
                } else {
                    a.dealloc(p, layout);
                    "served"
                }
            }
        };
        println!(
            "{:>8} | {:>10} | {:>10}",
            format!("2^{bits}"),
            try_one(&System),
            try_one(&tracking)
        );
    }
}
