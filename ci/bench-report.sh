#!/usr/bin/env bash
# Runs framecheck's criterion benches and writes docs/benchmarks.md plus one
# SVG chart per group (docs/bench-*.svg).
#   bash ci/bench-report.sh              # full run (about 20 minutes on 2 cores)
#   bash ci/bench-report.sh --quick      # about 5 minutes: short measurements and
#                                        # no criterion plots (--noplot)
#   bash ci/bench-report.sh --skip-fuzz  # without the fuzzing speed section
# The fuzzing speed (bash ci/fuzz.sh --speed -> target/fuzz-speed.json) is
# measured when cargo-fuzz and a nightly toolchain are installed; otherwise
# the report says it was not measured.
# Extra arguments after -- go to criterion, e.g. -- loopback_reqresp
# Criterion's HTML report ends up in target/criterion/report/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
fuzz=1
criterion_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --skip-fuzz) fuzz=0 ;;
    --) shift; criterion_args+=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

target_dir="${CARGO_TARGET_DIR:-target}"
command="bash ci/bench-report.sh"
if [ "$mode" = quick ]; then
  command="$command --quick"
  # Our benches read this; the harness bench gets criterion's own flags.
  export FRAMECHECK_BENCH_QUICK=1
  harness_args=(--warm-up-time 0.5 --measurement-time 1 --sample-size 20)
  # Criterion's plots take seconds per benchmark: skip them when quick.
  criterion_args=(--noplot "${criterion_args[@]}")
else
  export FRAMECHECK_BENCH_QUICK=0
  harness_args=()
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
# Every figure comes from this run: drop the files of older runs.
fuzz_speed=target/fuzz-speed.json
rm -f "$target_dir/framecheck-bench/latency.json" "$target_dir/framecheck-bench/ratios.json" \
  "$fuzz_speed"
# The strategies bench ends with the side-by-side ratio phase.
export FRAMECHECK_BENCH_PAIRED=1

step() { printf '\n==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# Build first, so compiling is not mixed into the measurements.
step "cargo bench -p framecheck-benches --no-run"
cargo bench -p framecheck-benches --no-run
cargo build --release -p framecheck-benches --bin report

step "strategies over loopback TCP"
cargo bench -p framecheck-benches --bench strategies -- "${criterion_args[@]}"
step "codec in memory"
cargo bench -p framecheck-benches --bench codec -- "${criterion_args[@]}"
step "harness"
cargo bench -p framecheck-benches --bench harness -- "${harness_args[@]}" "${criterion_args[@]}"

# Why the fuzzing speed was not measured, for the report; empty if it was.
fuzz_note=""
if [ "$fuzz" = 1 ]; then
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    fuzz_note="cargo-fuzz is not installed"
  elif ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz_note="no nightly toolchain is installed"
  elif ! grep -q -- '--speed' ci/fuzz.sh 2>/dev/null; then
    fuzz_note="this checkout's ci/fuzz.sh has no --speed mode"
  else
    step "fuzzing speed (bash ci/fuzz.sh --speed)"
    if ! bash ci/fuzz.sh --speed; then
      fuzz_note="bash ci/fuzz.sh --speed failed"
      rm -f "$fuzz_speed"
    fi
  fi
else
  command="$command --skip-fuzz"
  fuzz_note="the run was started with --skip-fuzz"
fi
[ -z "$fuzz_note" ] || echo "fuzzing speed not measured: $fuzz_note"
step "report"

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
cargo run --release -p framecheck-benches --bin report -- \
  --criterion-dir "$target_dir/criterion" \
  --latency "$target_dir/framecheck-bench/latency.json" \
  --ratios "$target_dir/framecheck-bench/ratios.json" \
  --fuzz-speed "$fuzz_speed" \
  --fuzz-note "$fuzz_note" \
  --out-dir docs \
  --mode "$mode" \
  --command "$command" \
  --date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --load "before: $load_before; after: $load_after"
echo "report: docs/benchmarks.md; criterion: $target_dir/criterion/report/index.html"
