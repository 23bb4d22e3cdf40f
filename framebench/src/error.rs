//! The one error type of the FrameBench codecs.

use std::{fmt, io};

/// Why a FrameBench codec refused a stream or an item.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A length field claims more than the codec's limit.
    TooLong {
        /// The claimed length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The bytes do not follow the wire format.
    Malformed(&'static str),
    /// The decoder expected more bytes than it had (the message prost
    /// gives, "buffer underflow").
    Underflow {
        /// Bytes needed.
        need: usize,
        /// Bytes buffered.
        have: usize,
    },
    /// The stream ended inside a frame.
    Truncated {
        /// Bytes of the unfinished frame left over.
        left: usize,
    },
    /// An I/O error from the transport.
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLong { len, max } => write!(f, "length {len} is over the limit {max}"),
            Error::Malformed(what) => write!(f, "malformed: {what}"),
            Error::Underflow { need, have } => {
                write!(f, "buffer underflow: need {need} bytes, have {have}")
            }
            Error::Truncated { left } => {
                write!(f, "stream ended inside a frame ({left} bytes left over)")
            }
            Error::Io(e) => write!(f, "i/o: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}
