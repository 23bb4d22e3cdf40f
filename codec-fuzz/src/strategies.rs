//! Proptest strategies for [`HeaderCodec`](framecheck_codec::HeaderCodec)
//! frames, for the harness's round-trip and truncation properties.
//!
//! ```
//! use framecheck_codec::HeaderCodec;
//! use framecheck_codec_fuzz::strategies;
//!
//! framecheck::Harness::new()
//!     .cases(16)
//!     .seed(1)
//!     .persistence(false)
//!     .check_roundtrip(HeaderCodec::new, strategies::header_frames())
//!     .unwrap();
//! ```

use framecheck::{proptest, strategies::bodies};
use framecheck_codec::{Frame, Header};
use proptest::{collection::vec, prelude::*};
use serde_json::{Map, Value};

/// Zero to six [`Frame`]s, with [`bodies`] and headers that sometimes
/// carry a `filename`, a `hash` and extra fields of every JSON type.
pub fn header_frames() -> impl Strategy<Value = Vec<Frame>> + Clone {
    vec(header_frame(), 0..=6)
}

/// One [`Frame`] of [`header_frames`].
pub fn header_frame() -> impl Strategy<Value = Frame> + Clone {
    let extra_value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,24}".prop_map(Value::String),
        vec(any::<u8>(), 0..4).prop_map(Value::from),
    ];
    let extra = vec(("[a-z_]{1,10}", extra_value), 0..4).prop_map(|fields| {
        let mut map = Map::new();
        for (key, value) in fields {
            if !matches!(key.as_str(), "data_size" | "filename" | "hash") {
                map.insert(key, value);
            }
        }
        map
    });
    (
        bodies(),
        proptest::option::of("[a-zA-Z0-9_. -]{0,32}"),
        proptest::option::of("[0-9a-f]{64}"),
        extra,
    )
        .prop_map(|(body, filename, hash, extra)| {
            let mut header = Header::new(0);
            header.filename = filename;
            header.hash = hash;
            header.extra = extra;
            Frame::with_header(header, body)
        })
}
