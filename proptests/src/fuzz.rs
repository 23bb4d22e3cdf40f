//! The fuzz oracle: a decoder must give the same frames, and stop the same
//! way, whether its input arrives in one read or in many.
//!
//! It knows nothing of the format, so it works on any decoder and any
//! bytes: the frame boundaries it aims its cuts at are where the decoder
//! itself, reading everything at once, says its frames ended.
//!
//! Input layout (so seed corpora can be written by hand):
//!
//! ```text
//! +-------+-------------------------+--------------------------------+
//! | n: u8 | n bytes: the chunking   | the rest: the stream to decode |
//! +-------+-------------------------+--------------------------------+
//! ```
//!
//! The chunking bytes are read as a [`Chunking`] through
//! [`arbitrary`]; `n = 0` means one-byte reads, so a raw stream preceded by
//! a zero byte is a good seed.

use std::fmt::Debug;

use arbitrary::{Arbitrary, Unstructured};
use tokio_util::codec::Decoder;

use crate::{
    case::probe_heads,
    chunk::{Chunking, Layout},
    drive::{feed, Stop},
    failure::{frames, reads_in_frame, Failure, FailureKind},
    roundtrip::{first_difference, Context},
};

/// Splits fuzz input into a chunking and the stream it cuts.
///
/// ```
/// use framecheck::{chunk::Chunking, fuzz::split_input};
///
/// assert_eq!(split_input(b"\0abc"), (Chunking::one_byte_reads(), &b"abc"[..]));
/// assert_eq!(split_input(b""), (Chunking::one_byte_reads(), &b""[..]));
/// ```
pub fn split_input(data: &[u8]) -> (Chunking, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (Chunking::one_byte_reads(), data);
    };
    let (spec, stream) = rest.split_at(usize::from(n).min(rest.len()));
    if spec.is_empty() {
        return (Chunking::one_byte_reads(), stream);
    }
    let chunking = Chunking::arbitrary_take_rest(Unstructured::new(spec))
        .unwrap_or_else(|_| Chunking::one_byte_reads());
    (chunking, stream)
}

