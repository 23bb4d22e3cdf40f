//! How framecheck's reports show numbers, in one place for the benchmark
//! report (`framecheck-benches`) and `framecheck showdown`:
//!
//! - [`fmt`]: rates, sizes, durations, ratios and axis labels as text;
//! - [`percentile`]: nearest-rank percentiles of latency samples;
//! - [`chart`]: a horizontal bar chart on a log axis, as SVG (plotters);
//! - [`table`]: one table as Markdown or as aligned text.
#![forbid(unsafe_code)]

pub mod chart;
pub mod fmt;
pub mod percentile;
pub mod table;
