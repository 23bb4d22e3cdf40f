//! Memory bounded by bytes received: our codecs' decoders, fed hostile
//! streams read by read, never hold more than `k × N + C` bytes after `N`
//! bytes arrived (framecheck's allocation property, default bound
//! `8 × N + 1 MiB`, fresh random cases every run).

use framecheck::Harness;
use framecheck_codec::{HeaderCodec, Limits, StrictLengthCodec, DEFAULT_MAX_BODY_LEN};
use framecheck_codec_fuzz::strategies;

#[global_allocator]
static ALLOC: framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();

fn harness() -> Harness {
    Harness::new().persistence(false)
}

/// With its default limits (8 MiB body): the body buffer grows with the
/// bytes of the body that arrive, not with the `data_size` a header claims.
#[test]
fn header_codec_memory_grows_with_bytes_received() {
    harness()
        .check_alloc_bound(HeaderCodec::new, strategies::header_frames())
        .unwrap();
}

/// The same at a tight header limit and a large body limit.
#[test]
fn header_codec_with_a_64_mib_body_limit_stays_bounded() {
    let make = || {
        HeaderCodec::with_limits(
            Limits::default()
                .max_header_len(4096)
                .max_body_len(64 << 20),
        )
    };
    harness()
        .check_alloc_bound(make, strategies::header_frames())
        .unwrap();
}

/// `StrictLengthCodec` splits with tokio-util's `LengthDelimitedCodec`,
/// which reserves the claimed length (checked against the limit first) as
/// soon as the 4-byte head arrives: bounded by the limit, so within the
/// default bound for a limit under 1 MiB, and within `C` = limit + 64 KiB
/// for the default 8 MiB.
#[test]
fn strict_length_codec_reserves_at_most_its_limit() {
    harness()
        .check_alloc_bound(
            || StrictLengthCodec::new(256 * 1024),
            framecheck::strategies::byte_frames(),
        )
        .unwrap();
    harness()
        .alloc_bound(8, DEFAULT_MAX_BODY_LEN + (64 << 10))
        .check_alloc_bound(
            || StrictLengthCodec::new(DEFAULT_MAX_BODY_LEN),
            framecheck::strategies::byte_frames(),
        )
        .unwrap();
}

/// The `decode` fuzz target's body checks the bound too when the tracking
/// allocator is installed (as it is here and in the fuzz crate): a header
/// claiming 8 000 000 body bytes, none of which arrive, must not make the
/// decoder hold more than `8 × N + 1 MiB` (a decoder that reserves the
/// claimed body when the header parses, as `HeaderCodec` did before its
/// buffers grew with the bytes received, panics here).
#[test]
fn decode_target_checks_the_bound_on_a_claimed_body() {
    assert!(framecheck::alloc::installed());
    let header = br#"{"data_size": 8000000}"#;
    let mut stream = (header.len() as i32).to_le_bytes().to_vec();
    stream.extend_from_slice(header);
    stream.extend_from_slice(b"only a few body bytes");
    framecheck_codec_fuzz::decode::run(&stream);
    // The same claim through a decoder that reserves it is refused by the
    // same bound.
    let failure = framecheck::alloc_case(
        &mut ReservesTheClaim,
        &stream,
        &[],
        framecheck::AllocBound::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            failure.kind(),
            framecheck::FailureKind::AllocationOverBound { .. }
        ),
        "{failure}"
    );
}

/// The decode target's one check ([`framecheck::fuzz::check_input_alloc`]:
/// the oracle, with its one-read decoding under the allocation watch)
/// refuses that claim too: the oracle passes (every way of reading ends in
/// the same error), the watched decoding goes over the bound.
#[test]
fn decode_target_check_refuses_a_reserved_claim() {
    let header = br#"{"data_size": 8000000}"#;
    let mut stream = (header.len() as i32).to_le_bytes().to_vec();
    stream.extend_from_slice(header);
    stream.extend_from_slice(b"only a few body bytes");
    let bound = framecheck::AllocBound::default();
    framecheck::fuzz::check_input_alloc(HeaderCodec::new, &stream, bound).unwrap();
    let failure =
        framecheck::fuzz::check_input_alloc(|| ReservesTheClaim, &stream, bound).unwrap_err();
    assert!(
        matches!(
            failure.kind(),
            framecheck::FailureKind::AllocationOverBound {
                size: 8_000_000..,
                ..
            }
        ),
        "{failure}"
    );
}

/// Reserves the body a `HeaderCodec` header claims as soon as the header
/// has arrived, then decodes with `HeaderCodec`.
struct ReservesTheClaim;

impl tokio_util::codec::Decoder for ReservesTheClaim {
    type Item = framecheck_codec::Frame;
    type Error = framecheck_codec::CodecError;

    fn decode(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        if let Some(&[a, b, c, d]) = src.get(..4) {
            let len = i32::from_le_bytes([a, b, c, d]) as usize;
            if let Some(head) = src.get(4..4 + len) {
                if let Ok(header) = framecheck_codec::Header::parse(head) {
                    src.reserve(header.data_size as usize);
                }
            }
        }
        Ok(None)
    }
}
