//! The round trip through tokio-util's own `FramedWrite` and `FramedRead`,
//! over an in-memory pipe whose two ends split, merge and stall I/O.
//!
//! ```text
//! frames ─▶ FramedWrite ─▶ ChunkedWriter ─▶ duplex pipe ─▶ ChunkedReader ─▶ FramedRead ─▶ items
//!           (encoder)      (write schedule)  (4 KiB)       (read schedule)   (decoder)
//! ```
//!
//! Codecs enter through the traits every property uses ([`FrameEncoder`],
//! [`FrameDecoder`]), adapted to tokio-util's: an asynchronous-codec
//! decoder (in `Async`) keeps its own framework's end-of-stream rule inside
//! tokio-util's `FramedRead`. [`Harness::check_framed_roundtrip`] and
//! [`Target::check_framed_roundtrip`] run it under proptest.
//!
//! [`Harness::check_framed_roundtrip`]: crate::Harness::check_framed_roundtrip
//! [`Target::check_framed_roundtrip`]: crate::Target::check_framed_roundtrip

use std::{fmt, fmt::Debug, future::poll_fn, pin::Pin, time::Duration};

use bytes::BytesMut;
use futures_util::SinkExt;
use proptest::strategy::Strategy;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

use super::{ChunkedReader, ChunkedWriter, Schedule};
use crate::TestableCodec;
use crate::{
    drive::quietly,
    failure::{frames as n_frames, side_by_side, Failure, FailureKind, Property},
    framework::{EofRule, FrameDecoder, FrameEncoder},
    spec::{merge_items, texts, Merge},
};

/// Bytes the in-memory pipe holds before the writer waits.
const PIPE: usize = 4096;
/// Longest a case may take when no time limit is set.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// An error of the pipeline: the codec's, or the transport's.
pub(crate) enum PipeError<E> {
    Codec(E),
    Io(std::io::Error),
}

impl<E> From<std::io::Error> for PipeError<E> {
    fn from(error: std::io::Error) -> Self {
        PipeError::Io(error)
    }
}

impl<E: Debug> Debug for PipeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipeError::Codec(e) => e.fmt(f),
            PipeError::Io(e) => e.fmt(f),
        }
    }
}

/// A [`FrameEncoder`] as a tokio-util `Encoder` (whose error must come
/// from `io::Error`).
struct AsEncoder<E>(E);

impl<I, E: FrameEncoder<I>> Encoder<I> for AsEncoder<E> {
    type Error = PipeError<E::Error>;

    fn encode(&mut self, item: I, dst: &mut BytesMut) -> Result<(), Self::Error> {
        self.0.encode_frame(item, dst).map_err(PipeError::Codec)
    }
}

/// A [`FrameDecoder`] as a tokio-util `Decoder`, ending the stream by its
/// own framework's rule (as [`crate::drive`] does).
struct AsDecoder<D>(D);

