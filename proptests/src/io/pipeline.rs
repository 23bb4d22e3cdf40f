//! The round trip through tokio-util's own `FramedWrite` and `FramedRead`,
//! over an in-memory pipe whose two ends split, merge and stall I/O.

use std::{fmt::Debug, future::poll_fn, pin::Pin, time::Duration};

use futures_util::SinkExt;
use proptest::{
    strategy::Strategy,
    test_runner::{TestCaseError, TestError, TestRunner},
};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::{schedules, ChunkedReader, ChunkedWriter, Schedule};
use crate::TestableCodec;
use crate::{
    drive::quietly,
    failure::{frames as n_frames, side_by_side, Failure, FailureKind, Property},
};

/// Bytes the in-memory pipe holds before the writer waits.
const PIPE: usize = 4096;
/// Longest a case may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `frames` through `FramedWrite<ChunkedWriter<_>>`, an in-memory
/// pipe and `FramedRead<ChunkedReader<_>>`, with codecs from `make_codec`
/// and the two schedules, and checks that exactly `frames` arrive, in
/// order, with a clean end. One case, without a runner.
///
/// # Errors
///
/// A [`Failure`] naming the schedules: the encoder refused a frame, the
/// decoder erred or panicked, other frames arrived, or the case took more
/// than 10 seconds.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use framecheck::io::{framed_case, Schedule, Step};
/// use tokio_util::codec::LengthDelimitedCodec;
///
/// let frames = vec![Bytes::from_static(b"hello"), Bytes::new()];
/// let write = Schedule::new(vec![Step::Hold(3), Step::Chunk(2)]);
/// let read = Schedule::new(vec![Step::Chunk(1), Step::Pending]);
/// framed_case(LengthDelimitedCodec::new, &frames, &write, &read).unwrap();
/// ```
pub fn framed_case<C, I, F>(
    make_codec: F,
    frames: &[I],
    write: &Schedule,
    read: &Schedule,
) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds");
    let outcome = quietly(|| {
        runtime.block_on(async {
            let (a, b) = tokio::io::duplex(PIPE);
            let mut tx = FramedWrite::new(ChunkedWriter::new(a, write.clone()), make_codec());
            let mut rx = FramedRead::new(ChunkedReader::new(b, read.clone()), make_codec());
            let send = async {
                for (i, frame) in frames.iter().enumerate() {
                    tx.feed(frame.clone())
                        .await
                        .map_err(|e| (i, format!("{e:?}")))?;
                }
                tx.flush()
                    .await
                    .map_err(|e| (frames.len(), format!("{e:?}")))?;
                tx.get_mut()
                    .shutdown()
                    .await
                    .map_err(|e| (frames.len(), format!("{e:?}")))
            };
            let recv = async {
                let mut got = Vec::new();
                while got.len() <= frames.len() + 8 {
                    let next = poll_fn(|cx| futures_util::Stream::poll_next(Pin::new(&mut rx), cx));
                    match next.await {
                        Some(Ok(item)) => got.push(item),
                        Some(Err(e)) => return (got, Some(format!("{e:?}"))),
                        None => return (got, None),
                    }
                }
                (got, None)
            };
            tokio::time::timeout(TIMEOUT, async { tokio::join!(send, recv) }).await
        })
    });
    let schedules = format!("write schedule: {write}\nread schedule: {read}\n");
    let ((sent, (got, error)), panic) = match outcome {
        Ok(Ok(done)) => (done, None),
        Ok(Err(_elapsed)) => {
            return Err(Failure::new(
                FailureKind::Runaway,
                format!("the pipeline did not finish within {TIMEOUT:?}"),
                schedules,
            ))
        }
        Err(message) => ((Ok(()), (Vec::new(), None)), Some(message)),
    };
    if let Some(message) = panic {
        return Err(Failure::new(
            FailureKind::Panicked,
            format!("the codec panicked in the pipeline: {message}"),
            schedules,
        ));
    }
    if let Err((i, e)) = sent {
        if i < frames.len() {
            return Err(Failure::new(
                FailureKind::EncodeRefused { frame: i },
                format!("frame {i}: FramedWrite refused it: {e}"),
                schedules,
            ));
        }
    }
    let first_bad = got.iter().zip(frames).position(|(g, w)| g != w);
    if first_bad.is_none() && got.len() == frames.len() && error.is_none() {
        return Ok(());
    }
    let (kind, headline) = match (first_bad, &error) {
        (Some(i), _) => (
            FailureKind::WrongFrame { frame: i },
            format!("through FramedWrite and FramedRead, frame {i} came out different from the frame sent"),
        ),
        (None, Some(e)) => (
            FailureKind::DecodeError { at_eof: false },
            format!(
                "through FramedWrite and FramedRead, after {}, FramedRead returned an error: {e}",
                n_frames(got.len())
            ),
        ),
        (None, None) if got.len() < frames.len() => (
            FailureKind::MissingFrames {
                decoded: got.len(),
                expected: frames.len(),
            },
            format!(
                "through FramedWrite and FramedRead, the stream ended after {} of {}",
                got.len(),
                n_frames(frames.len())
            ),
        ),
        (None, None) => (
            FailureKind::ExtraFrames {
                decoded: got.len(),
                expected: frames.len(),
            },
            format!(
                "through FramedWrite and FramedRead, {} came out, {} sent",
                n_frames(got.len()),
                frames.len()
            ),
        ),
    };
    let left = crate::spec::texts(frames);
    let right = crate::spec::texts(&got);
    let same = |i: usize| matches!((got.get(i), frames.get(i)), (Some(g), Some(w)) if g == w);
    let body = format!(
        "{schedules}{}",
        side_by_side("sent", &left, "decoded", &right, &same)
    );
    Err(Failure::new(kind, headline, body)
        .with_property(Property::Framed)
        .with_case(&[], &[], left, right))
}

