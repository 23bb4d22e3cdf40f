//! The JSON header: typed where the fields are known, a JSON map for the rest.
//!
//! Parsing goes through a hand-written serde visitor rather than a
//! `serde_json::Value`, so a minimal header (`{"data_size": 16}`) is read
//! without allocating, and every way a header can be wrong maps to its own
//! [`FrameError`] variant.

use std::fmt;

use serde::{
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
    ser::SerializeMap,
    Deserialize, Deserializer, Serialize, Serializer,
};
use serde_json::{Map, Value};

use crate::error::{FrameError, JsonType};

/// Name of the body-length field.
pub const DATA_SIZE: &str = "data_size";
/// Name of the optional file-name field.
pub const FILENAME: &str = "filename";
/// Name of the optional hash field.
pub const HASH: &str = "hash";

/// A frame's JSON header.
///
/// `data_size` is the body length; `filename` and `hash` are the fields the
/// tutorial's file transfer uses; anything else a peer sends is kept in
/// `extra` and sent back out unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    /// Exact length of the body in bytes.
    pub data_size: u64,
    /// The `filename` field, if present.
    pub filename: Option<String>,
    /// The `hash` field, if present.
    pub hash: Option<String>,
    /// Every other field, in the order received.
    pub extra: Map<String, Value>,
}

impl Header {
    /// A header announcing `data_size` body bytes and nothing else.
    pub fn new(data_size: u64) -> Self {
        Header {
            data_size,
            ..Header::default()
        }
    }

    /// Parses a header from its JSON bytes.
    ///
    /// This checks the header's own shape only; the body limit is the
    /// codec's business ([`Limits`](crate::Limits)).
    ///
    /// # Errors
    ///
    /// [`FrameError::HeaderNotUtf8`], [`FrameError::HeaderNotJson`],
    /// [`FrameError::HeaderNotObject`], [`FrameError::DuplicateField`],
    /// [`FrameError::DataSizeMissing`], [`FrameError::DataSizeNegative`],
    /// [`FrameError::DataSizeNotInteger`], [`FrameError::DataSizeTooLarge`]
    /// and [`FrameError::FieldNotString`], as their names say.
    ///
    /// # Examples
    ///
    /// ```
    /// use framecheck_codec::{FrameError, Header};
    ///
    /// let h = Header::parse(br#"{"filename": "a.txt", "data_size": 5}"#).unwrap();
    /// assert_eq!((h.data_size, h.filename.as_deref()), (5, Some("a.txt")));
    ///
    /// let err = Header::parse(br#"{"data_size": -1}"#).unwrap_err();
    /// assert_eq!(err, FrameError::DataSizeNegative { value: -1 });
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Header, FrameError> {
        if let Some(data_size) = parse_minimal(bytes) {
            return Ok(Header::new(data_size));
        }
        Self::parse_json(bytes)
    }

