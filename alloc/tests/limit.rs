//! Limit mode, as the fuzz crate installs it: any single allocation above
//! the limit aborts the process with a one-line report. Each case runs in a
//! child process (this test binary, re-run on one test).

use std::process::{Command, Output};

use framecheck_alloc::Tracking;

#[global_allocator]
static ALLOC: Tracking = Tracking::with_limit_from_env(c"FRAMECHECK_TEST_LIMIT_MB", 64 << 20);

/// Runs test `name` of this binary in a child with the limit variable set
/// to `mib` (unset when `None`) and `FRAMECHECK_ALLOC_CHILD` set.
fn child(name: &str, mib: Option<&str>) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--test-threads=1"])
        .env("FRAMECHECK_ALLOC_CHILD", "1")
        .env_remove("FRAMECHECK_TEST_LIMIT_MB");
    if let Some(mib) = mib {
        cmd.env("FRAMECHECK_TEST_LIMIT_MB", mib);
    }
    cmd.output().unwrap()
}

fn in_child() -> bool {
    std::env::var_os("FRAMECHECK_ALLOC_CHILD").is_some()
}

#[test]
fn allocation_of_100_mib() {
    if in_child() {
        let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(100 << 20));
        drop(v);
    }
}

#[test]
fn over_the_default_limit_aborts_with_a_report() {
    if in_child() {
        return;
    }
    let out = child("allocation_of_100_mib", None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "framecheck-alloc: allocation of 104857600 bytes is over the limit of 67108864 \
             bytes (64 MiB; set FRAMECHECK_TEST_LIMIT_MB to change it)"
        ),
        "{stderr}"
    );
}

#[test]
fn the_variable_raises_or_lifts_the_limit() {
    if in_child() {
        return;
    }
    for mib in ["200", "0"] {
        let out = child("allocation_of_100_mib", Some(mib));
        assert!(
            out.status.success(),
            "{mib}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = child("allocation_of_100_mib", Some("50"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the limit of 52428800 bytes"));
}
