//! Without `#[global_allocator]`: the probe says so, and nothing is counted.

use framecheck_alloc::{installed, Watch};

#[test]
fn probe_says_not_installed() {
    assert!(!installed());
}

#[test]
fn a_watch_counts_nothing() {
    let watch = Watch::start();
    let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(4096));
    drop(v);
    assert_eq!(watch.finish().allocations, 0);
}
