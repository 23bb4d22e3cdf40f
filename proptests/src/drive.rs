//! Feeding bytes to a decoder the way tokio-util's `FramedRead` does, and
//! catching the decoder's panics quietly.
//!
//! `FramedRead` appends each read to its buffer, calls `decode` until it
//! returns `Ok(None)`, reads again, and at end of stream calls `decode_eof`
//! until that returns `Ok(None)`. The first `Err` ends the stream.

use std::{
    any::Any,
    cell::{Cell, RefCell},
    panic::{self, AssertUnwindSafe},
    sync::Once,
};

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use crate::framework::{EofRule, FrameDecoder};

/// How large a read may be, as a transport would make it.
///
/// tokio-util's `FramedRead` reads into its buffer's spare capacity: 8 KiB
/// at first (`FramedRead::new`), `with_capacity(n)` otherwise; before each
/// read it reserves one byte, so the buffer grows as `BytesMut` grows.
/// [`ReadLimit::FramedRead`] models exactly that (with the same `BytesMut`
/// calls). asynchronous-codec's `FramedRead` reads at most 8 KiB at a time
/// ([`ReadLimit::Fixed`]`(8192)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadLimit {
    /// A read may carry any number of bytes (the harness's default: a
    /// transport other than `FramedRead`, or a test of the decoder alone).
    #[default]
    Unlimited,
    /// tokio-util's `FramedRead` with a buffer of this initial capacity.
    FramedRead {
        /// Initial capacity (`FramedRead::with_capacity`; 8192 for
        /// `FramedRead::new`).
        capacity: usize,
    },
    /// At most this many bytes per read.
    Fixed(usize),
}

/// `FramedRead::new`'s initial buffer capacity in tokio-util 0.7 (and the
/// read size of asynchronous-codec 0.7).
pub const FRAMED_READ_CAPACITY: usize = 8 * 1024;

/// How feeding a stream to a decoder ended.
#[derive(Debug)]
pub(crate) enum Stop<E> {
    /// The stream ended cleanly (`decode_eof` returned `Ok(None)`, or the
    /// framework's rule ended it).
    Clean,
    /// The decoder (or, for asynchronous-codec, its `FramedRead`) returned
    /// an error.
    Error { at: When, error: E },
    /// The decoder panicked.
    Panic { at: When, message: String },
    /// The decoder kept returning frames past `max_items`.
    Runaway { at: When },
}

/// When, in the feeding, something happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// While decoding after read `read` (0-based), which ended at byte `end`.
    AfterRead { read: usize, end: usize },
    /// In `decode_eof`, after the whole input.
    AtEof,
}

/// A decoder run: the frames, where each came out, and how it ended.
#[derive(Debug)]
pub(crate) struct Run<T, E> {
    pub(crate) items: Vec<T>,
    /// For each item, the number of stream bytes the decoder had consumed
    /// when it came out (bytes fed minus bytes still buffered).
    pub(crate) consumed: Vec<usize>,
    /// For each item, when it came out.
    pub(crate) when: Vec<When>,
    pub(crate) stop: Stop<E>,
    /// Where the reads really ended (the planned ends, split further where
    /// a [`ReadLimit`] made a read shorter), strictly inside the stream.
    pub(crate) reads: Vec<usize>,
}

impl<T, E> Run<T, E> {
    /// The largest read, in bytes.
    pub(crate) fn largest_read(&self, total: usize) -> usize {
        let mut start = 0;
        let mut largest = 0;
        for &end in self.reads.iter().chain(std::iter::once(&total)) {
            largest = largest.max(end - start);
            start = end;
        }
        largest
    }
}

/// What a feeding does with the decoder's frames, and when it stops early:
/// [`feed`] keeps everything in a [`Run`], the oracle compares each frame
/// as it comes out ([`crate::fuzz`]), the allocation property counts them
/// under its watch ([`crate::alloc_bound`]).
pub(crate) trait Sink<T> {
    /// Read `read` (0-based), which ends at byte `end`, is about to be
    /// appended to the buffer.
    fn read(&mut self, _read: usize, _end: usize) {}
    /// The whole stream is in; `decode_eof` comes next.
    fn eof(&mut self) {}
    /// A frame came out when the decoder had consumed `consumed` stream
    /// bytes. `false` stops the feeding ([`Fed::Halted`]).
    fn item(&mut self, item: T, consumed: usize, at: When) -> bool;
    /// Asked after every decoder call: `true` stops the feeding
    /// ([`Fed::Halted`]).
    fn halt(&mut self, _buf: &BytesMut) -> bool {
        false
    }
}

