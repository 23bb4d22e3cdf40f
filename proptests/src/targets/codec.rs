//! Fuzz target bodies for any codec: what [`fuzz_codec!`](crate::fuzz_codec)
//! expands to.

use std::fmt::Debug;

use arbitrary::Arbitrary;
use tokio_util::codec::Decoder;

use crate::{chunk::Chunking, TestableCodec};

/// Decodes the stream in `data` with fresh decoders from `make_codec`, once
/// in one read and once in the reads `data` describes, and panics with the
/// report if they disagree or the decoder panics (the oracle is
/// [`crate::fuzz::assert_input`]; input layout in [`crate::fuzz`]).
///
/// # Panics
///
/// On any disagreement, panic or runaway decoding.
///
/// # Examples
///
/// ```
/// use tokio_util::codec::LinesCodec;
///
/// framecheck::targets::codec_target(LinesCodec::new, b"\x01\x02one\ntwo\nthr");
/// ```
#[track_caller]
pub fn codec_target<C, F>(make_codec: F, data: &[u8])
where
    F: Fn() -> C,
    C: Decoder,
    C::Item: PartialEq + Debug,
    C::Error: Debug,
{
    crate::fuzz::assert_input(make_codec, data);
}

/// Frames and a chunking, read from fuzz input: the input of
/// [`roundtrip_target`].
#[derive(Debug, Clone, Arbitrary)]
pub struct RoundtripInput<I> {
    /// The frames to encode.
    pub frames: Vec<I>,
    /// Where the reads end.
    pub chunking: Chunking,
}

/// Encodes `input.frames` with one codec from `make_codec`, decodes them
/// with another in the reads `input.chunking` makes, and panics with the
/// report unless exactly the same frames come back with a clean end
/// ([`crate::roundtrip_case`]).
///
/// Frames the encoder refuses (over a limit, say) are a failure too: give
/// the fuzzer an item type that only describes frames your codec accepts.
///
/// # Panics
///
/// When the round trip fails.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use framecheck::{chunk::Chunking, targets::{roundtrip_target, RoundtripInput}};
/// use tokio_util::codec::LengthDelimitedCodec;
///
/// let input = RoundtripInput {
///     frames: vec![Bytes::from_static(b"hello"), Bytes::new()],
///     chunking: Chunking::one_byte_reads(),
/// };
/// roundtrip_target(LengthDelimitedCodec::new, &input);
/// ```
#[track_caller]
pub fn roundtrip_target<C, I, F>(make_codec: F, input: &RoundtripInput<I>)
where
    F: Fn() -> C,
    C: TestableCodec<I>,
    I: Clone + Debug,
{
    if let Err(failure) = crate::roundtrip_case(make_codec, &input.frames, &input.chunking) {
        panic!("round trip failed: {failure}");
    }
}

/// A complete `cargo fuzz` target for your codec, in one line.
///
/// - `fuzz_codec!(decode: make_codec)`: raw bytes, decoded whole and in
///   fuzzer-chosen reads, must give the same frames and the same end
///   ([`codec_target`]). Needs only a `Decoder`.
/// - `fuzz_codec!(roundtrip: make_codec, Item)`: fuzzer-made `Item`s,
///   encoded, cut into fuzzer-chosen reads and decoded, must come back
///   exactly ([`roundtrip_target`]). `Item: arbitrary::Arbitrary`.
///
/// The fuzz crate must depend on `libfuzzer-sys` (as `cargo fuzz init`
/// sets up) and on `framecheck`.
///
/// ```text
/// // fuzz/fuzz_targets/my_codec.rs
/// #![no_main]
/// framecheck::fuzz_codec!(decode: my_proto::MyCodec::new);
/// ```
#[macro_export]
macro_rules! fuzz_codec {
    (decode: $make_codec:expr $(,)?) => {
        ::libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            $crate::targets::codec_target($make_codec, data);
        });
    };
    (roundtrip: $make_codec:expr, $item:ty $(,)?) => {
        ::libfuzzer_sys::fuzz_target!(|input: $crate::targets::RoundtripInput<$item>| {
            $crate::targets::roundtrip_target($make_codec, &input);
        });
    };
}
