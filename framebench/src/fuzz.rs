//! The body of the `cargo fuzz` target in `framebench/fuzz/`: framecheck's
//! fuzz oracle ([`framecheck::fuzz::check_input`]) on the decoder of
//! the bug named by `FRAMEBENCH_BUG`, its fixed twin when
//! `FRAMEBENCH_FIXED=1`.

use std::sync::OnceLock;

use crate::bugs::{self, Bug};

fn target() -> &'static (Bug, bool) {
    static TARGET: OnceLock<(Bug, bool)> = OnceLock::new();
    TARGET.get_or_init(|| {
        let id = std::env::var("FRAMEBENCH_BUG").unwrap_or_default();
        let bug = bugs::by_id(&id).unwrap_or_else(|| {
            let ids: Vec<&str> = bugs::all().iter().map(|b| b.id).collect();
            panic!("FRAMEBENCH_BUG={id:?} is none of {ids:?}")
        });
        let fixed = std::env::var("FRAMEBENCH_FIXED").is_ok_and(|v| v == "1");
        (bug, fixed)
    })
}

/// Runs the oracle on `data`.
///
/// # Panics
///
/// With the oracle's report when it finds the decoder disagreeing with
/// itself (libFuzzer then saves the input), or when `FRAMEBENCH_BUG` names
/// no bug.
pub fn run(data: &[u8]) {
    let (bug, fixed) = target();
    if let Err(failure) = bug.subject.fuzz_one(*fixed, data) {
        panic!("{}: {failure}", bug.id);
    }
}
