//! Decoding on a worker thread under a time limit, so a decoder that
//! hangs inside one `decode` call becomes a failure instead of a hung test
//! run. A thread cannot be killed: a hung one is left behind (spinning or
//! blocked until the test process exits), and the property stops there.

use std::{
    cell::Cell,
    sync::mpsc::{self, Receiver, Sender, TryRecvError},
    time::Duration,
};

use bytes::Bytes;

use crate::{
    case::probe_head,
    drive::{feed, ReadLimit, Run},
    framework::FrameDecoder,
};

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

/// One worker thread for one property run.
pub(crate) struct Worker<D: FrameDecoder> {
    jobs: Option<Sender<Job<D>>>,
    done: Receiver<Done<D::Item, D::Error>>,
    time_limit: Duration,
    hung: Cell<bool>,
}

impl<D> Worker<D>
where
    D: FrameDecoder + Send + 'static,
    D::Item: Send + 'static,
    D::Error: Send + 'static,
{
    /// A worker whose cases may take up to `time_limit` each, or `None`
    /// when no thread can be started (cases then run in line).
    pub(crate) fn start(time_limit: Duration) -> Option<Self> {
        let (jobs, inbox) = mpsc::channel::<Job<D>>();
        let (outbox, done) = mpsc::channel();
        std::thread::Builder::new()
            .name("framecheck-decoder".to_owned())
            .spawn(move || {
                while let Some(job) = next(&inbox) {
                    let done = match job {
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
                    };
                    if outbox.send(done).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Worker {
            jobs: Some(jobs),
            done,
            time_limit,
            hung: Cell::new(false),
        })
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
        match self.run(Job::Feed {
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
        match self.run(Job::Probe {
            first,
            second,
            frame,
            bytes,
        })? {
            Done::Probed(head) => Some(head),
            Done::Fed(_) => None,
        }
    }

    fn run(&self, job: Job<D>) -> Option<Done<D::Item, D::Error>> {
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

impl<D: FrameDecoder> Drop for Worker<D> {
    fn drop(&mut self) {
        // Closing the job channel ends the worker's loop (unless it hangs).
        self.jobs.take();
    }
}