    /// The general path of [`Header::parse`], through serde_json.
    fn parse_json(bytes: &[u8]) -> Result<Header, FrameError> {
        let text = std::str::from_utf8(bytes).map_err(|e| FrameError::HeaderNotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        let raw: RawHeader = serde_json::from_str(text).map_err(|e| {
            // Our visitor reports its findings through `Ok`, so any error
            // serde_json returns here is about syntax.
            FrameError::HeaderNotJson {
                message: syntax_message(&e),
                line: e.line(),
                column: e.column(),
            }
        })?;
        raw.0
    }

    /// Serializes the header as compact JSON, `data_size` first.
    ///
    /// # Errors
    ///
    /// [`FrameError::ReservedField`] when `extra` holds `data_size`,
    /// `filename` or `hash`, which would make the header ambiguous.
    pub fn to_json(&self) -> Result<Vec<u8>, FrameError> {
        let mut out = Vec::with_capacity(32 + self.extra.len() * 16);
        self.write_json(&mut out)?;
        Ok(out)
    }

    /// Writes the header's JSON to `out` (see [`Header::to_json`]).
    ///
    /// # Errors
    ///
    /// [`FrameError::ReservedField`], before anything is written.
    ///
    /// # Panics
    ///
    /// If `out` itself fails; writers into memory (`Vec`, `BytesMut`) don't.
    pub fn write_json<W: std::io::Write>(&self, mut out: W) -> Result<(), FrameError> {
        for field in [DATA_SIZE, FILENAME, HASH] {
            if self.extra.contains_key(field) {
                return Err(FrameError::ReservedField { field });
            }
        }
        if self.filename.is_none() && self.hash.is_none() && self.extra.is_empty() {
            // The minimal header, byte for byte what serde_json writes for it.
            const PREFIX: &[u8] = b"{\"data_size\":";
            let mut buf = [0u8; PREFIX.len() + 21];
            buf[..PREFIX.len()].copy_from_slice(PREFIX);
            let mut digits = [0u8; 20];
            let mut start = digits.len();
            let mut n = self.data_size;
            loop {
                start -= 1;
                digits[start] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let end = PREFIX.len() + digits.len() - start;
            buf[PREFIX.len()..end].copy_from_slice(&digits[start..]);
            buf[end] = b'}';
            out.write_all(&buf[..=end])
                .expect("header serialization into memory cannot fail");
            return Ok(());
        }
        serde_json::to_writer(out, self).expect("header serialization into memory cannot fail");
        Ok(())
    }
}

/// The fast path for the most common header of all, `{"data_size":N}` or
/// Python's `{"data_size": N}`: `Some(N)` when `bytes` is exactly that, with
/// `N` a JSON integer (no leading zero) that fits in a `u64`; `None` sends
/// the header down the general path, which accepts everything this does
/// with the same result (a test checks the two agree).
fn parse_minimal(bytes: &[u8]) -> Option<u64> {
    let rest = bytes.strip_prefix(b"{\"data_size\":")?;
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let digits = rest.strip_suffix(b"}")?;
    if digits.is_empty() || digits.len() > 20 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

fn syntax_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; we carry those as fields.
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = 1
            + usize::from(self.filename.is_some())
            + usize::from(self.hash.is_some())
            + self.extra.len();
        let mut map = s.serialize_map(Some(len))?;
        map.serialize_entry(DATA_SIZE, &self.data_size)?;
        if let Some(f) = &self.filename {
            map.serialize_entry(FILENAME, f)?;
        }
        if let Some(h) = &self.hash {
            map.serialize_entry(HASH, h)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The outcome of reading a syntactically valid JSON document as a header:
/// semantic problems are carried in the `Err`, not as serde errors.
struct RawHeader(Result<Header, FrameError>);

impl<'de> Deserialize<'de> for RawHeader {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeaderVisitor).map(RawHeader)
    }
}

/// Consumes any JSON value, reporting only its type.
fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements every `visit_*` of a visitor whose value is `Result<T, JsonType>`
/// for the non-object, non-number types, and for objects/arrays by draining.
macro_rules! visit_other_types {
    ($wrap:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($wrap(JsonType::Bool))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(JsonType::Null))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq)?;
            Ok($wrap(JsonType::Array))
        }
    };
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Result<Header, FrameError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON header object")
    }

    visit_other_types!(|found| Err(FrameError::HeaderNotObject { found }));

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(FrameError::HeaderNotObject {
            found: JsonType::Integer,
        }))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.visit_u64(0)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(FrameError::HeaderNotObject {
            found: JsonType::Float,
        }))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(FrameError::HeaderNotObject {
            found: JsonType::String,
        }))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut data_size: Option<Result<u64, FrameError>> = None;
        let mut filename: Option<Result<String, JsonType>> = None;
        let mut hash: Option<Result<String, JsonType>> = None;
        let mut extra = Map::new();
        let mut problem: Option<FrameError> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::DataSize => {
                    let v = map.next_value::<DataSize>()?.0;
                    if data_size.replace(v).is_some() {
                        problem.get_or_insert(FrameError::DuplicateField { field: DATA_SIZE });
                    }
                }
                Key::Filename => {
                    let v = map.next_value::<StringField>()?.0;
                    if filename.replace(v).is_some() {
                        problem.get_or_insert(FrameError::DuplicateField { field: FILENAME });
                    }
                }
                Key::Hash => {
                    let v = map.next_value::<StringField>()?.0;
                    if hash.replace(v).is_some() {
                        problem.get_or_insert(FrameError::DuplicateField { field: HASH });
                    }
                }
                Key::Other(name) => {
                    let v = map.next_value::<Value>()?;
                    extra.insert(name, v);
                }
            }
        }
        if let Some(p) = problem {
            return Ok(Err(p));
        }
        let data_size = match data_size {
            None => return Ok(Err(FrameError::DataSizeMissing)),
            Some(Err(e)) => return Ok(Err(e)),
            Some(Ok(n)) => n,
        };
        let string_field = |v: Option<Result<String, JsonType>>, field| match v {
            None => Ok(None),
            Some(Ok(s)) => Ok(Some(s)),
            Some(Err(found)) => Err(FrameError::FieldNotString { field, found }),
        };
        Ok((|| {
            Ok(Header {
                data_size,
                filename: string_field(filename, FILENAME)?,
                hash: string_field(hash, HASH)?,
                extra,
            })
        })())
    }
}

