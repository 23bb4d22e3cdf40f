//! The thread-local counters and the [`Watch`] that turns them on.
//!
//! Every counter lives in a `thread_local!` with a constant initialiser and
//! no destructor: reading it from inside the allocator neither allocates
//! nor can fail, and each thread's allocations land in its own counters
//! (parallel test threads never pollute each other's figures).

use std::{cell::Cell, hint::black_box, marker::PhantomData};

/// How many bytes of the watched code's input are kept for the report
/// printed when a request cannot be served.
const INPUT_SHOWN: usize = 32;

/// What a [`Watch`] saw: the requests its thread made while it was alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Allocation and reallocation requests (refused ones included).
    pub allocations: u64,
    /// The largest single request, in bytes (a reallocation counts with
    /// its new size).
    pub largest: usize,
    /// The highest number of live bytes: allocated minus freed since the
    /// watch started (memory freed that was allocated before it lowers the
    /// count; the peak is never below 0).
    pub peak_live: usize,
    /// Live bytes now, on the same count.
    pub live: isize,
    /// Requests served by a lazy reservation (at least [`LAZY_FROM`] bytes).
    ///
    /// [`LAZY_FROM`]: crate::LAZY_FROM
    pub lazy: u64,
    /// Requests that could not be served (null returned).
    pub refused: u64,
}

/// How the request of a [`Violation`] was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Served {
    /// By the system allocator.
    System,
    /// By a lazy reservation: address space only, nothing committed.
    Lazy,
    /// Not at all: the address space (or `RLIMIT_AS`, or strict
    /// overcommit) had no room; the allocator returned null.
    Refused,
}

/// The first request that took a single allocation, or the live bytes,
/// above the budget set with [`Watch::set_budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation {
    /// Bytes requested.
    pub size: usize,
    /// Live bytes with this request counted.
    pub live: usize,
    /// The budget in force.
    pub budget: usize,
    /// What [`Watch::set_fed`] last said: the bytes the watched code had
    /// been given.
    pub fed: usize,
    /// How the request was served.
    pub served: Served,
}

impl Violation {
    /// Whether the request alone was over the budget (else only the live
    /// bytes were).
    pub fn single(&self) -> bool {
        self.size > self.budget
    }
}

/// Per-thread state; `depth == 0` means not watching.
struct Local {
    depth: Cell<u32>,
    paused: Cell<bool>,
    stats: Cell<Stats>,
    budget: Cell<usize>,
    fed: Cell<usize>,
    violation: Cell<Option<Violation>>,
    input: Cell<([u8; INPUT_SHOWN], usize, usize)>,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            depth: Cell::new(0),
            paused: Cell::new(false),
            stats: Cell::new(Stats {
                allocations: 0,
                largest: 0,
                peak_live: 0,
                live: 0,
                lazy: 0,
                refused: 0,
            }),
            budget: Cell::new(usize::MAX),
            fed: Cell::new(0),
            violation: Cell::new(None),
            input: Cell::new(([0; INPUT_SHOWN], 0, 0)),
        }
    };
}

/// Runs `f` on this thread's state if it is being watched (and not paused).
fn watched(f: impl FnOnce(&Local)) {
    let _ = LOCAL.try_with(|l| {
        if l.depth.get() > 0 && !l.paused.get() {
            f(l);
        }
    });
}

/// Called by the allocator for a request of `size` bytes that changes the
/// live bytes by `delta` (`size` for an allocation, `new - old` for a
/// reallocation).
pub(crate) fn on_request(size: usize, delta: isize, served: Served) {
    watched(|l| {
        let mut s = l.stats.get();
        s.allocations += 1;
        s.largest = s.largest.max(size);
        match served {
            Served::System => {}
            Served::Lazy => s.lazy += 1,
            Served::Refused => s.refused += 1,
        }
        // A refused request is counted as if served: that is what the
        // watched code asked for.
        let live = s.live.saturating_add(delta);
        let live_bytes = usize::try_from(live).unwrap_or(0);
        if served != Served::Refused {
            s.live = live;
            s.peak_live = s.peak_live.max(live_bytes);
        }
        let live = live_bytes;
        l.stats.set(s);
        let budget = l.budget.get();
        if (size > budget || live > budget) && l.violation.get().is_none() {
            l.violation.set(Some(Violation {
                size,
                live,
                budget,
                fed: l.fed.get(),
                served,
            }));
        }
    });
}

/// Called by the allocator when `size` bytes are freed.
pub(crate) fn on_free(size: usize) {
    watched(|l| {
        let mut s = l.stats.get();
        s.live = s.live.saturating_sub_unsigned(size);
        l.stats.set(s);
    });
}

/// If this thread is watched: the bytes fed so far and the start of the
/// input, for the report on a request that cannot be served.
pub(crate) fn context() -> Option<(usize, [u8; INPUT_SHOWN], usize, usize)> {
    LOCAL
        .try_with(|l| {
            (l.depth.get() > 0).then(|| {
                let (bytes, shown, total) = l.input.get();
                (l.fed.get(), bytes, shown, total)
            })
        })
        .ok()
        .flatten()
}

