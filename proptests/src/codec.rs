//! The bounds a codec needs to be tested with frames of type `I`, stated once.

use std::fmt::Debug;

use tokio_util::codec::{Decoder, Encoder};

/// A tokio-util codec the harness can test with frames of type `I`: it
/// encodes `I`, decodes items comparable with `I`, and both its errors and
/// its items can be shown in a failure report.
///
/// Implemented for every type that meets those bounds; there is nothing to
/// implement by hand.
pub trait TestableCodec<I>:
    Encoder<I, Error: Debug> + Decoder<Item: PartialEq<I> + Debug, Error: Debug>
{
}

impl<C, I> TestableCodec<I> for C
where
    C: Encoder<I> + Decoder,
    <C as Decoder>::Item: PartialEq<I> + Debug,
    <C as Decoder>::Error: Debug,
    <C as Encoder<I>>::Error: Debug,
{
}