impl<D: FrameDecoder> Decoder for AsDecoder<D> {
    type Item = D::Item;
    type Error = PipeError<D::Error>;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<D::Item>, Self::Error> {
        self.0.decode_frame(src).map_err(PipeError::Codec)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<D::Item>, Self::Error> {
        let step = match D::EOF_RULE {
            EofRule::TokioUtil => self.0.decode_frame_eof(src),
            EofRule::AsynchronousCodec => match self.0.decode_frame(src) {
                Ok(None) if src.is_empty() => Ok(None),
                Ok(None) => match self.0.decode_frame_eof(src) {
                    Ok(None) if !src.is_empty() => match D::leftover_error() {
                        Some(error) => Err(error),
                        None => Ok(None),
                    },
                    other => other,
                },
                other => other,
            },
        };
        step.map_err(PipeError::Codec)
    }
}

/// What came out of one run of the pipeline.
pub(crate) struct Piped<T> {
    /// The items `FramedRead` returned, in order.
    got: Vec<T>,
    /// The error `FramedRead` returned, if any (its `Debug` text).
    read_error: Option<String>,
    /// The frame `FramedWrite` refused (or `frames.len()` for a failed
    /// flush or shutdown), and the error's `Debug` text.
    refused: Option<(usize, String)>,
    /// A panic of the codec (or of making it).
    panic: Option<String>,
    /// The pipeline did not finish within its timeout.
    stalled: bool,
}

impl<T> Piped<T> {
    /// A run that did not start: making the codec panicked.
    pub(crate) fn panicked(message: String) -> Self {
        Piped {
            got: Vec::new(),
            read_error: None,
            refused: None,
            panic: Some(message),
            stalled: false,
        }
    }
}

/// Sends `frames` through `FramedWrite<ChunkedWriter<_>>` with `encoder`,
/// the pipe and `FramedRead<ChunkedReader<_>>` with `decoder`, the two
/// ends following `write` and `read`; stops reading after `max_items`
/// items, and the whole run after `timeout`. Catches panics.
pub(crate) fn pipe<I, E, D>(
    encoder: E,
    decoder: D,
    frames: Vec<I>,
    write: &Schedule,
    read: &Schedule,
    timeout: Duration,
    max_items: usize,
) -> Piped<D::Item>
where
    E: FrameEncoder<I>,
    D: FrameDecoder,
    D::Error: Debug,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds");
    let n = frames.len();
    let outcome = quietly(|| {
        runtime.block_on(async {
            let (a, b) = tokio::io::duplex(PIPE);
            let mut tx = FramedWrite::new(ChunkedWriter::new(a, write.clone()), AsEncoder(encoder));
            let mut rx = FramedRead::new(ChunkedReader::new(b, read.clone()), AsDecoder(decoder));
            let send = async move {
                for (i, frame) in frames.into_iter().enumerate() {
                    tx.feed(frame).await.map_err(|e| (i, format!("{e:?}")))?;
                }
                tx.flush().await.map_err(|e| (n, format!("{e:?}")))?;
                tx.get_mut()
                    .shutdown()
                    .await
                    .map_err(|e| (n, format!("{e:?}")))
            };
            let recv = async {
                let mut got = Vec::new();
                while got.len() < max_items {
                    let next = poll_fn(|cx| futures_util::Stream::poll_next(Pin::new(&mut rx), cx));
                    match next.await {
                        Some(Ok(item)) => got.push(item),
                        Some(Err(e)) => return (got, Some(format!("{e:?}"))),
                        None => return (got, None),
                    }
                }
                (got, None)
            };
            tokio::time::timeout(timeout, async { tokio::join!(send, recv) }).await
        })
    });
    match outcome {
        Ok(Ok((sent, (got, read_error)))) => Piped {
            got,
            read_error,
            refused: sent.err(),
            panic: None,
            stalled: false,
        },
        Ok(Err(_elapsed)) => Piped {
            got: Vec::new(),
            read_error: None,
            refused: None,
            panic: None,
            stalled: true,
        },
        Err(message) => Piped::panicked(message),
    }
}

/// How long a pipeline case may take, and what passing it is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    /// The harness's time limit (a [`FailureKind::Hung`] failure).
    Time(Duration),
    /// No time limit: the pipeline's own [`TIMEOUT`] (a
    /// [`FailureKind::Runaway`] failure).
    None,
}

impl Limit {
    /// The timeout inside the pipeline.
    pub(crate) fn timeout(self) -> Duration {
        match self {
            Limit::Time(limit) => limit,
            Limit::None => TIMEOUT,
        }
    }
}

fn schedules_text(write: &Schedule, read: &Schedule) -> String {
    format!("write schedule: {write}\nread schedule: {read}\n")
}

/// The failure of a case that did not finish in time: the codec hung
/// inside a call (the worker did not come back) or the pipeline stalled.
pub(crate) fn hung<I: Debug>(
    sent: &[I],
    write: &Schedule,
    read: &Schedule,
    limit: Limit,
) -> Failure {
    let wait = limit.timeout();
    let kind = match limit {
        Limit::Time(limit) => FailureKind::Hung {
            limit_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        },
        Limit::None => FailureKind::Runaway,
    };
    let left = texts(sent);
    let body = format!(
        "{}{}",
        schedules_text(write, read),
        side_by_side("sent", &left, "decoded", &[], &|_| false)
    );
    Failure::new(
        kind,
        format!(
            "through FramedWrite and FramedRead, the case did not finish within {wait:?}: the \
             codec hangs inside a call (its thread cannot be stopped and is left behind) or the \
             pipeline stalled"
        ),
        body,
    )
    .with_property(Property::Framed)
    .with_case(&[], &[], left, Vec::new())
}

