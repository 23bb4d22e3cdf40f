//! tokio-rs/tokio issue #8348: the `LengthDelimitedCodec` builder's doc
//! examples (`new`, `new_codec`, `new_read`) combined `num_skip(0)` with
//! `length_adjustment(0)` and promised frames "header included". That
//! configuration keeps the 2-byte length in the frame but still takes only
//! `length` bytes: each frame comes out short by two bytes, which become the
//! start of the next frame's length (fixed in the docs by PR #8350; the
//! older examples were issues #2818, #4184, #6604).
//!
//! Both twins are tokio-util's own codec, configured as the examples were
//! (`buggy`) and as the corrected docs say (`fixed`: `length_adjustment(2)`).
//!
//! ```text
//! +---------------+-----------------+      decoded: +---------------+---------+
//! | len: u16 BE   | payload         |  --> promised | len: u16 BE   | payload |
//! +---------------+-----------------+               +---------------+---------+
//! ```

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

use crate::Error;

/// The largest payload a `u16` length field carries.
pub const MAX: usize = u16::MAX as usize;

/// A frame as the documented configuration promises it: the 2-byte length,
/// then the payload. Compares equal to the payload it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithHead(pub Bytes);

impl PartialEq<Bytes> for WithHead {
    fn eq(&self, payload: &Bytes) -> bool {
        self.0.len() == 2 + payload.len()
            && self.0[..2] == (payload.len() as u16).to_be_bytes()
            && self.0[2..] == payload[..]
    }
}

/// A writer with the default configuration and a reader configured as the
/// examples (`buggy`) or the corrected docs (`fixed`) say.
#[derive(Debug)]
pub struct HeadKeepingCodec {
    write: LengthDelimitedCodec,
    read: LengthDelimitedCodec,
}

fn writer() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_type::<u16>()
        .new_codec()
}

impl HeadKeepingCodec {
    /// `length_adjustment(0)` with `num_skip(0)`, as in the examples.
    pub fn buggy() -> Self {
        HeadKeepingCodec {
            write: writer(),
            read: LengthDelimitedCodec::builder()
                .length_field_offset(0)
                .length_field_type::<u16>()
                .length_adjustment(0)
                .num_skip(0)
                .new_codec(),
        }
    }
    /// `length_adjustment(2)` with `num_skip(0)`: the head counted in.
    pub fn fixed() -> Self {
        HeadKeepingCodec {
            write: writer(),
            read: LengthDelimitedCodec::builder()
                .length_field_offset(0)
                .length_field_type::<u16>()
                .length_adjustment(2)
                .num_skip(0)
                .new_codec(),
        }
    }
}

impl Decoder for HeadKeepingCodec {
    type Item = WithHead;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<WithHead>, Error> {
        Ok(self.read.decode(src)?.map(|f| WithHead(f.freeze())))
    }
}

impl Encoder<Bytes> for HeadKeepingCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        Ok(self.write.encode(item, dst)?)
    }
}
