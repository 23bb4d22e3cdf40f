//! A decoder wrapper that reports a stream ending inside a frame, even
//! when the inner decoder had already taken the frame's header out of the
//! buffer.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Wraps a decoder whose `decode_eof` ends cleanly when the stream stops
/// right after a header it consumed (tokio-util 0.7's
/// `LengthDelimitedCodec`): it remembers that bytes were consumed with no
/// frame out, and `decode_eof` then returns [`Error::Truncated`].
#[derive(Debug)]
pub struct StrictEof<C> {
    inner: C,
    mid_frame: bool,
}

impl<C> StrictEof<C> {
    /// Wraps `inner`.
    pub fn new(inner: C) -> Self {
        StrictEof {
            inner,
            mid_frame: false,
        }
    }
}

impl<C: Decoder<Error = Error>> Decoder for StrictEof<C> {
    type Item = C::Item;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>, Error> {
        let before = src.len();
        let out = self.inner.decode(src)?;
        if out.is_some() {
            self.mid_frame = false;
        } else if src.len() < before {
            self.mid_frame = true;
        }
        Ok(out)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>, Error> {
        match self.decode(src)? {
            Some(item) => Ok(Some(item)),
            None if self.mid_frame || !src.is_empty() => Err(Error::Truncated { left: src.len() }),
            None => Ok(None),
        }
    }
}

impl<I, C: Encoder<I, Error = Error>> Encoder<I> for StrictEof<C> {
    type Error = Error;

    fn encode(&mut self, item: I, dst: &mut BytesMut) -> Result<(), Error> {
        self.inner.encode(item, dst)
    }
}
