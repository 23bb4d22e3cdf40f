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

/// How feeding a stream to a decoder ended.
#[derive(Debug)]
pub(crate) enum Stop<E> {
    /// `decode_eof` returned `Ok(None)`.
    Clean,
    /// The decoder returned an error.
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

/// A decoder run: the frames and where each came out (bytes fed so far),
/// and how it ended.
pub(crate) struct Run<T, E> {
    pub(crate) items: Vec<T>,
    /// For each item, the number of stream bytes fed when it came out and
    /// the number the decoder had consumed (fed minus buffered).
    pub(crate) consumed: Vec<usize>,
    /// For each item, when it came out.
    pub(crate) when: Vec<When>,
    pub(crate) stop: Stop<E>,
}

/// Feeds `stream` to `decoder` in reads ending at `read_ends` (sorted,
/// strictly inside the stream) and then the end of the stream.
pub(crate) fn feed<D: Decoder>(
    decoder: &mut D,
    stream: &[u8],
    read_ends: &[usize],
    max_items: usize,
) -> Run<D::Item, D::Error> {
    let mut items = Vec::new();
    let mut consumed = Vec::new();
    let mut item_when = Vec::new();
    let mut when = When::AfterRead { read: 0, end: 0 };
    let result = quietly(|| {
        feed_inner(
            decoder,
            stream,
            read_ends,
            max_items,
            &mut items,
            &mut consumed,
            &mut item_when,
            &mut when,
        )
    });
    let stop = match result {
        Ok(stop) => stop,
        Err(message) => Stop::Panic { at: when, message },
    };
    Run {
        items,
        consumed,
        when: item_when,
        stop,
    }
}

#[allow(clippy::too_many_arguments)]
fn feed_inner<D: Decoder>(
    decoder: &mut D,
    stream: &[u8],
    read_ends: &[usize],
    max_items: usize,
    items: &mut Vec<D::Item>,
    consumed: &mut Vec<usize>,
    item_when: &mut Vec<When>,
    when: &mut When,
) -> Stop<D::Error> {
    // Room for the whole stream: no reallocation on the way (decoders see
    // the same bytes as with FramedRead's growing buffer).
    let mut buf = BytesMut::with_capacity(stream.len());
    let mut start = 0;
    let last = (!stream.is_empty()).then_some(stream.len());
    for (read, end) in read_ends.iter().copied().chain(last).enumerate() {
        *when = When::AfterRead { read, end };
        buf.extend_from_slice(&stream[start..end]);
        start = end;
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(item)) => {
                    items.push(item);
                    consumed.push(end - buf.len());
                    item_when.push(*when);
                    if items.len() > max_items {
                        return Stop::Runaway { at: *when };
                    }
                }
                Ok(None) => break,
                Err(error) => return Stop::Error { at: *when, error },
            }
        }
    }
    *when = When::AtEof;
    loop {
        match decoder.decode_eof(&mut buf) {
            Ok(Some(item)) => {
                items.push(item);
                consumed.push(stream.len() - buf.len());
                item_when.push(When::AtEof);
                if items.len() > max_items {
                    return Stop::Runaway { at: When::AtEof };
                }
            }
            Ok(None) => return Stop::Clean,
            Err(error) => {
                return Stop::Error {
                    at: When::AtEof,
                    error,
                }
            }
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
/// with an `io::ErrorKind::Other` error. Panics propagate.
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
    let mut items = Vec::new();
    let (mut consumed, mut item_when) = (Vec::new(), Vec::new());
    let mut when = When::AtEof;
    let stop = feed_inner(
        decoder,
        stream,
        &ends,
        stream.len() + 1,
        &mut items,
        &mut consumed,
        &mut item_when,
        &mut when,
    );
    let end = match stop {
        Stop::Clean => Ok(()),
        Stop::Error { error, .. } => Err(error),
        Stop::Runaway { .. } | Stop::Panic { .. } => Err(std::io::Error::other(format!(
            "decoder returned more than {} frames from {} bytes",
            stream.len() + 1,
            stream.len()
        ))
        .into()),
    };
    (items, end)
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
        let run = feed(&mut Bytewise, b"abc", &[1, 2], 10);
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
        let run = feed(&mut Forever, b"ab", &[], 3);
        assert_eq!(run.items.len(), 4);
        assert!(matches!(
            run.stop,
            Stop::Runaway {
                at: When::AfterRead { read: 0, end: 2 }
            }
        ));
    }

    #[test]
    fn quietly_returns_the_panic_message_and_location() {
        let err = quietly(|| -> u8 { panic!("boom {}", 7) }).unwrap_err();
        assert!(err.starts_with("boom 7 at "), "{err}");
        assert!(err.contains("drive.rs"), "{err}");
        assert_eq!(quietly(|| 5), Ok(5));
    }
}