/// A header key, matched without allocating for the known ones.
enum Key {
    DataSize,
    Filename,
    Hash,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    DATA_SIZE => Key::DataSize,
                    FILENAME => Key::Filename,
                    HASH => Key::Hash,
                    other => Key::Other(other.to_owned()),
                })
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The `data_size` value, checked for type and sign.
struct DataSize(Result<u64, FrameError>);

impl<'de> Deserialize<'de> for DataSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Result<u64, FrameError>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer")
            }
            visit_other_types!(|found| Err(FrameError::DataSizeNotInteger { found }));
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Ok(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(u64::try_from(v).map_err(|_| FrameError::DataSizeNegative { value: v }))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // serde_json hands an integer literal that fits neither
                // u64 nor i64 to visit_f64, rounded: one above u64::MAX
                // arrives as 2^64 or more, one below i64::MIN as -2^63 or
                // less (i64::MIN itself arrives through visit_i64).
                let beyond_64_bits =
                    v >= 18_446_744_073_709_551_616.0 || v <= -9_223_372_036_854_775_808.0;
                Ok(Err(if v.fract() == 0.0 && beyond_64_bits {
                    FrameError::DataSizeTooLarge { approx: v }
                } else {
                    FrameError::DataSizeNotInteger {
                        found: JsonType::Float,
                    }
                }))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err(FrameError::DataSizeNotInteger {
                    found: JsonType::String,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map)?;
                Ok(Err(FrameError::DataSizeNotInteger {
                    found: JsonType::Object,
                }))
            }
        }
        d.deserialize_any(V).map(DataSize)
    }
}

/// A string-typed field's value, or the type found instead.
struct StringField(Result<String, JsonType>);

