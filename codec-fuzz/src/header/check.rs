//! Decoding a built case whole and in reads, and comparing with the model.

use std::{
    fmt,
    panic::{self, AssertUnwindSafe},
};

use bytes::BytesMut;
use framecheck_codec::{CodecError, Frame, HeaderCodec, Limits};
use tokio_util::codec::Decoder;

use super::{desc::HeaderCase, model::WantError, Built};

/// How a decoder broke an invariant of the `header` target.
#[derive(Debug)]
pub struct HeaderFailure {
    /// The case, made concrete.
    pub built: Built,
    /// `"whole"` or `"chunked"`.
    pub reads: &'static str,
    /// What went wrong.
    pub kind: FailureKind,
}

/// What went wrong in a [`HeaderFailure`].
#[derive(Debug)]
pub enum FailureKind {
    /// Different frames than the description calls for.
    Frames {
        /// The frames decoded.
        got: Vec<Frame>,
    },
    /// Decoding ended otherwise than the description calls for.
    End {
        /// How it ended (`None`: cleanly).
        got: Option<String>,
    },
    /// The read buffer grew past what the bytes received allow.
    Memory {
        /// The largest capacity seen.
        capacity: usize,
        /// The bound: four times the stream plus two growth steps
        /// (16 KiB), whatever the limits.
        bound: usize,
    },
    /// The decoder returned more frames than the stream has bytes.
    Runaway,
    /// The decoder panicked.
    Panic(String),
}

impl fmt::Display for HeaderFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.built;
        let shown = &b.stream[..b.stream.len().min(96)];
        writeln!(
            f,
            "header target: decoding {} broke an invariant",
            self.reads
        )?;
        writeln!(
            f,
            "  stream ({} bytes, limits: header {}, body {}): {:?}{}",
            b.stream.len(),
            b.limits.header(),
            b.limits.body(),
            String::from_utf8_lossy(shown),
            if shown.len() < b.stream.len() {
                "..."
            } else {
                ""
            }
        )?;
        writeln!(f, "  expected frames: {:?}", Summary(&b.frames))?;
        writeln!(f, "  expected end: {:?}", b.end)?;
        match &self.kind {
            FailureKind::Frames { got } => write!(f, "  got frames: {:?}", Summary(got)),
            FailureKind::End { got: None } => write!(f, "  got a clean end"),
            FailureKind::End { got: Some(e) } => write!(f, "  got error: {e}"),
            FailureKind::Memory { capacity, bound } => write!(
                f,
                "  read buffer reached {capacity} bytes, bound is {bound} (4 x stream + 16 KiB)"
            ),
            FailureKind::Runaway => write!(f, "  decoder produced frames without input"),
            FailureKind::Panic(msg) => write!(f, "  decoder panicked: {msg}"),
        }
    }
}

impl std::error::Error for HeaderFailure {}

/// Frames shown by header and body length, not by their bytes.
struct Summary<'a>(&'a [Frame]);

impl fmt::Debug for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|fr| (&fr.header, fr.body.len())))
            .finish()
    }
}

/// Runs one case against [`HeaderCodec`], panicking with a description of
/// the broken invariant: the body of the `header` fuzz target.
///
/// # Panics
///
/// When the codec panics, decodes other frames than the case calls for,
/// ends otherwise (another error, or none where one is due), or grows its
/// read buffer past four times the stream plus both limits.
pub fn run(case: &HeaderCase) {
    if let Err(failure) = check(case, HeaderCodec::with_limits) {
        panic!("{failure}");
    }
}

