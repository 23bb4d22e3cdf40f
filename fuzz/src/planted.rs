//! A decoder with a planted bug, for `ci/fuzz-selftest.sh` only.

use bytes::BytesMut;
use framecheck_codec::{CodecError, Frame, HeaderCodec};
use tokio_util::codec::Decoder;

/// `HeaderCodec` preceded by the classic mistake: reserving room for the
/// whole header as soon as its length field arrives, before checking that
/// length against the limit, so a peer sending `ff ff ff 7f` makes the
/// decoder allocate 2 GiB.
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
}
