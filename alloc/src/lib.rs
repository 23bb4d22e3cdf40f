//! A tracking global allocator for tests and fuzz targets: how much memory
//! a piece of code asks for, on one thread, while it is watched.
//!
//! # Why this crate uses `unsafe`
//!
//! It is the only crate of the workspace that may. Implementing
//! [`GlobalAlloc`](std::alloc::GlobalAlloc) is `unsafe` by definition, and
//! serving a huge request without committing memory needs `mmap(2)` with
//! `MAP_NORESERVE`, which only `libc` offers. The `unsafe` code is confined
//! to two modules (the allocator and the system calls); everything a user
//! touches ([`Watch`], [`Stats`], [`installed`]) is safe.
//!
//! # Install it (one line per test binary)
//!
//! ```
//! #[global_allocator]
//! static ALLOC: framecheck_alloc::Tracking = framecheck_alloc::Tracking::new();
//!
//! let watch = framecheck_alloc::Watch::start();
//! let v: Vec<u64> = Vec::with_capacity(1000);
//! let stats = watch.finish();
//! # drop(v);
//! assert!(framecheck_alloc::installed());
//! assert_eq!(stats.largest, 8000);
//! ```
//!
//! # What it counts
//!
//! Only allocations made **by the watching thread** while its [`Watch`] is
//! alive: the counters are thread-local, so test threads running in
//! parallel (libtest's default) never see each other's allocations, and
//! threads the watched code spawns are not counted. [`Stats`] holds the
//! largest single request, the peak of live bytes (allocated minus freed
//! since the watch started) and the number of requests. A budget
//! ([`Watch::set_budget`]) records the first request that takes a single
//! allocation or the live bytes above it ([`Violation`]).
//!
//! # Huge requests do not take the process down
//!
//! [`Tracking::new`] serves any request of [`LAZY_FROM`] bytes or more
//! (1 GiB) with an anonymous `mmap` and `MAP_NORESERVE` (Linux): address
//! space only, no memory committed until a page is written. A decoder that
//! calls `Vec::with_capacity(n)` with `n` from a peer's count gets its
//! buffer, writes only what the peer really sent, and the test reports the
//! request instead of aborting with "memory allocation of 3200000000000
//! bytes failed". Measured limits (see the crate README):
//!
//! - Linux, `vm.overcommit_memory = 0` (the default) or `1`: requests up to
//!   the free address space (about 128 TiB on x86-64) are served.
//! - Under `RLIMIT_AS` (`ulimit -v`), or with `vm.overcommit_memory = 2`,
//!   a request above the limit cannot be reserved at all. The allocator
//!   then prints what was asked, how many bytes the watched code had been
//!   given and the start of its input, and returns null: a caller using
//!   `try_reserve` gets an error, any other gets Rust's allocation-failure
//!   abort.
//!
//! # Limit mode, for fuzzing
//!
//! [`Tracking::with_limit`] and [`Tracking::with_limit_from_env`] abort the
//! process (after a one-line report on stderr) on any single allocation
//! above a bound, on every thread: libFuzzer turns the abort into a crash
//! with its input saved. This is what libFuzzer's `-malloc_limit_mb` does,
//! without needing a sanitizer's malloc hooks, so fuzz targets built with
//! `-s none` (several times faster than AddressSanitizer) still catch
//! buffers sized from an untrusted length.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

#[allow(unsafe_code)]
mod os;
#[allow(unsafe_code)]
mod tracking;
mod watch;

pub use crate::tracking::{Tracking, LAZY_FROM};
pub use crate::watch::{installed, Served, Stats, Violation, Watch};

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
