#!/usr/bin/env bash
# FrameBench: every re-created bug and its fixed twin against framecheck at
# default settings, one read, partial-io's random reads, one-byte reads and
# framecheck's fuzz oracle under cargo fuzz; writes docs/framebench.md and
# docs/framebench.svg (raw results in target/framebench/results.json).
#   bash ci/framebench.sh                 # 20 seeds, fuzz 1 s x 5 seeds per bug and twin
#   bash ci/framebench.sh --no-fuzz       # without the fuzz leg (no nightly needed)
#   bash ci/framebench.sh --seeds 5 --fuzz-seconds 2 --fuzz-seeds 3
# The committed report's run took 434 s on 2 shared cores, release builds
# included; the fuzz leg's fixed twins each take the
# whole budget (about 2 s a run with libFuzzer's start and stop).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=20
fuzz=1
fuzz_seconds=1
fuzz_seeds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --no-fuzz) fuzz=0; shift ;;
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --fuzz-seeds) fuzz_seeds="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "framebench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
started=$SECONDS
work=target/framebench
mkdir -p "$work"

fuzz_args=()
if [ "$fuzz" = 1 ]; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
  fi
  toolchain=()
  if cargo +nightly --version >/dev/null 2>&1; then
    toolchain=(+nightly)
  else
    export RUSTC_BOOTSTRAP=1
  fi
  triple="$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')"
  # No sanitizer: the codecs are safe Rust, and a panic aborts the run as
  # a crash either way; optimised, so that the budget buys executions.
  say "cargo ${toolchain[*]} fuzz build --fuzz-dir framebench/fuzz -O -s none bench"
  cargo "${toolchain[@]}" fuzz build --fuzz-dir framebench/fuzz -O -s none bench
  fuzz_args=(--fuzz-bin "framebench/fuzz/target/$triple/release/bench"
    --fuzz-seconds "$fuzz_seconds" --fuzz-seeds "$fuzz_seeds")
fi

say "cargo run --release -p framebench -- run --seeds $seeds ${fuzz_args[*]}"
cargo run --release -p framebench -- run --seeds "$seeds" "${fuzz_args[@]}" \
  --work "$work" --json "$work/results.json" \
  --md docs/framebench.md --svg docs/framebench.svg
say "done in $((SECONDS - started)) s"
