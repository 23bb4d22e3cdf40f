//! Shared helpers for framecheck's criterion benchmarks.
#![forbid(unsafe_code)]