impl<'de> Deserialize<'de> for StringField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Result<String, JsonType>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            visit_other_types!(Err);
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Err(JsonType::Integer))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Err(JsonType::Integer))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Err(JsonType::Float))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Ok(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Ok(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain_map(map)?;
                Ok(Err(JsonType::Object))
            }
        }
        d.deserialize_any(V).map(StringField)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_fast_path_agrees_with_serde() {
        let cases: &[&[u8]] = &[
            br#"{"data_size":0}"#,
            br#"{"data_size": 16}"#,
            br#"{"data_size":18446744073709551615}"#,
            br#"{"data_size":18446744073709551616}"#,
            br#"{"data_size":99999999999999999999}"#,
            br#"{"data_size":012}"#,
            br#"{"data_size":-1}"#,
            br#"{"data_size":}"#,
            br#"{"data_size":1 }"#,
            br#"{"data_size":  1}"#,
            br#"{"data_size":1.0}"#,
            br#"{"data_size":1e3}"#,
            br#"{"data_size":1}}"#,
        ];
        for bytes in cases {
            let general = Header::parse_json(bytes);
            let text = String::from_utf8_lossy(bytes);
            match parse_minimal(bytes) {
                Some(n) => assert_eq!(general, Ok(Header::new(n)), "{text}"),
                None => assert_eq!(Header::parse(bytes), general, "{text}"),
            }
        }
        assert_eq!(parse_minimal(br#"{"data_size": 16}"#), Some(16));
        assert_eq!(parse_minimal(br#"{"data_size":012}"#), None);
    }

    #[test]
    fn minimal_header_fast_path_writes_what_serde_writes() {
        for n in [0, 7, 1 << 40, u64::MAX] {
            let h = Header::new(n);
            let general = serde_json::to_vec(&h).unwrap();
            assert_eq!(h.to_json().unwrap(), general);
        }
    }

    #[test]
    fn extra_floats_come_back_bit_for_bit() {
        // serde_json's default float parsing can be off by one ulp; the
        // workspace enables its `float_roundtrip` feature.
        let mut h = Header::new(0);
        for (i, f) in [1.947700395895162e-169, 0.1, 1e308, 5e-324, -2.5e-3]
            .into_iter()
            .enumerate()
        {
            h.extra.insert(format!("f{i}"), Value::from(f));
        }
        assert_eq!(Header::parse(&h.to_json().unwrap()).unwrap(), h);
    }

    #[test]
    fn parse_python_style_header() {
        // json.dumps({"filename": "a.txt", "data_size": 5, "hash": "ab", "mode": 420})
        let h =
            Header::parse(br#"{"filename": "a.txt", "data_size": 5, "hash": "ab", "mode": 420}"#)
                .unwrap();
        assert_eq!(h.data_size, 5);
        assert_eq!(h.filename.as_deref(), Some("a.txt"));
        assert_eq!(h.hash.as_deref(), Some("ab"));
        assert_eq!(h.extra.get("mode"), Some(&Value::from(420)));
    }

    #[test]
    fn parse_errors_are_typed() {
        let cases: &[(&[u8], FrameError)] = &[
            (b"\xff{}", FrameError::HeaderNotUtf8 { valid_up_to: 0 }),
            (
                b"[1, 2]",
                FrameError::HeaderNotObject {
                    found: JsonType::Array,
                },
            ),
            (
                b"12",
                FrameError::HeaderNotObject {
                    found: JsonType::Integer,
                },
            ),
            (b"{}", FrameError::DataSizeMissing),
            (
                br#"{"data_size": -3}"#,
                FrameError::DataSizeNegative { value: -3 },
            ),
            (
                br#"{"data_size": 1.5}"#,
                FrameError::DataSizeNotInteger {
                    found: JsonType::Float,
                },
            ),
            (
                br#"{"data_size": "12"}"#,
                FrameError::DataSizeNotInteger {
                    found: JsonType::String,
                },
            ),
            (
                br#"{"data_size": {"a": [1]}}"#,
                FrameError::DataSizeNotInteger {
                    found: JsonType::Object,
                },
            ),
            (
                br#"{"data_size": 18446744073709551616}"#,
                FrameError::DataSizeTooLarge {
                    approx: 18_446_744_073_709_551_616.0,
                },
            ),
            (
                br#"{"data_size": 1, "data_size": 1}"#,
                FrameError::DuplicateField { field: DATA_SIZE },
            ),
            (
                br#"{"data_size": 1, "filename": 7}"#,
                FrameError::FieldNotString {
                    field: FILENAME,
                    found: JsonType::Integer,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                Header::parse(bytes).as_ref(),
                Err(want),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn parse_syntax_error_reports_position() {
        let err = Header::parse(br#"{"data_size": 1"#).unwrap_err();
        match err {
            FrameError::HeaderNotJson { line, column, .. } => assert_eq!((line, column), (1, 15)),
            other => panic!("expected HeaderNotJson, got {other:?}"),
        }
    }

    #[test]
    fn to_json_roundtrips_and_refuses_reserved_extra() {
        let mut h = Header::new(3);
        h.filename = Some("x".into());
        h.extra.insert("k".into(), Value::from("v"));
        let json = h.to_json().unwrap();
        assert_eq!(json, br#"{"data_size":3,"filename":"x","k":"v"}"#);
        assert_eq!(Header::parse(&json).unwrap(), h);

        h.extra.insert(DATA_SIZE.into(), Value::from(3));
        assert_eq!(
            h.to_json(),
            Err(FrameError::ReservedField { field: DATA_SIZE })
        );
    }
}
