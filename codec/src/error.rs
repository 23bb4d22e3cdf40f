//! Typed errors for the header-prefixed wire format.
//!
//! [`FrameError`] says what was wrong with the bytes, with the numbers a user
//! needs; it is `Clone + PartialEq` so tests can assert it exactly.
//! [`CodecError`] adds the transport's [`io::Error`], as tokio-util's
//! `Decoder` and `Encoder` traits require.

use std::{fmt, io};

/// The JSON type of a value found where another type was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// A number with a fraction or an exponent, such as `1.5` or `1e3`.
    Float,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
    /// An integer (only reported where an object was expected).
    Integer,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Null => "null",
            JsonType::Bool => "a boolean",
            JsonType::Float => "a non-integer number",
            JsonType::String => "a string",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
            JsonType::Integer => "an integer",
        })
    }
}

/// The part of a frame a stream ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FramePart {
    /// The 4-byte header length.
    HeaderLength,
    /// The JSON header.
    Header,
    /// The body.
    Body,
}

impl fmt::Display for FramePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FramePart::HeaderLength => "header length",
            FramePart::Header => "header",
            FramePart::Body => "body",
        })
    }
}

/// What was wrong with a frame, decoded or about to be encoded.
///
/// Every decode error means the stream is corrupt and the connection should
/// be closed: the decoder does not try to resynchronise.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FrameError {
    /// The header length field, read as `i32` little-endian, is negative.
    NegativeHeaderLength {
        /// The value read.
        declared: i32,
    },
    /// The two-send strategy's body length field, read as `i32`
    /// little-endian, is negative.
    NegativeBodyLength {
        /// The value read.
        declared: i32,
    },
    /// The header length field exceeds the configured limit.
    HeaderTooLong {
        /// The value read (or, when encoding, the serialized header length).
        declared: u64,
        /// The configured maximum header length.
        limit: usize,
    },
    /// The header bytes are not valid UTF-8.
    HeaderNotUtf8 {
        /// Bytes of valid UTF-8 before the first invalid sequence.
        valid_up_to: usize,
    },
    /// The header is UTF-8 but not a JSON document.
    HeaderNotJson {
        /// serde_json's description of the syntax error.
        message: String,
        /// 1-based line of the error within the header.
        line: usize,
        /// 1-based column of the error within the header.
        column: usize,
    },
    /// The header is JSON but not an object.
    HeaderNotObject {
        /// The type found instead.
        found: JsonType,
    },
    /// The header object names a known field twice, which a Python peer
    /// would silently resolve as "last wins"; refused to avoid ambiguity.
    DuplicateField {
        /// The field's name.
        field: &'static str,
    },
    /// The header has no `data_size` field.
    DataSizeMissing,
    /// `data_size` is a negative integer.
    DataSizeNegative {
        /// The value read.
        value: i64,
    },
    /// `data_size` is not an integer.
    DataSizeNotInteger {
        /// The type found instead.
        found: JsonType,
    },
    /// `data_size` is an integer too large to represent (beyond `u64`).
    DataSizeTooLarge {
        /// The value as serde_json read it (rounded).
        approx: f64,
    },
    /// A known string field (`filename`, `hash`) has another type.
    FieldNotString {
        /// The field's name.
        field: &'static str,
        /// The type found instead.
        found: JsonType,
    },
    /// `data_size` exceeds the configured body limit.
    BodyTooLong {
        /// The body length announced by the header.
        declared: u64,
        /// The configured maximum body length.
        limit: usize,
    },
    /// The stream ended inside a frame.
    Truncated {
        /// The part of the frame the stream ended in.
        part: FramePart,
        /// Bytes of that part received before the end.
        received: usize,
        /// Bytes that part needed.
        expected: usize,
    },
    /// Encoding: the header's `data_size` disagrees with the body.
    DataSizeMismatch {
        /// `data_size` in the header.
        data_size: u64,
        /// The body's real length.
        body_len: usize,
    },
    /// Encoding: the header's `extra` map repeats a field that has its own
    /// typed slot (`data_size`, `filename`, `hash`).
    ReservedField {
        /// The field's name.
        field: &'static str,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::NegativeHeaderLength { declared } => {
                write!(f, "header length field is negative ({declared})")
            }
            FrameError::NegativeBodyLength { declared } => {
                write!(f, "body length field is negative ({declared})")
            }
            FrameError::HeaderTooLong { declared, limit } => write!(
                f,
                "header length is {declared} bytes, limit is {limit} bytes"
            ),
            FrameError::HeaderNotUtf8 { valid_up_to } => write!(
                f,
                "header is not UTF-8 (invalid byte after {valid_up_to} valid bytes)"
            ),
            FrameError::HeaderNotJson {
                message,
                line,
                column,
            } => write!(
                f,
                "header is not JSON: {message} (line {line}, column {column})"
            ),
            FrameError::HeaderNotObject { found } => {
                write!(f, "header is {found}, expected a JSON object")
            }
            FrameError::DuplicateField { field } => {
                write!(f, "header names `{field}` more than once")
            }
            FrameError::DataSizeMissing => f.write_str("header has no `data_size` field"),
            FrameError::DataSizeNegative { value } => {
                write!(f, "header `data_size` is negative ({value})")
            }
            FrameError::DataSizeNotInteger { found } => {
                write!(f, "header `data_size` is {found}, expected an integer")
            }
            FrameError::DataSizeTooLarge { approx } => {
                write!(f, "header `data_size` ({approx:e}) does not fit in 64 bits")
            }
            FrameError::FieldNotString { field, found } => {
                write!(f, "header `{field}` is {found}, expected a string")
            }
            FrameError::BodyTooLong { declared, limit } => {
                write!(f, "header says {declared} body bytes, limit is {limit}")
            }
            FrameError::Truncated {
                part,
                received,
                expected,
            } => write!(
                f,
                "stream ended {received} bytes into a {expected}-byte {part}"
            ),
            FrameError::DataSizeMismatch {
                data_size,
                body_len,
            } => write!(
                f,
                "header `data_size` is {data_size} but the body is {body_len} bytes"
            ),
            FrameError::ReservedField { field } => write!(
                f,
                "`{field}` belongs in its typed header field, not in `extra`"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// The error of [`HeaderCodec`](crate::HeaderCodec) and of the framing
/// strategies: a bad frame, or a failed transport.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodecError {
    /// The bytes broke the wire format (or the item could not be encoded).
    Frame(FrameError),
    /// The underlying transport failed.
    Io(io::Error),
}

impl CodecError {
    /// The frame error, if this is one.
    pub fn frame(&self) -> Option<&FrameError> {
        match self {
            CodecError::Frame(e) => Some(e),
            CodecError::Io(_) => None,
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Frame(e) => e.fmt(f),
            CodecError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CodecError::Frame(e) => Some(e),
            CodecError::Io(e) => Some(e),
        }
    }
}

impl From<FrameError> for CodecError {
    fn from(e: FrameError) -> Self {
        CodecError::Frame(e)
    }
}

impl From<io::Error> for CodecError {
    fn from(e: io::Error) -> Self {
        CodecError::Io(e)
    }
}

impl From<CodecError> for io::Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Io(e) => e,
            CodecError::Frame(e) => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}
