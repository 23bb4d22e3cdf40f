//! The `decode` fuzz target: raw bytes through [`HeaderCodec`] with the
//! format-blind oracle [`framecheck::fuzz::assert_input`] and, when the
//! program's global allocator is framecheck's tracking allocator (as in
//! the fuzz crate), the allocation bound of [`framecheck::alloc_case`]; and
//! `decode_plain`, the same bytes decoded once without any oracle: the
//! yardstick for what the oracle costs per input.

use bytes::BytesMut;
use framecheck::FailureKind;
use framecheck_codec::HeaderCodec;
use tokio_util::codec::Decoder;

/// Decodes the stream in `data` whole and in the reads `data` describes
/// (layout: [`framecheck::fuzz`]), with the default limits, and requires
/// both to agree: the body of the `decode` fuzz target. When
/// [`framecheck::alloc::Tracking`] is the global allocator, the one-read
/// decoding also runs under its watch
/// ([`framecheck::fuzz::check_input_alloc`]) and the decoder's memory must
/// stay within the default bound of [`framecheck::AllocBound`] (`8 × N + 1
/// MiB` after `N` bytes): a buffer sized from a claimed `data_size` fails
/// here even when it is under the fuzz crate's single-allocation limit.
/// Without the tracking allocator, only the oracle runs.
///
/// # Panics
///
/// When the decodings differ, the allocation bound is broken, or the
/// codec panics.
///
/// ```
/// framecheck_codec_fuzz::decode::run(b"\x10\0\0\0{\"data_size\": 2}hi");
/// ```
// Inline, so that the oracle is instantiated in the fuzz target's own crate,
// which fuzz/options.sh leaves without coverage instrumentation.
#[inline]
pub fn run(data: &[u8]) {
    if !tracking_installed() {
        framecheck::fuzz::assert_input(HeaderCodec::new, data);
        return;
    }
    let bound = framecheck::AllocBound::default();
    match framecheck::fuzz::check_input_alloc(HeaderCodec::new, data, bound) {
        Ok(()) => {}
        Err(failure) if matches!(failure.kind(), FailureKind::AllocationOverBound { .. }) => {
            panic!("decode target: memory not bounded by the bytes received: {failure}")
        }
        Err(failure) => panic!("decoder check failed: {failure}"),
    }
}

/// Whether the tracking allocator is installed, asked once: a program's
/// global allocator is fixed when it is linked.
fn tracking_installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(framecheck::alloc::installed)
}

/// Decodes the stream in `data` (what [`run`] decodes: the input without
/// its chunking, [`framecheck::fuzz::parse_input`]) once, in one read, with
/// a fresh [`HeaderCodec`] (default limits), as `FramedRead` would (`decode` until `Ok(None)`, then
/// `decode_eof` until `Ok(None)`; the first error ends it), and returns the
/// number of frames and whether the stream ended cleanly: the body of the
/// `decode_plain` fuzz target.
///
/// It checks nothing, so it measures what decoding alone costs on a
/// corpus; `ci/fuzz.sh --speed` runs it beside [`run`] over the same
/// corpus to give the oracle's cost per input.
///
/// # Panics
///
/// Only if the codec panics.
///
/// ```
/// use framecheck_codec_fuzz::decode::plain;
///
/// assert_eq!(plain(b"\x0f\0\0\0{\"data_size\":2}hi"), (1, true));
/// assert_eq!(plain(b"\x0f\0\0\0{\"data_size\":2}h"), (0, false));
/// ```
pub fn plain(data: &[u8]) -> (usize, bool) {
    let mut codec = HeaderCodec::new();
    let (_, stream) = framecheck::fuzz::parse_input(data);
    let mut buf = BytesMut::from(stream);
    let mut frames = 0;
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(_)) => frames += 1,
            Ok(None) => break,
            Err(_) => return (frames, false),
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(_)) => frames += 1,
            Ok(None) => return (frames, true),
            Err(_) => return (frames, false),
        }
    }
}