/// The verdict on one pipeline run: exactly `sent` came out (after
/// `merge`, compared by `same`), in order, with a clean end.
pub(crate) fn judge<I: Debug, T: Debug>(
    piped: Piped<T>,
    sent: &[I],
    same: &dyn Fn(&T, &I) -> bool,
    merge: Option<Merge<'_, T>>,
    write: &Schedule,
    read: &Schedule,
    limit: Limit,
) -> Result<(), Failure> {
    let schedules = schedules_text(write, read);
    if piped.stalled {
        return Err(hung(sent, write, read, limit));
    }
    if let Some(message) = piped.panic {
        return Err(Failure::new(
            FailureKind::Panicked,
            format!("the codec panicked in the pipeline: {message}"),
            schedules,
        )
        .with_property(Property::Framed));
    }
    if let Some((i, e)) = &piped.refused {
        if *i < sent.len() {
            return Err(Failure::new(
                FailureKind::EncodeRefused { frame: *i },
                format!("frame {i}: FramedWrite refused it: {e}"),
                schedules,
            )
            .with_property(Property::Framed));
        }
    }
    let (got, _) = merge_items(merge, piped.got);
    let error = piped.read_error;
    let first_bad = got.iter().zip(sent).position(|(g, w)| !same(g, w));
    if first_bad.is_none() && got.len() == sent.len() && error.is_none() {
        return Ok(());
    }
    let (kind, headline) = match (first_bad, &error) {
        (Some(i), _) => (
            FailureKind::WrongFrame { frame: i },
            format!(
                "through FramedWrite and FramedRead, frame {i} came out different from the \
                 frame sent"
            ),
        ),
        (None, Some(e)) => (
            FailureKind::DecodeError { at_eof: false },
            format!(
                "through FramedWrite and FramedRead, after {}, FramedRead returned an error: {e}",
                n_frames(got.len())
            ),
        ),
        (None, None) if got.len() < sent.len() => (
            FailureKind::MissingFrames {
                decoded: got.len(),
                expected: sent.len(),
            },
            format!(
                "through FramedWrite and FramedRead, the stream ended after {} of {}",
                got.len(),
                n_frames(sent.len())
            ),
        ),
        (None, None) => (
            FailureKind::ExtraFrames {
                decoded: got.len(),
                expected: sent.len(),
            },
            format!(
                "through FramedWrite and FramedRead, {} came out, {} sent",
                n_frames(got.len()),
                sent.len()
            ),
        ),
    };
    let left = texts(sent);
    let right = texts(&got);
    let same_at = |i: usize| matches!((got.get(i), sent.get(i)), (Some(g), Some(w)) if same(g, w));
    let body = format!(
        "{schedules}{}",
        side_by_side("sent", &left, "decoded", &right, &same_at)
    );
    Err(Failure::new(kind, headline, body)
        .with_property(Property::Framed)
        .with_case(&[], &[], left, right))
}

/// Items a pipeline may return before it counts as a runaway: a few past
/// the frames, or (with a merge: pieces follow the reads) many more.
pub(crate) fn max_items(frames: usize, merging: bool) -> usize {
    if merging {
        frames + (1 << 20)
    } else {
        frames + 8
    }
}

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
    let piped = match quietly(|| (make_codec(), make_codec())) {
        Ok((encoder, decoder)) => pipe::<I, C, C>(
            encoder,
            decoder,
            frames.to_vec(),
            write,
            read,
            TIMEOUT,
            max_items(frames.len(), false),
        ),
        Err(message) => Piped::panicked(format!("making the codec: {message}")),
    };
    let same = |g: &<C as Decoder>::Item, w: &I| g == w;
    judge(piped, frames, &same, None, write, read, Limit::None)
}

/// The round-trip property through tokio-util's `FramedWrite` and
/// `FramedRead` over an in-memory pipe, with [`schedules`] on both ends:
/// [`framed_case`] for frames from `frames` and generated schedules, the
/// minimal failing case returned. `Harness::new().check_framed_roundtrip`:
/// proptest's default number of cases (or `PROPTEST_CASES`), failing
/// cases saved and replayed; [`Harness::check_framed_roundtrip`] runs it
/// with other settings, [`Target::check_framed_roundtrip`] with split
/// codecs, a comparison and the time limit.
///
/// [`schedules`]: super::schedules
/// [`Harness::check_framed_roundtrip`]: crate::Harness::check_framed_roundtrip
/// [`Target::check_framed_roundtrip`]: crate::Target::check_framed_roundtrip
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
#[track_caller]
pub fn check_framed_roundtrip<C, I, F, S>(make_codec: F, frames: S) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
    S: Strategy<Value = Vec<I>>,
{
    crate::Harness::new().check_framed_roundtrip(make_codec, frames)
}
