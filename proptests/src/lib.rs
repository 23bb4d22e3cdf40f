//! framecheck: a harness that finds the framing bugs TCP's byte stream
//! provokes in any tokio-util codec.
#![forbid(unsafe_code)]

pub mod targets;
