//! Decoding on a worker thread under a time limit, so a decoder that
//! hangs inside one `decode` call becomes a failure instead of a hung test
//! run.
//!
//! A Rust thread cannot be killed or cancelled from outside: a decoder
//! stuck in an endless loop keeps its thread (spinning, or blocked) until
//! the decoder returns or the test process exits. The harness bounds how
//! many it leaves behind: each property run of a [`Target`] has one worker
//! thread, and the first case that passes the time limit ends the run (the
//! worker is not given another job, every later case passes at once, and
//! the hang is the run's failure). So at most one thread is left behind per
//! property run that failed with [`FailureKind::Hung`]; the others end when
//! their run does. [`worker_threads`] counts the live ones.
//!
//! [`Target`]: crate::Target
//! [`FailureKind::Hung`]: crate::FailureKind::Hung

use std::{
    cell::Cell,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc::{self, Receiver, Sender, TryRecvError},
    },
    time::Duration,
};

use bytes::Bytes;

use crate::{
    case::probe_head,
    drive::{feed, ReadLimit, Run},
    framework::FrameDecoder,
};

/// Worker threads started and not yet ended.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The harness's worker threads alive now: one for each property run of a
/// [`Target`](crate::Target) in progress (in any thread of the process),
/// plus each one left behind by a case that hung, until its decoder
/// returns. A run that ends lets its thread go (the count drops shortly
/// after, once the thread has seen the run end); a hung one is left
/// behind, at most one per property run that failed with
/// [`FailureKind::Hung`](crate::FailureKind::Hung).
///
/// `tests/hung_threads.rs` runs hanging decoders and checks this count.
pub fn worker_threads() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// Counts a worker thread as alive until dropped (at the thread's end).
struct Alive;

impl Alive {
    fn new() -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Alive
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Times each side yields, polling, before it sleeps on its channel.
const YIELDS: u32 = 64;

/// The next job: polled a few times (cases come back to back), then waited
/// for; `None` when the property run is over.
fn next<T>(inbox: &Receiver<T>) -> Option<T> {
    for _ in 0..YIELDS {
        match inbox.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Empty) => std::thread::yield_now(),
            Err(TryRecvError::Disconnected) => return None,
        }
    }
    inbox.recv().ok()
}

/// One worker thread for one property run: runs jobs of type `J` with a
/// handler, one at a time, each under the time limit. After a job passed
/// the limit the worker takes no other (it is hung).
pub(crate) struct Watched<J, R> {
    jobs: Option<Sender<J>>,
    done: Receiver<R>,
    time_limit: Duration,
    hung: Cell<bool>,
}

impl<J: Send + 'static, R: Send + 'static> Watched<J, R> {
    /// A worker running `handle` on each job, each allowed `time_limit`,
    /// or `None` when no thread can be started.
    pub(crate) fn start(
        time_limit: Duration,
        mut handle: impl FnMut(J) -> R + Send + 'static,
    ) -> Option<Self> {
        let (jobs, inbox) = mpsc::channel::<J>();
        let (outbox, done) = mpsc::channel();
        let alive = Alive::new();
        std::thread::Builder::new()
            .name("framecheck-decoder".to_owned())
            .spawn(move || {
                let _alive = alive;
                while let Some(job) = next(&inbox) {
                    if outbox.send(handle(job)).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Watched {
            jobs: Some(jobs),
            done,
            time_limit,
            hung: Cell::new(false),
        })
    }

    /// Runs `job` on the worker: its result, or `None` when it did not
    /// finish within the time limit (or an earlier job did not).
    pub(crate) fn run(&self, job: J) -> Option<R> {
        if self.hung.get() {
            return None;
        }
        self.jobs.as_ref()?.send(job).ok()?;
        // Most cases take microseconds: yield a few times before sleeping
        // on the channel (a sleep and a wake-up cost far more per case).
        for _ in 0..YIELDS {
            match self.done.try_recv() {
                Ok(done) => return Some(done),
                Err(TryRecvError::Empty) => std::thread::yield_now(),
                Err(TryRecvError::Disconnected) => return None,
            }
        }
        match self.done.recv_timeout(self.time_limit) {
            Ok(done) => Some(done),
            Err(_) => {
                self.hung.set(true);
                None
            }
        }
    }
}

impl<J, R> Drop for Watched<J, R> {
    fn drop(&mut self) {
        // Closing the job channel ends the worker's loop (unless it hangs,
        // and then as soon as its job returns).
        self.jobs.take();
    }
}

enum Job<D> {
    /// Feed a stream ([`crate::drive::feed`]).
    Feed {
        decoder: D,
        stream: Bytes,
        read_ends: Vec<usize>,
        limit: ReadLimit,
        max_items: usize,
    },
    /// Find a frame's header end ([`crate::case::probe_head`] with two
    /// fresh decoders; `bytes == 0`: one call only).
    Probe {
        first: D,
        second: D,
        frame: Bytes,
        bytes: usize,
    },
}

enum Done<T, E> {
    Fed(Run<T, E>),
    Probed(Option<usize>),
}

fn handle<D: FrameDecoder>(job: Job<D>) -> Done<D::Item, D::Error> {
    match job {
        Job::Feed {
            mut decoder,
            stream,
            read_ends,
            limit,
            max_items,
        } => Done::Fed(feed(&mut decoder, &stream, &read_ends, limit, max_items)),
        Job::Probe {
            first,
            second,
            frame,
            bytes,
        } => {
            let decoders = std::cell::RefCell::new([Some(first), Some(second)]);
            let make = || {
                let mut d = decoders.borrow_mut();
                d[0].take()
                    .or_else(|| d[1].take())
                    .expect("two probes at most")
            };
            Done::Probed(probe_head(&make, &frame, bytes))
        }
    }
}

/// The decoding worker of one property run (feeding and header probes).
pub(crate) struct Worker<D: FrameDecoder>(Watched<Job<D>, Done<D::Item, D::Error>>);

impl<D> Worker<D>
where
    D: FrameDecoder + Send + 'static,
    D::Item: Send + 'static,
    D::Error: Send + 'static,
{
    /// A worker whose cases may take up to `time_limit` each, or `None`
    /// when no thread can be started (cases then run in line).
    pub(crate) fn start(time_limit: Duration) -> Option<Self> {
        Watched::start(time_limit, handle::<D>).map(Worker)
    }

    /// Feeds `stream` to `decoder` on the worker; `None` when it did not
    /// finish within the time limit (or an earlier case hung).
    pub(crate) fn feed(
        &self,
        decoder: D,
        stream: Bytes,
        read_ends: Vec<usize>,
        limit: ReadLimit,
        max_items: usize,
    ) -> Option<Run<D::Item, D::Error>> {
        match self.0.run(Job::Feed {
            decoder,
            stream,
            read_ends,
            limit,
            max_items,
        })? {
            Done::Fed(run) => Some(run),
            Done::Probed(_) => None,
        }
    }

    /// A frame's header end, probed on the worker with two fresh decoders
    /// (`None` when the probe did not finish within the time limit).
    pub(crate) fn probe(
        &self,
        first: D,
        second: D,
        frame: Bytes,
        bytes: usize,
    ) -> Option<Option<usize>> {
        match self.0.run(Job::Probe {
            first,
            second,
            frame,
            bytes,
        })? {
            Done::Probed(head) => Some(head),
            Done::Fed(_) => None,
        }
    }
}
