//! FrameBench: real framing bugs from public issue trackers, each
//! re-created as a small tokio-util codec with its fixed twin, and the
//! measure of what finds them.
//!
//! - [`bugs`]: the codecs (one module per bug, its tracker cited in the
//!   module docs) and the list [`bugs::all`].
//! - [`legs`]: framecheck at default settings and the baselines (one
//!   read, partial-io's random reads, one-byte reads), counted in cases.
//! - [`fuzz`]: the `cargo fuzz` target's body (framecheck's fuzz oracle on
//!   the bug named by `FRAMEBENCH_BUG`).
//! - `report` (feature `report`): the runner's Markdown report and chart.
//!
//! ```
//! use framebench::bugs;
//!
//! let bug = bugs::by_id("tonic-76").unwrap();
//! let found = bug.subject.framecheck(false, 1);
//! assert!(found.cases.is_some());
//! let twin = bug.subject.framecheck(true, 1);
//! assert_eq!(twin.cases, None);
//! ```
#![forbid(unsafe_code)]

pub mod bugs;
mod error;
pub mod fuzz;
pub mod legs;
#[cfg(feature = "report")]
pub mod report;
mod strict_eof;
mod subject;

pub use crate::error::Error;
pub use crate::strict_eof::StrictEof;
pub use crate::subject::{CodecSubject, Subject};
