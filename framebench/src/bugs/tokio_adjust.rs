//! tokio-rs/tokio issue #4815 ("`LengthDelimitedCodec` doesn't adjust
//! decoded length before checking overflow", open; PR #8469 proposes the
//! fix): with a negative `length_adjustment` the encoder checks the payload
//! against `max_frame_length` but the decoder checks the unadjusted field,
//! so the largest frames the encoder sends are refused by the decoder.
//!
//! Both twins are tokio-util's own codec (0.7, where the issue is still
//! open): `buggy` as the issue configures it, `fixed` with the decoder's
//! limit raised by the adjustment, which is what checking the adjusted
//! length amounts to. Both are wrapped in [`StrictEof`], since tokio-util
//! 0.7 also ends cleanly right after a length field (a different
//! behaviour, reported on its own by framecheck).
//!
//! ```text
//! +--------------------------+-----------------+
//! | len: u32 BE = payload+4  | payload         |
//! +--------------------------+-----------------+
//! ```

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

use crate::{Error, StrictEof};

/// `max_frame_length`: the largest payload the encoder sends.
pub const MAX: usize = 256;
const ADJUST: isize = -4;

/// Encoder and decoder from the issue's configuration; the fixed decoder's
/// limit accounts for the adjustment.
#[derive(Debug)]
pub struct AdjustedCodec {
    write: LengthDelimitedCodec,
    read: LengthDelimitedCodec,
}

fn codec(max: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .big_endian()
        .length_field_length(4)
        .max_frame_length(max)
        .length_adjustment(ADJUST)
        .new_codec()
}

impl AdjustedCodec {
    /// The issue's configuration on both sides.
    pub fn buggy() -> StrictEof<Self> {
        StrictEof::new(AdjustedCodec {
            write: codec(MAX),
            read: codec(MAX),
        })
    }
    /// The decoder checks `payload + 4` against `MAX + 4`.
    pub fn fixed() -> StrictEof<Self> {
        StrictEof::new(AdjustedCodec {
            write: codec(MAX),
            read: codec(MAX + ADJUST.unsigned_abs()),
        })
    }
}

impl Decoder for AdjustedCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        Ok(self.read.decode(src)?.map(BytesMut::freeze))
    }
}

impl Encoder<Bytes> for AdjustedCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        Ok(self.write.encode(item, dst)?)
    }
}
