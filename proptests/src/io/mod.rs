//! Async adapters that split and merge I/O per a [`Schedule`], so a whole
//! `Framed` pipeline, or a client and a server, can be tested against the
//! reads and writes TCP may produce.
//!
//! ```text
//!  writer ──▶ ChunkedWriter ──▶ (duplex / socket) ──▶ ChunkedReader ──▶ reader
//!             short writes,                           short reads, one-byte
//!             held + merged writes,                   reads, merged reads,
//!             Pending, Interrupted                    Pending, Interrupted
//! ```
//!
//! A [`Schedule`] is a list of [`Step`]s, repeated; [`schedules`] is its
//! proptest strategy and it implements `arbitrary::Arbitrary`.
//! [`check_framed_roundtrip`] runs the round trip through tokio-util's
//! `FramedWrite` and `FramedRead` with both ends scheduled;
//! [`Target::check_framed_roundtrip`](crate::Target::check_framed_roundtrip)
//! runs it on split codecs with a comparison, a merge and the time limit.
//! Failing schedules are saved and replayed (their text form parses back:
//! `"hold(3) chunk(5)".parse::<Schedule>()`).
//!
//! # Examples
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use bytes::Bytes;
//! use framecheck::io::{ChunkedReader, ChunkedWriter, Schedule, Step};
//! use futures_util::{SinkExt, StreamExt};
//! use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
//!
//! let (a, b) = tokio::io::duplex(64);
//! let a = ChunkedWriter::new(a, Schedule::new(vec![Step::Hold(3), Step::Chunk(5)]));
//! let b = ChunkedReader::new(b, Schedule::new(vec![Step::Chunk(1), Step::Pending, Step::Chunk(7)]));
//! let mut tx = FramedWrite::new(a, LengthDelimitedCodec::new());
//! let mut rx = FramedRead::new(b, LengthDelimitedCodec::new());
//! tx.send(Bytes::from_static(b"hello")).await.unwrap();
//! tx.send(Bytes::from_static(b"")).await.unwrap();
//! assert_eq!(&rx.next().await.unwrap().unwrap()[..], b"hello");
//! assert_eq!(&rx.next().await.unwrap().unwrap()[..], b"");
//! # }
//! ```

pub(crate) mod pipeline;
mod reader;
mod schedule;
mod writer;

pub use pipeline::{check_framed_roundtrip, framed_case};
pub use reader::ChunkedReader;
pub use schedule::{schedules, schedules_with_interrupts, ParseScheduleError, Schedule, Step};
pub use writer::ChunkedWriter;
