//! Decoding on a worker thread under a time limit, so a decoder that
//! hangs inside one `decode` call becomes a failure instead of a hung test
//! run. A thread cannot be killed: a hung one is left behind (spinning or
//! blocked until the test process exits), and the property stops there.

use std::{
    cell::Cell,
    sync::mpsc::{self, Receiver, Sender},
    time::Duration,
};

use bytes::Bytes;

use crate::{
    drive::{feed, ReadLimit, Run},
    framework::FrameDecoder,
};

struct Job<D> {
    decoder: D,
    stream: Bytes,
    read_ends: Vec<usize>,
    limit: ReadLimit,
    max_items: usize,
}

/// One worker thread for one property run.
pub(crate) struct Worker<D: FrameDecoder> {
    jobs: Option<Sender<Job<D>>>,
    done: Receiver<Run<D::Item, D::Error>>,
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
                for mut job in inbox {
                    let run = feed(
                        &mut job.decoder,
                        &job.stream,
                        &job.read_ends,
                        job.limit,
                        job.max_items,
                    );
                    if outbox.send(run).is_err() {
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
        if self.hung.get() {
            return None;
        }
        let job = Job {
            decoder,
            stream,
            read_ends,
            limit,
            max_items,
        };
        self.jobs.as_ref()?.send(job).ok()?;
        match self.done.recv_timeout(self.time_limit) {
            Ok(run) => Some(run),
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
