//! `fuzz-server`: network protocol fuzzing of a live server, in any
//! language, with no spec of its replies.
//!
//! ```text
//! conversation (format model, --seeds) --cutter (shared with slice-proxy)--> socket --> replies
//!        |                                                                           |
//!   hostile variants                 oracles: segmentation invariance, liveness (canary),
//!        |                                    hostile survival, resources (/proc)
//!   minimiser <------------------------- finding --> replay file --> `framecheck replay`
//! ```
//!
//! The pieces, each its own module:
//!
//! - [`format`](mod@format): the message formats (`json-header`, `length`, `lines`,
//!   `raw`): building messages, finding header ends, counting replies;
//! - [`gen`]: the conversation generator (case `i` of a seed is fixed);
//! - [`case`]: a case as data (messages, cuts, pause, mode), and the
//!   shared [`cut`](crate::cut) module splits it into writes;
//! - [`exchange`]: the client side over blocking sockets (`TCP_NODELAY`,
//!   one write per piece, a real pause after each);
//! - [`oracle`]: running one case and judging it;
//! - [`minimise`]: fewest messages, fewest cuts, shortest bytes;
//! - [`replay`]: the replay file and the Python regression client;
//! - [`target`]: the server (spawned and restarted, or `--connect`);
//! - [`campaign`]: the loop that ties them together;
//! - [`cli`]: the two commands, a thin layer;
//! - [`demo`]: the showdown's third part.
//!
//! A Rust test runs the same campaign against a server it starts:
//!
//! ```no_run
//! use std::time::Duration;
//! use framecheck_cli::fuzz_server::{campaign, Config, Format, Spec, Target};
//!
//! let mut target = Target::start(
//!     Spec::Spawn(vec!["python3".into(), "server.py".into(), "{port}".into()]),
//!     Duration::from_secs(10),
//! ).unwrap();
//! let mut config = Config::new(Format::JsonHeader);
//! config.time = Duration::from_secs(5);
//! let report = campaign::run(&config, &mut target);
//! assert!(report.findings.is_empty(), "{report}");
//! ```
//!
//! What the oracles cannot see: replies that are wrong the same way
//! however the bytes are cut (the oracle compares the server with itself);
//! in `raw` format, anything the byte stream of replies hides (a server
//! that replies per `recv` gives the same bytes whole or cut); bugs that
//! need state across connections or more than three messages; timing
//! bugs that the pause between writes hides; and, with `--connect`, a
//! process's exit status, stderr, memory and descriptors.

pub mod campaign;
pub mod case;
pub mod cli;
pub mod demo;
pub mod exchange;
pub mod format;
pub mod gen;
pub mod minimise;
pub mod oracle;
pub mod replay;
pub mod target;

pub use campaign::{Config, Finding, Report};
pub use case::{Case, Mode};
pub use format::Format;
pub use oracle::{Kind, Observation};
pub use replay::ReplayFile;
pub use target::{Spec, Target};
