//! The oracle's reduction keeps the time limit: a decoder that diverges on
//! the generated inputs and hangs on a shorter one found while reducing
//! gives a `Hung` failure naming that shorter input, instead of hanging the
//! test on the calling thread.

use std::{
    io,
    sync::{mpsc, Condvar, Mutex},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use framecheck::{proptest::collection::vec, strategies::bodies_of, FailureKind, Harness};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Closed until the test ends; a hanging decode waits on it.
static GATE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

fn open_gate() {
    *GATE.0.lock().unwrap() = true;
    GATE.1.notify_all();
}

/// Shortest stream that does not hang.
const SHORTEST: usize = 4;

/// Gives whatever it has as one frame (so it diverges whenever the reads
/// split a stream), and at the end of a stream of 1 to 3 bytes blocks
/// until the gate opens: the generated inputs (length-delimited frames of
/// at least 5 bytes) diverge, and only a reduced one hangs.
#[derive(Default)]
struct Whatever {
    seen: usize,
}

impl Decoder for Whatever {
    type Item = Vec<u8>;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
        self.seen += src.len();
        Ok((!src.is_empty()).then(|| src.split().to_vec()))
    }
    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Vec<u8>>> {
        if (1..SHORTEST).contains(&self.seen) {
            let mut open = GATE.0.lock().unwrap();
            while !*open {
                open = GATE.1.wait(open).unwrap();
            }
        }
        self.decode(src)
    }
}

impl Encoder<Bytes> for Whatever {
    type Error = io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
        LengthDelimitedCodec::new().encode(item, dst)
    }
}

#[test]
fn a_decoder_that_hangs_on_a_reduced_input_is_reported_hung() {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = Harness::new()
            .persistence(false)
            .seed(7)
            .cases(16)
            .time_limit(Duration::from_millis(100))
            .codec(Whatever::default)
            .check_oracle(vec(bodies_of(1..40), 1..=3));
        let _ = tx.send(result);
    });
    // Far longer than the run takes; the bound only keeps a regression
    // from hanging the suite.
    let result = rx.recv_timeout(Duration::from_secs(120));
    open_gate();
    let result = result.expect("the oracle hung: its reduction decoded outside the time limit");
    let failure = result.expect_err("a decoder that splits its frames by reads passed the oracle");
    assert_eq!(
        failure.kind(),
        &FailureKind::Hung { limit_ms: 100 },
        "{failure}"
    );
    let stream = failure.bytes();
    assert!(
        (1..SHORTEST).contains(&stream.len()),
        "the hang names an input it did not hang on: {stream:?}\n{failure}"
    );
}