/// How [`feed_with`] ended.
#[derive(Debug)]
pub(crate) enum Fed<E> {
    /// The stream or the decoder ended it.
    Stopped(Stop<E>),
    /// The sink stopped it ([`Sink::item`] or [`Sink::halt`]).
    Halted,
}

/// A [`Sink`] that keeps everything in a [`Run`], and the read in progress
/// (where a panic happened).
struct Keep<'r, T, E> {
    run: &'r mut Run<T, E>,
    when: When,
    total: usize,
}

impl<T, E> Sink<T> for Keep<'_, T, E> {
    fn read(&mut self, read: usize, end: usize) {
        self.when = When::AfterRead { read, end };
        if end < self.total {
            self.run.reads.push(end);
        }
    }

    fn eof(&mut self) {
        self.when = When::AtEof;
    }

    fn item(&mut self, item: T, consumed: usize, at: When) -> bool {
        self.run.items.push(item);
        self.run.consumed.push(consumed);
        self.run.when.push(at);
        true
    }
}

impl<T, E> Run<T, E> {
    fn empty(reads: usize) -> Self {
        Run {
            items: Vec::new(),
            consumed: Vec::new(),
            when: Vec::new(),
            stop: Stop::Clean,
            reads: Vec::with_capacity(reads),
        }
    }
}

/// Feeds `stream` to `decoder` in reads ending at `read_ends` (sorted,
/// strictly inside the stream) and then the end of the stream, reads no
/// larger than `limit` allows, ending it by the decoder's framework's rule.
/// Catches panics.
pub(crate) fn feed<D: FrameDecoder>(
    decoder: &mut D,
    stream: &[u8],
    read_ends: &[usize],
    limit: ReadLimit,
    max_items: usize,
) -> Run<D::Item, D::Error> {
    let mut run = Run::empty(read_ends.len());
    let mut keep = Keep {
        run: &mut run,
        when: When::AfterRead { read: 0, end: 0 },
        total: stream.len(),
    };
    let mut buf = read_buffer(limit, stream.len());
    let result = quietly(|| {
        feed_with(
            decoder,
            &mut buf,
            stream,
            read_ends.iter().copied(),
            limit,
            max_items,
            &mut keep,
        )
    });
    let stop = match result {
        Ok(Fed::Stopped(stop)) => stop,
        Ok(Fed::Halted) => unreachable!("Keep never halts"),
        Err(message) => Stop::Panic {
            at: keep.when,
            message,
        },
    };
    run.stop = stop;
    run
}

/// The read buffer `FramedRead` would start with under `limit`: its
/// initial capacity, or room for the whole stream when reads are not
/// limited by the buffer (no reallocation on the way).
pub(crate) fn read_buffer(limit: ReadLimit, len: usize) -> BytesMut {
    match limit {
        ReadLimit::FramedRead { capacity } => BytesMut::with_capacity(capacity),
        ReadLimit::Unlimited | ReadLimit::Fixed(_) => BytesMut::with_capacity(len),
    }
}