/// Runs one case against the decoder `make_codec(limits)` returns, once on
/// the whole stream and once in the case's reads.
///
/// # Errors
///
/// A [`HeaderFailure`] saying which invariant broke, and how.
///
/// # Examples
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// use framecheck_codec_fuzz::header::{check, HeaderCase};
/// use framecheck_codec::HeaderCodec;
///
/// let case = HeaderCase::arbitrary(&mut Unstructured::new(b"any bytes at all")).unwrap();
/// assert!(check(&case, HeaderCodec::with_limits).is_ok());
/// ```
pub fn check<D, F>(case: &HeaderCase, make_codec: F) -> Result<(), Box<HeaderFailure>>
where
    D: Decoder<Item = Frame, Error = CodecError>,
    F: Fn(Limits) -> D,
{
    let built = case.build();
    let whole = vec![built.stream.len().max(1)];
    for (name, reads) in [("whole", whole), ("chunked", built.reads.clone())] {
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            drive(make_codec(built.limits), &built.stream, &reads)
        }));
        let kind = match ran {
            Err(payload) => Some(FailureKind::Panic(panic_message(&payload))),
            Ok(run) => judge(&built, run),
        };
        if let Some(kind) = kind {
            return Err(Box::new(HeaderFailure {
                built,
                reads: name,
                kind,
            }));
        }
    }
    Ok(())
}

/// What one decoding produced.
struct Run {
    frames: Vec<Frame>,
    end: Result<(), CodecError>,
    max_capacity: usize,
    runaway: bool,
}

/// Feeds `stream` in `reads` (cycled; empty: all at once) the way
/// `FramedRead` does: decode until `Ok(None)`, then more bytes, then
/// `decode_eof` until `Ok(None)`.
fn drive<D>(mut codec: D, stream: &[u8], reads: &[usize]) -> Run
where
    D: Decoder<Item = Frame, Error = CodecError>,
{
    let mut run = Run {
        frames: Vec::new(),
        end: Ok(()),
        max_capacity: 0,
        runaway: false,
    };
    let max_frames = stream.len() + 1;
    let mut buf = BytesMut::new();
    let mut rest = stream;
    let mut sizes = reads.iter().copied().cycle();
    let mut step = |buf: &mut BytesMut, eof: bool, run: &mut Run| loop {
        let got = if eof {
            codec.decode_eof(buf)
        } else {
            codec.decode(buf)
        };
        run.max_capacity = run.max_capacity.max(buf.capacity());
        match got {
            Ok(Some(frame)) if run.frames.len() < max_frames => run.frames.push(frame),
            Ok(Some(_)) => {
                run.runaway = true;
                return false;
            }
            Ok(None) => return true,
            Err(e) => {
                run.end = Err(e);
                return false;
            }
        }
    };
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (read, tail) = rest.split_at(n);
        rest = tail;
        buf.extend_from_slice(read);
        if !step(&mut buf, false, &mut run) {
            return run;
        }
    }
    step(&mut buf, true, &mut run);
    run
}

/// Slack of the memory bound over four times the stream: two of
/// `HeaderCodec`'s 8 KiB growth steps. The codec never reserves a declared
/// length: after `N` bytes received, no allocation it makes exceeds
/// `max(2 N, N + 8 KiB)` (`codec/src/growth.rs`), and the model's own
/// feeding appends each read with `BytesMut`, which may double the
/// capacity on a reserve; so the capacity stays under `4 × stream + 16 KiB`,
/// whatever the limits say.
pub(crate) const GROWTH_BOUND_STEPS: usize = 2 * 8 * 1024;

fn judge(built: &Built, run: Run) -> Option<FailureKind> {
    if run.runaway {
        return Some(FailureKind::Runaway);
    }
    let bound = 4 * built.stream.len() + GROWTH_BOUND_STEPS + 64;
    if run.max_capacity > bound {
        return Some(FailureKind::Memory {
            capacity: run.max_capacity,
            bound,
        });
    }
    if run.frames != built.frames {
        return Some(FailureKind::Frames { got: run.frames });
    }
    let ok = match (&built.end, &run.end) {
        (Ok(()), Ok(())) => true,
        (Err(want), Err(CodecError::Frame(got))) => want.matches(got),
        _ => false,
    };
    (!ok).then(|| FailureKind::End {
        got: run.end.err().map(|e| format!("{e:?}")),
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

impl fmt::Display for WantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WantError::Exact(e) => write!(f, "{e:?}"),
            WantError::NotJson => f.write_str("HeaderNotJson { .. }"),
            WantError::TooLarge(v) => write!(f, "DataSizeTooLarge {{ approx: ~{v:e} }}"),
        }
    }
}
