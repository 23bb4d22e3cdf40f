//! [`Tracking`]: the global allocator. The system allocator underneath,
//! lazy reservations for huge requests, counts for the thread's [`Watch`],
//! and in limit mode an abort above a bound.
//!
//! [`Watch`]: crate::Watch

use std::{
    alloc::{GlobalAlloc, Layout, System},
    ffi::CStr,
    fmt::Write as _,
    ptr,
    sync::atomic::{AtomicUsize, Ordering},
};

use crate::{
    os::{self, Line},
    watch::{self, Served},
};

/// Requests of at least this many bytes (1 GiB) are served by a lazy
/// reservation (`mmap` with `MAP_NORESERVE` on Linux; elsewhere by the
/// system allocator): the pages are committed only when written, so a
/// buffer sized from a peer's claim costs address space, not memory.
pub const LAZY_FROM: usize = 1 << 30;

/// `limit` before [`Tracking::with_limit_from_env`] has read its variable.
const UNREAD: usize = 0;
/// `limit` when there is none.
const NONE: usize = usize::MAX;

/// The tracking global allocator.
///
/// Install it in a test binary (or a fuzz crate) with one line; it counts
/// allocations for [`Watch`](crate::Watch) and otherwise behaves as the
/// system allocator, except that requests of [`LAZY_FROM`] bytes or more
/// are reserved lazily and, in limit mode, requests above the limit abort.
///
/// ```
/// #[global_allocator]
/// static ALLOC: framecheck_alloc::Tracking = framecheck_alloc::Tracking::new();
/// # assert!(framecheck_alloc::installed());
/// ```
#[derive(Debug)]
pub struct Tracking {
    /// Bytes; [`NONE`], or [`UNREAD`] until `env` is read.
    limit: AtomicUsize,
    /// The variable holding the limit in MiB, and the default in bytes.
    env: Option<(&'static CStr, usize)>,
}

impl Tracking {
    /// Counts, serves huge requests lazily, never refuses what the system
    /// can give: the mode for tests.
    pub const fn new() -> Self {
        Tracking {
            limit: AtomicUsize::new(NONE),
            env: None,
        }
    }

    /// As [`Tracking::new`], and aborts the process on any single request
    /// above `bytes`, on any thread, after printing one line to stderr that
    /// starts with `framecheck-alloc: allocation of N bytes is over the
    /// limit`. The mode for fuzz targets: libFuzzer saves the input of an
    /// abort as a crash. A limit of 0 is taken as 1 byte.
    pub const fn with_limit(bytes: usize) -> Self {
        Tracking {
            limit: AtomicUsize::new(if bytes == 0 { 1 } else { bytes }),
            env: None,
        }
    }

    /// As [`Tracking::with_limit`], with the limit in MiB read from the
    /// environment variable `var` at the first allocation (`0` means no
    /// limit), or `default_bytes` when it is unset or not a number.
    ///
    /// ```
    /// #[global_allocator]
    /// static ALLOC: framecheck_alloc::Tracking =
    ///     framecheck_alloc::Tracking::with_limit_from_env(c"FUZZ_MALLOC_MB", 64 << 20);
    /// # let v: Vec<u8> = Vec::with_capacity(1 << 20);
    /// ```
    pub const fn with_limit_from_env(var: &'static CStr, default_bytes: usize) -> Self {
        Tracking {
            limit: AtomicUsize::new(UNREAD),
            env: Some((var, default_bytes)),
        }
    }

    /// The limit in bytes, reading the environment the first time.
    fn limit(&self) -> usize {
        let limit = self.limit.load(Ordering::Relaxed);
        if limit != UNREAD {
            return limit;
        }
        let (var, default) = self.env.unwrap_or((c"", NONE));
        let limit = match os::getenv(var).and_then(parse_mib) {
            Some(0) => NONE,
            Some(mib) => mib.saturating_mul(1 << 20),
            None => default,
        };
        self.limit.store(limit.max(1), Ordering::Relaxed);
        limit.max(1)
    }

    /// Aborts if `size` is over the limit.
    fn check_limit(&self, size: usize) {
        let limit = self.limit();
        if size <= limit {
            return;
        }
        let mut line = Line::new();
        let _ = write!(
            line,
            "framecheck-alloc: allocation of {size} bytes is over the limit of {limit} bytes"
        );
        if let Some((var, _)) = self.env {
            let _ = write!(
                line,
                " ({} MiB; set {} to change it)",
                limit >> 20,
                Shown(var)
            );
        }
        let _ = writeln!(
            line,
            "; a buffer sized from an untrusted length before its limit check? aborting"
        );
        os::write_stderr(line.as_bytes());
        std::process::abort();
    }

