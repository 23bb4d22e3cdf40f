//! The `transport` fuzz target: arbitrary messages through each framing
//! strategy that preserves message boundaries, over an in-memory duplex
//! stream whose reads and writes are split and merged by the harness's
//! adapters. The sleep strategy is broken by design and is not fuzzed.

use std::{cell::RefCell, fmt, time::Duration};

use arbitrary::Arbitrary;
use bytes::Bytes;
use framecheck_codec::{
    strategy::{Conn, Framing},
    CodecError,
};
use tokio::{io::duplex, runtime::Runtime};

use framecheck::io::{ChunkedReader, ChunkedWriter, Schedule, Step};

/// How long one case may take before it counts as a stall (under
/// libFuzzer's `-timeout` of 10 s in `ci/fuzz.sh`, so the report says why).
const STALL: Duration = Duration::from_secs(5);

/// One conversation: a framing, the messages, and how I/O is cut.
#[derive(Debug, Clone, Arbitrary)]
pub struct TransportCase {
    /// The framing both ends use.
    pub framing: FuzzFraming,
    /// The messages sent, in order.
    pub messages: Vec<Vec<u8>>,
    /// Send with `feed` and one `flush` at the end (header-prefixed
    /// framings buffer small messages), rather than `send` each.
    pub feed: bool,
    /// The sender's writes (`Interrupted` steps become `Pending`).
    pub writes: Schedule,
    /// The receiver's reads (`Interrupted` steps become `Pending`).
    pub reads: Schedule,
    /// The duplex stream's buffer size (at least 1).
    pub capacity: u16,
}

/// The framings that must deliver every message as sent.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum FuzzFraming {
    /// [`Framing::TwoSend`], with or without the acknowledgement byte.
    TwoSend {
        /// Wait for the reader's acknowledgement between the two writes.
        ack: bool,
    },
    /// [`Framing::Length`].
    Length,
    /// [`Framing::JsonHeader`].
    JsonHeader,
}

impl FuzzFraming {
    /// The strategy's framing.
    pub fn framing(self) -> Framing {
        match self {
            FuzzFraming::TwoSend { ack } => Framing::TwoSend {
                ack,
                nodelay: false,
            },
            FuzzFraming::Length => Framing::Length,
            FuzzFraming::JsonHeader => Framing::JsonHeader,
        }
    }
}

/// How a conversation went wrong.
#[derive(Debug)]
pub enum TransportFailure {
    /// Message `index` arrived different from what was sent.
    Mismatch {
        /// Which message.
        index: usize,
        /// Its length as sent.
        sent: usize,
        /// Its length as received.
        received: usize,
    },
    /// More messages arrived than were sent.
    Extra {
        /// How many were sent.
        sent: usize,
    },
    /// The stream ended cleanly after fewer messages than were sent.
    Missing {
        /// How many were sent.
        sent: usize,
        /// How many arrived.
        received: usize,
    },
    /// Sending failed.
    Send(CodecError),
    /// Receiving failed after this many messages.
    Recv {
        /// Messages received before the error.
        received: usize,
        /// The error.
        error: CodecError,
    },
    /// Nothing finished within the stall timeout.
    Stalled,
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportFailure::Mismatch {
                index,
                sent,
                received,
            } => write!(
                f,
                "message {index} ({sent} bytes sent) arrived as {received} different bytes"
            ),
            TransportFailure::Extra { sent } => {
                write!(f, "more messages arrived than the {sent} sent")
            }
            TransportFailure::Missing { sent, received } => write!(
                f,
                "stream ended cleanly after {received} of {sent} messages"
            ),
            TransportFailure::Send(e) => write!(f, "send failed: {e}"),
            TransportFailure::Recv { received, error } => {
                write!(f, "receive failed after {received} messages: {error}")
            }
            TransportFailure::Stalled => write!(f, "no progress within {STALL:?}"),
        }
    }
}

impl std::error::Error for TransportFailure {}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

fn no_interrupts(schedule: &Schedule) -> Schedule {
    let steps = schedule.steps().iter().map(|s| match s {
        Step::Interrupted => Step::Pending,
        other => *other,
    });
    Schedule::new(steps.collect())
}

/// Runs the conversation on a current-thread runtime (one per thread,
/// reused) and checks that exactly the messages sent arrive, in order, then
/// a clean end.
///
/// # Errors
///
/// A [`TransportFailure`] saying what went wrong.
///
/// # Panics
///
/// If the runtime cannot be built.
///
/// ```
/// use framecheck::io::Schedule;
/// use framecheck_codec_fuzz::transport::{check, FuzzFraming, TransportCase};
///
/// let case = TransportCase {
///     framing: FuzzFraming::TwoSend { ack: true },
///     messages: vec![b"hello".to_vec(), vec![], vec![7; 300]],
///     feed: false,
///     writes: Schedule::one_byte(),
///     reads: Schedule::one_byte(),
///     capacity: 3,
/// };
/// check(&case).unwrap();
/// ```
pub fn check(case: &TransportCase) -> Result<(), TransportFailure> {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let runtime = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime builds")
        });
        runtime.block_on(async {
            tokio::time::timeout(STALL, converse(case))
                .await
                .unwrap_or(Err(TransportFailure::Stalled))
        })
    })
}

async fn converse(case: &TransportCase) -> Result<(), TransportFailure> {
    let framing = case.framing.framing();
    let (a, b) = duplex(usize::from(case.capacity).max(1));
    let mut sender = Conn::new(ChunkedWriter::new(a, no_interrupts(&case.writes)), framing);
    let mut receiver = Conn::new(ChunkedReader::new(b, no_interrupts(&case.reads)), framing);
    let feed = case.feed && matches!(framing, Framing::Length | Framing::JsonHeader);
    let send = async {
        for msg in &case.messages {
            if feed {
                sender.feed(msg).await?;
            } else {
                sender.send(msg).await?;
            }
        }
        sender.shutdown().await
    };
    let recv = async {
        let mut got: Vec<Bytes> = Vec::new();
        loop {
            match receiver.recv().await {
                Ok(Some(msg)) if got.len() < case.messages.len() => got.push(msg),
                Ok(Some(_)) => return Err(TransportFailure::Extra { sent: got.len() }),
                Ok(None) => return Ok(got),
                Err(error) => {
                    let received = got.len();
                    return Err(TransportFailure::Recv { received, error });
                }
            }
        }
    };
    let (sent, received) = tokio::join!(send, recv);
    sent.map_err(TransportFailure::Send)?;
    let received = received?;
    for (index, (sent, got)) in case.messages.iter().zip(&received).enumerate() {
        if sent[..] != got[..] {
            let (sent, received) = (sent.len(), got.len());
            return Err(TransportFailure::Mismatch {
                index,
                sent,
                received,
            });
        }
    }
    if received.len() < case.messages.len() {
        let (sent, received) = (case.messages.len(), received.len());
        return Err(TransportFailure::Missing { sent, received });
    }
    Ok(())
}

/// [`check`], panicking with the failure: the body of the `transport` fuzz
/// target.
///
/// # Panics
///
/// When [`check`] fails.
pub fn run(case: &TransportCase) {
    if let Err(failure) = check(case) {
        panic!("transport {:?}: {failure}", case.framing.framing());
    }
}