/// The round-trip property through tokio-util's `FramedWrite` and
/// `FramedRead` over an in-memory pipe, with [`schedules`] on both ends:
/// [`framed_case`] for frames from `frames` and generated schedules, the
/// minimal failing case returned. Runs proptest's default number of cases
/// (or `PROPTEST_CASES`); no persistence. [`Harness::check_framed_roundtrip`]
/// runs it with other settings (cases, seed).
///
/// [`Harness::check_framed_roundtrip`]: crate::Harness::check_framed_roundtrip
///
/// The synchronous [`check_roundtrip`](crate::check_roundtrip) aims its
/// cuts at headers and boundaries and finds more, faster; this one runs
/// the real async machinery (write buffering, back-pressure, wake-ups).
///
/// # Errors
///
/// The minimal failing case's [`Failure`].
///
/// # Examples
///
/// ```
/// use framecheck::{proptest::collection::vec, strategies::bodies_of};
/// use tokio_util::codec::LengthDelimitedCodec;
///
/// let frames = vec(bodies_of(0usize..500), 0..4);
/// framecheck::io::check_framed_roundtrip(LengthDelimitedCodec::new, frames).unwrap();
/// ```
pub fn check_framed_roundtrip<C, I, F, S>(make_codec: F, frames: S) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    crate::Harness::new().check_framed_roundtrip(make_codec, frames)
}

/// The framed property under `runner` (the harness's settings).
pub(crate) fn run_framed<C, I, F, S>(
    runner: &mut TestRunner,
    make_codec: F,
    frames: S,
) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    let case = |(frames, write, read): &(Vec<I>, Schedule, Schedule)| {
        framed_case(&make_codec, frames, write, read)
    };
    let result = runner.run(&(&frames, schedules(), schedules()), |v| {
        case(&v).map_err(|f| TestCaseError::fail(f.headline().to_owned()))
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(_, value)) => match case(&value) {
            Err(failure) => Err(failure),
            Ok(()) => Err(Failure::new(
                FailureKind::Nondeterministic,
                "a case failed once and passed when run again".to_owned(),
                format!("case: {value:?}\n"),
            )),
        },
        Err(TestError::Abort(reason)) => Err(Failure::new(
            FailureKind::Aborted,
            format!("proptest gave up: {reason}"),
            String::new(),
        )),
    }
}
