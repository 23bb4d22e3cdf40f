//! Placeholder: the harness helper is writing this bench (round-trip cases/s
//! and `check_decoder` calls/s).

fn main() {}
