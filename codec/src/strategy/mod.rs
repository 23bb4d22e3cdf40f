//! Framing strategies: one message at a time over any async byte stream.
//!
//! The same payloads, framed four ways, so they can be measured side by side
//! and the naive ones shown failing:
//!
//! ```text
//! Sleep          | payload | (sleep gap) | payload | ...      reader: one read() = one message
//! TwoSend        | len i32 LE |  [ack 1 byte <-]  | payload |  reader: exact reads
//! Length         | len u32 BE | payload |                     reader: LengthDelimitedCodec
//! JsonHeader     | hlen i32 LE | {"data_size":N} | payload |  reader: HeaderCodec
//! ```
//!
//! `Sleep` is broken by design: without a long enough gap, messages merge
//! into one read, and a message longer than one read is split. `TwoSend`
//! frames correctly but pays two writes per message, and with Nagle's
//! algorithm on, the second small write waits for the peer's delayed ACK.
//! The header-prefixed forms write the prefix and the body in one vectored
//! write (small messages are batched by [`Conn::feed`]).

mod conn;
mod framing;
mod raw;

pub use conn::Conn;
pub use framing::Framing;
pub use raw::ACK;