/// The one FramedRead-style loop: every property, the oracle, the
/// allocation property and [`decode_in_reads`] feed through it. Appends
/// each read to `buf`, calls `decode` until `Ok(None)`, and after the last
/// read ends the stream by the framework's rule; every frame goes to
/// `sink`. Read ends at or before the previous one are skipped, so any
/// sorted sequence will do (an iterator: `1..len` feeds one-byte reads
/// without a list of ends). Does not catch panics.
pub(crate) fn feed_with<D: FrameDecoder, S: Sink<D::Item>>(
    decoder: &mut D,
    buf: &mut BytesMut,
    stream: &[u8],
    read_ends: impl IntoIterator<Item = usize>,
    limit: ReadLimit,
    max_items: usize,
    sink: &mut S,
) -> Fed<D::Error> {
    let mut start = 0;
    let mut read = 0;
    let mut items = 0usize;
    let total = stream.len();
    let last = (!stream.is_empty()).then_some(total);
    for planned in read_ends.into_iter().chain(last) {
        let planned = planned.min(total);
        while start < planned {
            let end = match limit {
                ReadLimit::Unlimited => planned,
                ReadLimit::FramedRead { .. } => {
                    // FramedRead: `reserve(1)`, then read into the spare
                    // capacity.
                    buf.reserve(1);
                    planned.min(start + (buf.capacity() - buf.len()))
                }
                ReadLimit::Fixed(max) => planned.min(start + max.max(1)),
            };
            let at = When::AfterRead { read, end };
            sink.read(read, end);
            buf.extend_from_slice(&stream[start..end]);
            start = end;
            read += 1;
            loop {
                let step = decoder.decode_frame(buf);
                if sink.halt(buf) {
                    return Fed::Halted;
                }
                match step {
                    Ok(Some(item)) => {
                        items += 1;
                        if !sink.item(item, end - buf.len(), at) {
                            return Fed::Halted;
                        }
                        if items > max_items {
                            return Fed::Stopped(Stop::Runaway { at });
                        }
                    }
                    Ok(None) => break,
                    Err(error) => return Fed::Stopped(Stop::Error { at, error }),
                }
            }
        }
    }
    sink.eof();
    let at = When::AtEof;
    loop {
        let step = match D::EOF_RULE {
            EofRule::TokioUtil => decoder.decode_frame_eof(buf),
            EofRule::AsynchronousCodec => match decoder.decode_frame(buf) {
                Ok(None) if buf.is_empty() => return Fed::Stopped(Stop::Clean),
                Ok(None) => match decoder.decode_frame_eof(buf) {
                    Ok(None) if !buf.is_empty() => match D::leftover_error() {
                        Some(error) => return Fed::Stopped(Stop::Error { at, error }),
                        None => return Fed::Stopped(Stop::Clean),
                    },
                    other => other,
                },
                other => other,
            },
        };
        if sink.halt(buf) {
            return Fed::Halted;
        }
        match step {
            Ok(Some(item)) => {
                items += 1;
                if !sink.item(item, total - buf.len(), at) {
                    return Fed::Halted;
                }
                if items > max_items {
                    return Fed::Stopped(Stop::Runaway { at });
                }
            }
            Ok(None) => return Fed::Stopped(Stop::Clean),
            Err(error) => return Fed::Stopped(Stop::Error { at, error }),
        }
    }
}

