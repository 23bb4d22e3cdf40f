#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, tests (property
# suites included), docs, benches compiled, a fuzz smoke run and the fuzz
# script's self-test.
#   bash ci/test.sh             # everything
#   FRAMECHECK_SKIP_FUZZ=1 bash ci/test.sh   # all but the fuzz smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

# Property tests: enough cases to find the planted bugs, few enough to keep
# the suite within minutes on 2 cores. Override to go deeper.
export PROPTEST_CASES="${PROPTEST_CASES:-256}"

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
cargo test --workspace

# framecheck's asynchronous-codec support is behind a feature: its model
# of that crate's FramedRead, checked against the real one, and the guide.
step "cargo test -p framecheck --features asynchronous-codec --lib --test guide_async_codec"
cargo clippy -p framecheck --all-targets --features asynchronous-codec -- -D warnings
cargo test -p framecheck --features asynchronous-codec --lib --test guide_async_codec

step "RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps"
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps

step "cargo bench -p framecheck-benches --no-run"
cargo bench -p framecheck-benches --no-run

if [ -f ci/fuzz.sh ] && [ -z "${FRAMECHECK_SKIP_FUZZ:-}" ]; then
  step "bash ci/fuzz.sh --smoke"
  bash ci/fuzz.sh --smoke
  # The test of the script: planted allocation bugs must be found in < 60 s.
  step "bash ci/fuzz-selftest.sh"
  bash ci/fuzz-selftest.sh
fi