/// Decodes the stream in `data` once in one read and once in the chunks
/// `data` describes (see the [module docs](self)), with fresh decoders from
/// `make_codec`, and compares.
///
/// # Errors
///
/// A [`Failure`] when the frames differ, when one way ends in an error
/// and the other does not, when the decoder panics, or when it returns
/// frames without end (more frames than bytes).
///
/// # Examples
///
/// ```
/// use framecheck::FailureKind;
/// use tokio_util::codec::{Decoder, LengthDelimitedCodec};
///
/// // Whatever the bytes, LengthDelimitedCodec decodes them the same way
/// // whole and in chunks.
/// framecheck::fuzz::try_check_decoder(LengthDelimitedCodec::new, b"\0\0\0\0\x02hi\0\0").unwrap();
///
/// // A decoder that returns whatever it has, as one frame.
/// struct Whatever;
/// impl Decoder for Whatever {
///     type Item = Vec<u8>;
///     type Error = std::io::Error;
///     fn decode(&mut self, src: &mut bytes::BytesMut) -> std::io::Result<Option<Vec<u8>>> {
///         Ok((!src.is_empty()).then(|| src.split().to_vec()))
///     }
/// }
/// let failure = framecheck::fuzz::try_check_decoder(|| Whatever, b"\0abc").unwrap_err();
/// assert_eq!(failure.kind(), &FailureKind::Diverged);
/// ```
pub fn try_check_decoder<C, F>(make_codec: F, data: &[u8]) -> Result<(), Failure>
where
    F: Fn() -> C,
    C: Decoder,
    C::Item: PartialEq + Debug,
    C::Error: Debug,
{
    let (chunking, stream) = split_input(data);
    let max_items = stream.len() + 1;
    let whole = feed(&mut make_codec(), stream, &[], max_items);
    // Frame ends as the decoder consumed them, then the unconsumed tail as
    // one more "frame", so cuts aim inside it too.
    let mut ends = Vec::with_capacity(whole.consumed.len() + 1);
    let mut last = 0;
    for &c in &whole.consumed {
        last = c.clamp(last, stream.len());
        ends.push(last);
    }
    if last < stream.len() {
        ends.push(stream.len());
    }
    let layout = Layout::new(ends);
    let read_ends = chunking.read_ends(&layout);
    let chunked = if matches!(whole.stop, Stop::Panic { .. } | Stop::Runaway { .. }) {
        None
    } else {
        Some(feed(&mut make_codec(), stream, &read_ends, max_items))
    };
    let same_stop = |a: &Stop<C::Error>, b: &Stop<C::Error>| {
        matches!(
            (a, b),
            (Stop::Clean, Stop::Clean) | (Stop::Error { .. }, Stop::Error { .. })
        )
    };
    let first_bad = chunked
        .as_ref()
        .and_then(|c| first_difference(&c.items, &whole.items));
    if let Some(c) = &chunked {
        if first_bad.is_none()
            && c.items.len() == whole.items.len()
            && same_stop(&whole.stop, &c.stop)
        {
            return Ok(());
        }
    }

    let heads = probe_heads(&make_codec, stream, &layout);
    let ctx = Context {
        layout: &layout,
        heads: &heads,
        read_ends: &read_ends,
        chunking: &chunking,
        fed: stream.len(),
    };
    let Some(chunked) = chunked else {
        let one_read = Context {
            read_ends: &[],
            ..ctx
        };
        let (kind, headline) = one_read.stop_headline(&whole.stop, whole.items.len());
        let body = format!(
            "in one read of {} bytes\n{}",
            stream.len(),
            one_read.body(&whole, &whole.items, "frames before")
        );
        return Err(Failure::new(kind, headline, body).with_chunking(&chunking));
    };
    let stop_text = |s: &Stop<C::Error>| match s {
        Stop::Clean => "a clean end".to_owned(),
        Stop::Error { error, .. } => format!("an error ({error:?})"),
        Stop::Panic { message, .. } => format!("a panic ({message})"),
        Stop::Runaway { .. } => "endless frames".to_owned(),
    };
    let (kind, headline) = match (first_bad, &chunked.stop) {
        (None, stop @ (Stop::Panic { .. } | Stop::Runaway { .. })) => {
            ctx.stop_headline(stop, chunked.items.len())
        }
        (Some(i), _) => (
            FailureKind::Diverged,
            format!(
                "{}; frame {i} came out different in chunks than in one read",
                reads_in_frame(&layout, &heads, &read_ends, i)
            ),
        ),
        (None, _) if chunked.items.len() != whole.items.len() => {
            let i = chunked.items.len().min(whole.items.len());
            (
                FailureKind::Diverged,
                format!(
                    "{}; {} came out in chunks, {} in one read",
                    reads_in_frame(&layout, &heads, &read_ends, i),
                    frames(chunked.items.len()),
                    frames(whole.items.len())
                ),
            )
        }
        (None, _) => (
            FailureKind::Diverged,
            format!(
                "same frames, but decoding ended with {} in chunks and {} in one read",
                stop_text(&chunked.stop),
                stop_text(&whole.stop)
            ),
        ),
    };
    let body = format!(
        "in one read: {}, then {}\n{}",
        frames(whole.items.len()),
        stop_text(&whole.stop),
        ctx.body(&chunked, &whole.items, "one read")
    );
    Err(Failure::new(kind, headline, body).with_chunking(&chunking))
}

/// [`try_check_decoder`], panicking with the report: the body of a fuzz
/// target.
///
/// # Panics
///
/// When [`try_check_decoder`] returns a failure.
///
/// # Examples
///
/// ```
/// use framecheck_codec::HeaderCodec;
///
/// framecheck::fuzz::check_decoder(HeaderCodec::new, b"\0\x0e\0\0\0{\"data_size\":2}hi");
/// // In a fuzz target:
/// // fuzz_target!(|data: &[u8]| framecheck::fuzz::check_decoder(HeaderCodec::new, data));
/// ```
#[track_caller]
pub fn check_decoder<C, F>(make_codec: F, data: &[u8])
where
    F: Fn() -> C,
    C: Decoder,
    C::Item: PartialEq + Debug,
    C::Error: Debug,
{
    if let Err(failure) = try_check_decoder(make_codec, data) {
        panic!("decoder check failed: {failure}");
    }
}