/// Decodes `stream` arriving in reads that end at `read_ends` (offsets
/// into the stream, as [`Chunking::read_ends`] gives them; others are
/// sorted, and those outside the stream ignored), the
/// way tokio-util's `FramedRead` does: `decode` until `Ok(None)` after
/// each read, `decode_eof` until `Ok(None)` at the end. Returns the frames
/// and how the stream ended; the first error ends it. For tests that check
/// what a decoder does with particular bytes (a malformed header, say)
/// whatever the reads.
///
/// A decoder that returns more frames than the stream has bytes is stopped
/// with an `io::ErrorKind::Other` error. A panic in the decoder propagates
/// to the caller (this function does not catch it).
///
/// [`Chunking::read_ends`]: crate::chunk::Chunking::read_ends
///
/// # Examples
///
/// ```
/// use tokio_util::codec::LinesCodec;
///
/// let (lines, end) = framecheck::decode_in_reads(&mut LinesCodec::new(), b"ab\ncd\ne", &[4, 1]);
/// assert_eq!(lines, ["ab", "cd", "e"]);
/// assert!(end.is_ok());
///
/// // A line past the limit, whatever the reads.
/// let (lines, end) =
///     framecheck::decode_in_reads(&mut LinesCodec::new_with_max_length(3), b"ab\nlong\n", &[5]);
/// assert_eq!(lines, ["ab"]);
/// assert!(end.is_err());
/// ```
pub fn decode_in_reads<D: Decoder>(
    decoder: &mut D,
    stream: &[u8],
    read_ends: &[usize],
) -> (Vec<D::Item>, Result<(), D::Error>) {
    let mut ends: Vec<usize> = read_ends
        .iter()
        .copied()
        .filter(|&e| e > 0 && e < stream.len())
        .collect();
    ends.sort_unstable();
    ends.dedup();
    let mut run: Run<D::Item, D::Error> = Run::empty(0);
    let mut keep = Keep {
        run: &mut run,
        when: When::AtEof,
        total: stream.len(),
    };
    let mut buf = read_buffer(ReadLimit::Unlimited, stream.len());
    let fed = feed_with(
        decoder,
        &mut buf,
        stream,
        ends,
        ReadLimit::Unlimited,
        stream.len() + 1,
        &mut keep,
    );
    let Fed::Stopped(stop) = fed else {
        unreachable!("Keep never halts")
    };
    let end = match stop {
        Stop::Clean => Ok(()),
        Stop::Error { error, .. } => Err(error),
        Stop::Runaway { .. } => Err(std::io::Error::other(format!(
            "decoder returned more than {} frames from {} bytes",
            stream.len() + 1,
            stream.len()
        ))
        .into()),
        // `feed_with` does not catch panics (only `feed` does): a panic
        // has already left this function.
        Stop::Panic { .. } => unreachable!("feed_with never returns Stop::Panic"),
    };
    (run.items, end)
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into `Err(message)` ("message at file:line")
/// without printing it: the harness reports it in its own failure.
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let text = payload_text(info.payload());
                CAUGHT.with(|c| *c.borrow_mut() = Some(format!("{text}{at}")));
            } else {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.map_err(|payload| {
        CAUGHT
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| payload_text(&*payload))
    })
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Buf;

    use super::*;

    /// One-byte frames; `decode_eof` is the default.
    struct Bytewise;

    impl Decoder for Bytewise {
        type Item = u8;
        type Error = std::io::Error;

        fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<u8>> {
            Ok(src.has_remaining().then(|| src.get_u8()))
        }
    }

    #[test]
    fn feed_decodes_after_every_read_and_records_positions() {
        let run = feed(&mut Bytewise, b"abc", &[1, 2], ReadLimit::Unlimited, 10);
        assert_eq!(run.items, b"abc");
        assert_eq!(run.consumed, vec![1, 2, 3]);
        assert!(matches!(run.stop, Stop::Clean));
    }

    #[test]
    fn feed_stops_a_decoder_that_never_stops() {
        struct Forever;
        impl Decoder for Forever {
            type Item = ();
            type Error = std::io::Error;
            fn decode(&mut self, _: &mut BytesMut) -> std::io::Result<Option<()>> {
                Ok(Some(()))
            }
        }
        let run = feed(&mut Forever, b"ab", &[], ReadLimit::Unlimited, 3);
        assert_eq!(run.items.len(), 4);
        assert!(matches!(
            run.stop,
            Stop::Runaway {
                at: When::AfterRead { read: 0, end: 2 }
            }
        ));
    }

    #[test]
    fn framed_read_limit_splits_reads_as_the_buffer_allows() {
        let stream = vec![7u8; 20_000];
        let run = feed(
            &mut Bytewise,
            &stream,
            &[],
            ReadLimit::FramedRead { capacity: 8192 },
            usize::MAX,
        );
        // Bytewise consumes everything, so the buffer is reused: 8 KiB reads.
        assert_eq!(run.reads, vec![8192, 16384]);
        assert_eq!(run.largest_read(stream.len()), 8192);
        let run = feed(
            &mut Bytewise,
            &stream,
            &[],
            ReadLimit::Fixed(5000),
            usize::MAX,
        );
        assert_eq!(run.reads, vec![5000, 10000, 15000]);
    }

    #[test]
    fn quietly_returns_the_panic_message_and_location() {
        let err = quietly(|| -> u8 { panic!("boom {}", 7) }).unwrap_err();
        assert!(err.starts_with("boom 7 at "), "{err}");
        assert!(err.contains("drive.rs"), "{err}");
        assert_eq!(quietly(|| 5), Ok(5));
    }
}
