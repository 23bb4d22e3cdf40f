//! Header-prefixed framing for TCP byte streams, hardened against untrusted
//! input, and the naive framing strategies it replaces.
//!
//! TCP delivers a byte stream, not messages: one `send` may arrive split over
//! several reads and several sends may arrive glued into one. The classic
//! Python socket tutorial fixes this with a header-prefixed frame; this crate
//! speaks that wire format, byte for byte:
//!
//! ```text
//! +--------------------+---------------------------------------------+------------------+
//! | header length      | header: UTF-8 JSON object                   | body             |
//! | 4 bytes, i32 LE    | {"data_size": N, ...any other fields...}    | exactly N bytes  |
//! +--------------------+---------------------------------------------+------------------+
//! ```
//!
//! A Python peer sends `struct.pack('<i', len(h)) + h + body` with
//! `h = json.dumps({..., "data_size": len(body)}).encode()`.
//!
//! - [`HeaderCodec`]: tokio-util `Decoder`/`Encoder` for that format, with
//!   [`Limits`] checked before anything is allocated and typed
//!   [`FrameError`]s; [`wire`] is its sans-I/O core. Its buffer grows with
//!   the bytes that arrive, never with the lengths a peer declares.
//! - [`VerbatimCodec`]: the same format, each header kept byte for byte as
//!   received ([`VerbatimFrame`]), for servers that answer with the
//!   request's header.
//! - [`StrictLengthCodec`]: the binary 4-byte-length form through tokio-util's
//!   `LengthDelimitedCodec`, with a strict end of stream.
//! - [`strategy`]: one message at a time over any async stream with each
//!   framing strategy (sleep, two-send, header-prefixed), to measure them and
//!   to show the naive ones failing.
#![forbid(unsafe_code)]

mod codec;
mod error;
mod frame;
mod growth;
mod header;
mod length;
mod limits;
pub mod strategy;
mod verbatim;
pub mod wire;

pub use crate::codec::HeaderCodec;
pub use crate::error::{CodecError, FrameError, FramePart, JsonType};
pub use crate::frame::Frame;
#[doc(hidden)]
pub use crate::growth::Growth;
pub use crate::header::{Header, DATA_SIZE, FILENAME, HASH};
pub use crate::length::StrictLengthCodec;
pub use crate::limits::{
    Limits, DEFAULT_MAX_BODY_LEN, DEFAULT_MAX_HEADER_LEN, MAX_HEADER_LEN_FIELD,
};
pub use crate::verbatim::{VerbatimCodec, VerbatimFrame};
