//! Shared code of framecheck's criterion benchmarks and the report
//! generator that turns their results into `docs/benchmarks.md`.
//!
//! - [`latency`]: per-request latency percentiles, which criterion does not
//!   keep, recorded by the loopback benches and read by the report.
//! - [`paired`]: ratios measured side by side, alternating the two cases.
//! - [`results`]: reads criterion's `target/criterion/**/new/*.json`.
//! - [`report`]: the Markdown report, with reference figures and ratios.
//! - [`chart`]: one SVG bar chart per group.
#![forbid(unsafe_code)]

pub mod chart;
pub mod latency;
pub mod paired;
pub mod report;
pub mod results;