    /// Serves `layout`, lazily when it is huge.
    ///
    /// # Safety
    ///
    /// As [`GlobalAlloc::alloc`].
    unsafe fn serve(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        self.check_limit(layout.size());
        let (p, served) = if is_lazy(layout.size(), layout.align()) {
            let p = os::map_lazy(layout.size());
            (
                p,
                if p.is_null() {
                    Served::Refused
                } else {
                    Served::Lazy
                },
            )
        } else {
            // SAFETY: the caller's contract is ours.
            let p = unsafe {
                if zeroed {
                    System.alloc_zeroed(layout)
                } else {
                    System.alloc(layout)
                }
            };
            (
                p,
                if p.is_null() {
                    Served::Refused
                } else {
                    Served::System
                },
            )
        };
        if p.is_null() {
            refused(layout.size());
        }
        watch::on_request(layout.size(), signed(layout.size()), served);
        p
    }
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking::new()
    }
}

// SAFETY: every block is served either by `System` (and returned to it) or
// by a fresh anonymous mapping of at least the requested size, page aligned
// (so aligned for any `align <= PAGE`, the only ones `is_lazy` accepts),
// zeroed, and unmapped on `dealloc`. Which of the two served a block is a
// function of its layout alone, so `dealloc` and `realloc`, which receive the
// same layout, always return it to the right place. Nothing here unwinds: the
// bookkeeping is plain arithmetic on thread-local cells, and reports are
// written from a stack buffer.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { self.serve(layout, false) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract (lazy mappings are zeroed).
        unsafe { self.serve(layout, true) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_lazy(layout.size(), layout.align()) {
            // SAFETY: a block of this layout was served by `map_lazy`.
            unsafe { os::unmap(ptr, layout.size()) };
        } else {
            // SAFETY: a block of this layout was served by `System`.
            unsafe { System.dealloc(ptr, layout) };
        }
        watch::on_free(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.check_limit(new_size);
        let (old, align) = (layout.size(), layout.align());
        let delta = signed(new_size).saturating_sub(signed(old));
        let (old_lazy, new_lazy) = (is_lazy(old, align), is_lazy(new_size, align));
        let (p, served) = match (old_lazy, new_lazy) {
            (false, false) => {
                // SAFETY: forwarded contract; the block came from `System`.
                let p = unsafe { System.realloc(ptr, layout, new_size) };
                (p, Served::System)
            }
            (true, true) => {
                // SAFETY: the block is a mapping of `old` bytes.
                (unsafe { os::remap(ptr, old, new_size) }, Served::Lazy)
            }
            _ => {
                // SAFETY: `align` is a valid alignment and `new_size`, per
                // the contract, does not overflow with it.
                let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
                let (p, served) = if new_lazy {
                    (os::map_lazy(new_size), Served::Lazy)
                } else {
                    // SAFETY: a non-zero size, per the contract.
                    (unsafe { System.alloc(new_layout) }, Served::System)
                };
                if !p.is_null() {
                    // SAFETY: both blocks are live, distinct, and at least
                    // `min(old, new_size)` bytes long.
                    unsafe {
                        ptr::copy_nonoverlapping(ptr, p, old.min(new_size));
                        if old_lazy {
                            os::unmap(ptr, old);
                        } else {
                            System.dealloc(ptr, layout);
                        }
                    }
                }
                (p, served)
            }
        };
        let served = if p.is_null() { Served::Refused } else { served };
        if p.is_null() {
            refused(new_size);
        }
        watch::on_request(new_size, delta, served);
        p
    }
}

/// Whether a block of this size and alignment is (or was) served lazily.
fn is_lazy(size: usize, align: usize) -> bool {
    os::LAZY_SUPPORTED && size >= LAZY_FROM && align <= os::PAGE
}

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

/// Reports a request that could not be served, when a watch is on (the
/// caller may be a `try_reserve` that copes; then the line is the only
/// trace, and the watch's `refused` count).
fn refused(size: usize) {
    let errno = os::errno();
    let Some((fed, input, shown, total)) = watch::context() else {
        return;
    };
    let mut line = Line::new();
    let _ = write!(
        line,
        "framecheck-alloc: could not reserve {size} bytes (errno {errno}; RLIMIT_AS, \
         vm.overcommit_memory=2, or more than the address space) after the watched code was \
         given {fed} bytes; input ({total} bytes) starts with"
    );
    for b in &input[..shown] {
        let _ = write!(line, " {b:02x}");
    }
    let _ = writeln!(line);
    os::write_stderr(line.as_bytes());
}

/// A whole number of MiB.
fn parse_mib(text: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(text).ok()?;
    text.trim().parse().ok()
}

/// A `CStr` shown as text.
struct Shown(&'static CStr);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.to_str().unwrap_or("?"))
    }
}
