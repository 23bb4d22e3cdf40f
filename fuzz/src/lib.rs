//! Support code for the fuzz targets; only the self-test's planted bug.

#[cfg(feature = "planted-bug")]
pub mod planted;
