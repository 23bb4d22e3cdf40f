//! The `framecheck` command as a library: every subcommand is a module with
//! an `Args` struct (parsed by clap in `main.rs`) and a `run` (async, except
//! `fuzz-server` and `replay`, whose engine uses threads and blocking
//! sockets).
//!
//! - [`echo`]: the tutorial's TCP echo server and client, in three formats.
//! - [`udp`]: the tutorial's UDP pair, boundaries kept, size limited.
//! - [`transfer`]: `send` and `receive`, a file in the `HeaderCodec` format.
//! - [`proxy`]: `slice-proxy`, which re-segments TCP traffic both ways.
//! - [`fuzz_server`]: `fuzz-server` and `replay`, protocol fuzzing of a
//!   live server in any language (a library engine; the commands are thin).
//! - [`showdown`]: the demonstration that runs everything above in-process,
//!   one part per module; [`report`] prints and writes what the parts found.
//!
//! [`net`] holds what the servers share: the message formats, the idle
//! timeout, graceful shutdown and the `listening on IP:PORT` line. [`cut`]
//! is the seeded, offset-determined cutter that `slice-proxy` and
//! `fuzz-server` share.
#![forbid(unsafe_code)]

pub mod cut;
pub mod echo;
pub mod fuzz_server;
pub mod net;
pub mod proxy;
pub mod report;
pub mod showdown;
pub mod transfer;
pub mod udp;
