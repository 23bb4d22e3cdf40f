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
