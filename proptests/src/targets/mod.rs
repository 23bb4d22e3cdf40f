//! Fuzz target bodies: the logic behind `fuzz/fuzz_targets/*.rs`.
