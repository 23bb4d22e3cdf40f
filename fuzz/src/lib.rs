//! Support code for the fuzz targets: the allocation limit ([`alloc`]) and
//! the self-test's planted bugs.
#![forbid(unsafe_code)]

pub mod alloc;

#[cfg(feature = "planted-bug")]
pub mod planted;
