//! The `decode` fuzz target: raw bytes through [`HeaderCodec`] with the
//! format-blind oracle [`crate::fuzz::check_decoder`].

use framecheck_codec::HeaderCodec;

/// Decodes the stream in `data` whole and in the reads `data` describes
/// (layout: [`crate::fuzz`]), with the default limits, and requires both to
/// agree: the body of the `decode` fuzz target.
///
/// # Panics
///
/// When the two decodings differ or the codec panics.
///
/// ```
/// framecheck::targets::decode::run(b"\0\x10\0\0\0{\"data_size\": 2}hi");
/// ```
pub fn run(data: &[u8]) {
    super::codec_target(HeaderCodec::new, data);
}