/// What a nested [`Watch`] saves of the one it interrupts.
#[derive(Clone, Copy)]
struct Saved {
    stats: Stats,
    budget: usize,
    fed: usize,
    violation: Option<Violation>,
}

/// Counts this thread's allocations while it is alive.
///
/// Not `Send`: the counters are the creating thread's. Watches nest: an
/// inner watch starts from zero, and its counts are added to the outer
/// one's when it ends. Creating, reading and ending a watch never
/// allocates.
///
/// Counting needs [`Tracking`](crate::Tracking) installed as the global
/// allocator; without it every count stays 0 (see [`installed`]).
///
/// ```
/// # #[global_allocator]
/// # static ALLOC: framecheck_alloc::Tracking = framecheck_alloc::Tracking::new();
/// use framecheck_alloc::Watch;
///
/// let watch = Watch::start();
/// watch.set_budget(1024);
/// let small = vec![0u8; 100];
/// assert!(watch.violation().is_none());
/// let big: Vec<u8> = Vec::with_capacity(4096);
/// let v = watch.violation().unwrap();
/// assert_eq!((v.size, v.budget, v.single()), (4096, 1024, true));
/// drop((small, big));
/// assert_eq!(watch.finish().peak_live, 4196);
/// ```
pub struct Watch {
    saved: Option<Saved>,
    _not_send: PhantomData<*const ()>,
}

impl Watch {
    /// Starts counting this thread's allocations, with no budget.
    pub fn start() -> Watch {
        LOCAL.with(|l| {
            let depth = l.depth.get();
            let saved = (depth > 0).then(|| Saved {
                stats: l.stats.get(),
                budget: l.budget.get(),
                fed: l.fed.get(),
                violation: l.violation.get(),
            });
            l.stats.set(Stats::default());
            l.budget.set(usize::MAX);
            l.fed.set(0);
            l.violation.set(None);
            l.input.set(([0; INPUT_SHOWN], 0, 0));
            l.depth.set(depth + 1);
            Watch {
                saved,
                _not_send: PhantomData,
            }
        })
    }

    /// From now on, the first request over `bytes` (alone, or in live bytes)
    /// is recorded as a [`Violation`]. Change it as the watched code is
    /// given more input.
    pub fn set_budget(&self, bytes: usize) {
        LOCAL.with(|l| l.budget.set(bytes));
    }

    /// Records how many bytes of input the watched code has been given, for
    /// [`Violation::fed`] and for the report on a request that cannot be
    /// served.
    pub fn set_fed(&self, bytes: usize) {
        LOCAL.with(|l| l.fed.set(bytes));
    }

    /// Keeps the first 32 bytes of `input` (copied), printed with the
    /// report on a request that cannot be served, so that even an abort
    /// says what input caused it.
    pub fn set_input(&self, input: &[u8]) {
        let mut shown = [0; INPUT_SHOWN];
        let n = input.len().min(INPUT_SHOWN);
        shown[..n].copy_from_slice(&input[..n]);
        LOCAL.with(|l| l.input.set((shown, n, input.len())));
    }

    /// The counts so far.
    pub fn stats(&self) -> Stats {
        LOCAL.with(|l| l.stats.get())
    }

    /// The first request over the budget, if any.
    pub fn violation(&self) -> Option<Violation> {
        LOCAL.with(|l| l.violation.get())
    }

    /// Runs `f` without counting its allocations (the watcher's own
    /// bookkeeping). Memory `f` allocates and the watched code later frees
    /// still lowers the live count.
    pub fn paused<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Resume(bool);
        impl Drop for Resume {
            fn drop(&mut self) {
                LOCAL.with(|l| l.paused.set(self.0));
            }
        }
        let _resume = Resume(LOCAL.with(|l| l.paused.replace(true)));
        f()
    }

    /// Stops counting and returns the counts.
    pub fn finish(self) -> Stats {
        self.stats()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = LOCAL.try_with(|l| {
            l.depth.set(l.depth.get().saturating_sub(1));
            let Some(outer) = self.saved else {
                return;
            };
            let inner = l.stats.get();
            let base = outer.stats.live;
            let peak = usize::try_from(base.saturating_add_unsigned(inner.peak_live)).unwrap_or(0);
            l.stats.set(Stats {
                allocations: outer.stats.allocations + inner.allocations,
                largest: outer.stats.largest.max(inner.largest),
                peak_live: outer.stats.peak_live.max(peak),
                live: base.saturating_add(inner.live),
                lazy: outer.stats.lazy + inner.lazy,
                refused: outer.stats.refused + inner.refused,
            });
            l.budget.set(outer.budget);
            l.fed.set(outer.fed);
            l.violation.set(outer.violation.or(l.violation.get()));
        });
    }
}

/// Whether [`Tracking`](crate::Tracking) is this program's global
/// allocator: makes one small probe allocation under a [`Watch`] and looks
/// whether it was counted. Code that relies on the counts calls this first,
/// so that a missing `#[global_allocator]` is an error, never a silent pass.
pub fn installed() -> bool {
    let watch = Watch::start();
    let probe: Vec<u8> = black_box(Vec::with_capacity(black_box(24)));
    drop(black_box(probe));
    watch.finish().allocations > 0
}
