//! The allocation limit of every fuzz target that links this library:
//! framecheck-alloc's tracking allocator in limit mode. Any single
//! allocation above `FUZZ_MALLOC_MB` MiB (default 64, as `ci/fuzz.sh`'s
//! `-malloc_limit_mb`; `0` lifts it) prints
//! `framecheck-alloc: allocation of N bytes is over the limit of M bytes`
//! and aborts, which libFuzzer records as a crash with its input.
//!
//! libFuzzer's own `-malloc_limit_mb` sees allocations only through a
//! sanitizer's malloc hooks, so without AddressSanitizer (`cargo fuzz build
//! -s none`, several times faster) it never fires, and a buffer sized from
//! an untrusted length is reserved lazily by the system allocator and goes
//! unnoticed. This allocator catches it in every build. Under ASan both
//! limits apply; this one, checked before the request reaches `malloc`,
//! fires first.
//!
//! A target gets the limit by linking this library: any `use
//! framecheck_fuzz::…` does (`use framecheck_fuzz as _;` when nothing else
//! is needed).

/// Bytes allowed in one allocation when `FUZZ_MALLOC_MB` is unset.
pub const DEFAULT_LIMIT: usize = 64 << 20;

#[global_allocator]
static ALLOC: framecheck_alloc::Tracking =
    framecheck_alloc::Tracking::with_limit_from_env(c"FUZZ_MALLOC_MB", DEFAULT_LIMIT);
