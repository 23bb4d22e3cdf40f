//! Decoders with planted bugs, for `ci/fuzz-selftest.sh` only: each is the
//! real `HeaderCodec` preceded by one classic mistake.

use bytes::BytesMut;
use framecheck_codec::{wire, CodecError, Frame, Header, HeaderCodec};
use tokio_util::codec::Decoder;

/// Reserves room for the whole header as soon as its length field arrives,
/// before checking that length against the limit: a peer sending
/// `ff ff ff 7f` makes the decoder allocate 2 GiB.
#[derive(Debug, Default)]
pub struct ReservesClaimedHeader(HeaderCodec);

impl Decoder for ReservesClaimedHeader {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if self.0.is_between_frames() {
            if let Some(&[a, b, c, d]) = src.get(..4) {
                if let Ok(claimed) = usize::try_from(i32::from_le_bytes([a, b, c, d])) {
                    // The bug: the limit is checked only after this.
                    src.reserve(claimed);
                }
            }
        }
        self.0.decode(src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None => self.0.decode_eof(src),
        }
    }
}

/// Checks the header length properly, but reserves room for the body as
/// soon as the header is parsed, before checking `data_size` against the
/// body limit: a header saying `{"data_size": 4000000000}` makes the
/// decoder allocate 4 GB.
#[derive(Debug, Default)]
pub struct ReservesClaimedBody(pub HeaderCodec);

impl Decoder for ReservesClaimedBody {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if self.0.is_between_frames() {
            if let Some(&[a, b, c, d]) = src.get(..4) {
                let header_len = wire::decode_header_len([a, b, c, d], self.0.limits())?;
                let header = src.get(4..).and_then(|rest| rest.get(..header_len));
                if let Some(Ok(header)) = header.map(Header::parse) {
                    // The bug: the body limit is checked only after this.
                    // (Clamped to what a `Vec` may hold, so that the
                    // reservation always reaches the allocator instead of
                    // panicking as a capacity overflow first.)
                    let most = isize::MAX.unsigned_abs() - src.len();
                    let claimed = usize::try_from(header.data_size).unwrap_or(usize::MAX);
                    src.reserve(claimed.min(most));
                }
            }
        }
        self.0.decode(src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None => self.0.decode_eof(src),
        }
    }
}
