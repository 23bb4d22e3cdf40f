//! Support code for the fuzz targets; only the self-test's planted bug.
#![forbid(unsafe_code)]

#[cfg(feature = "planted-bug")]
pub mod planted;
