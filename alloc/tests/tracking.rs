//! The tracking allocator installed: counts per thread, budgets, nesting,
//! and huge requests served without committing memory.

use std::{hint::black_box, process::Command};

use framecheck_alloc::{installed, Served, Tracking, Watch, LAZY_FROM};

#[global_allocator]
static ALLOC: Tracking = Tracking::new();

#[test]
fn probe_sees_the_allocator() {
    assert!(installed());
}

#[test]
fn counts_largest_request_and_peak_live_bytes() {
    let watch = Watch::start();
    let a: Vec<u8> = black_box(Vec::with_capacity(1000));
    let b: Vec<u8> = black_box(Vec::with_capacity(3000));
    drop(a);
    let c: Vec<u8> = black_box(Vec::with_capacity(500));
    let stats = watch.stats();
    drop((b, c));
    let end = watch.finish();
    assert_eq!(stats.allocations, 3);
    assert_eq!(stats.largest, 3000);
    assert_eq!(stats.peak_live, 4000);
    assert_eq!(stats.live, 3500);
    assert_eq!(end.live, 0);
}

#[test]
fn reallocation_counts_its_new_size_and_growth() {
    let mut v: Vec<u8> = Vec::with_capacity(100);
    let watch = Watch::start();
    v.reserve_exact(1000);
    let stats = watch.finish();
    assert_eq!((stats.allocations, stats.largest), (1, 1000));
    assert_eq!(
        stats.live, 900,
        "the 100 bytes from before the watch are not counted"
    );
}

#[test]
fn other_threads_allocations_are_not_counted() {
    let watch = Watch::start();
    std::thread::scope(|s| {
        s.spawn(|| black_box(vec![0u8; 1 << 20]));
    });
    let stats = watch.finish();
    assert!(stats.largest < 1 << 20, "{stats:?}");
}

#[test]
fn budget_records_the_first_request_over_it() {
    let watch = Watch::start();
    watch.set_budget(10_000);
    watch.set_fed(7);
    let a: Vec<u8> = black_box(Vec::with_capacity(6000));
    assert_eq!(watch.violation(), None);
    let b: Vec<u8> = black_box(Vec::with_capacity(6000));
    let v = watch.violation().expect("live bytes over the budget");
    assert_eq!((v.size, v.live, v.budget, v.fed), (6000, 12_000, 10_000, 7));
    assert!(!v.single());
    let c: Vec<u8> = black_box(Vec::with_capacity(20_000));
    assert_eq!(watch.violation(), Some(v), "the first one is kept");
    drop((a, b, c));
}

#[test]
fn paused_allocations_are_not_counted() {
    let watch = Watch::start();
    let kept = watch.paused(|| black_box(vec![1u8; 5000]));
    assert_eq!(watch.stats().allocations, 0);
    drop(kept);
    assert_eq!(watch.finish().live, -5000);
}

#[test]
fn nested_watches_add_up() {
    let outer = Watch::start();
    let a: Vec<u8> = black_box(Vec::with_capacity(100));
    let inner = Watch::start();
    let b: Vec<u8> = black_box(Vec::with_capacity(400));
    assert_eq!(inner.finish().largest, 400);
    let stats = outer.finish();
    assert_eq!(
        (stats.allocations, stats.largest, stats.peak_live),
        (2, 400, 500)
    );
    drop((a, b));
}

/// A claim of 2^40 bytes (1 TiB): served as a reservation, written where
/// data really arrives, grown (moved without copying) and freed; the test
/// process survives. Needs `vm.overcommit_memory` 0 or 1 and no
/// `RLIMIT_AS` below 2 TiB (the defaults).
#[test]
fn a_terabyte_request_is_reserved_not_committed() {
    let watch = Watch::start();
    watch.set_budget(1 << 20);
    let mut v: Vec<u8> = Vec::with_capacity(1 << 40);
    v.extend_from_slice(b"only what arrived");
    v.reserve_exact((1 << 41) - v.len());
    assert_eq!(&v[..4], b"only");
    let violation = watch.violation().expect("over the budget");
    assert_eq!((violation.size, violation.served), (1 << 40, Served::Lazy));
    drop(v);
    let stats = watch.finish();
    assert_eq!((stats.largest, stats.lazy, stats.refused), (1 << 41, 2, 0));
    assert_eq!(stats.live, 0);
}

#[test]
fn lazy_and_system_blocks_move_between_each_other() {
    let mut v: Vec<u8> = Vec::with_capacity(1000);
    v.extend_from_slice(b"abc");
    v.reserve_exact(LAZY_FROM);
    assert_eq!(v, b"abc");
    v.shrink_to_fit();
    assert_eq!(v, b"abc");
    let zeroed = vec![0u8; LAZY_FROM];
    assert_eq!(zeroed[LAZY_FROM - 1], 0);
}

/// Under `RLIMIT_AS` a claim above the limit cannot even be reserved: the
/// allocator says what was asked and after how many bytes, and Rust's
/// allocation-failure handler aborts. Measured in a child process (this test
/// binary, re-run with `ulimit -v`).
#[test]
fn under_rlimit_as_a_claim_above_it_is_reported_then_aborts() {
    if std::env::var_os("FRAMECHECK_ALLOC_CHILD").is_some() {
        let watch = Watch::start();
        watch.set_fed(15);
        watch.set_input(b"*100000000000\r\n");
        let v: Vec<u8> = Vec::with_capacity(1 << 40);
        drop(v);
        drop(watch);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 4194304 && exec "$0" "$@""#)
        .arg(exe)
        .args([
            "--exact",
            "under_rlimit_as_a_claim_above_it_is_reported_then_aborts",
            "--test-threads=1",
        ])
        .env("FRAMECHECK_ALLOC_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("framecheck-alloc: could not reserve 1099511627776 bytes")
            && stderr.contains("given 15 bytes; input (15 bytes) starts with 2a 31 30"),
        "{stderr}"
    );
    assert!(
        stderr.contains("memory allocation of 1099511627776 bytes failed"),
        "{stderr}"
    );
}
