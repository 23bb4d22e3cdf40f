//! Shared code of framecheck's criterion benchmarks and the report
//! generator that turns their results into `docs/benchmarks.md`.
//!
//! - [`latency`]: per-request latency percentiles, which criterion does not
//!   keep, recorded by the loopback benches and read by the report.
//! - [`paired`]: ratios measured side by side, alternating the two cases.
//! - [`results`]: reads criterion's `target/criterion/**/new/*.json`.
//! - [`fuzz_speed`]: the fuzz targets' exec/s from `ci/fuzz.sh --speed`.
//! - [`report`]: the Markdown report: tables and verdicts in Rust, prose in
//!   a template.
//! - [`chart`]: the bar chart (re-exported from `framecheck-figures`, which
//!   the CLI's showdown shares).
#![forbid(unsafe_code)]

pub use framecheck_figures::chart;
pub mod fuzz_speed;
pub mod latency;
pub mod paired;
pub mod report;
pub mod results;
