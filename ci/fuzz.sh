#!/usr/bin/env bash
# Builds the cargo-fuzz targets, replays the committed seed corpus, then
# fuzzes each target for a bounded time. Exits non-zero on any finding
# (panic, sanitizer report, oversized allocation, leak, timeout) and prints
# where the minimised input is.
#
#   bash ci/fuzz.sh --smoke              # CI: ASan, 45 s per target, two at a time
#   bash ci/fuzz.sh --time 600           # full speed, 10 minutes per target
#   bash ci/fuzz.sh --time 3600 --jobs 8 # full speed, fork mode, 8 processes per target
#   bash ci/fuzz.sh --targets "header decode" --time 60
#   bash ci/fuzz.sh --replay-only        # build and replay the seeds only
#   bash ci/fuzz.sh --coverage           # line coverage of the corpora
#   bash ci/fuzz.sh --speed              # exec/s per target, ASan and full speed,
#                                        # into target/fuzz-speed.json
#
# Options:
#   --smoke          SECS=45, targets run in parallel batches of `nproc`, ASan
#   --time SECS      fuzzing time per target (default 60; with --speed, the
#                    length of each measuring run, default 10)
#   --jobs N         libFuzzer fork mode with N processes per target (targets
#                    then run one after another); the work corpus is
#                    minimised afterwards with `cargo fuzz cmin`
#   --asan | --fast  the build configuration (fuzz/options.sh): AddressSanitizer
#                    with debug assertions, or no sanitizer at full speed.
#                    Default: --asan with --smoke and --replay-only, --fast
#                    otherwise (long runs)
#   --targets LIST   space-separated target names (default: all but selftest_*
#                    and decode_plain; with --speed, decode_plain too)
#   --features LIST  cargo features for the fuzz crate (the selftest uses it)
#   --replay-only    stop after replaying the committed corpus
#   --coverage       instead of fuzzing: build with coverage instrumentation
#                    (`cargo fuzz coverage`, needs nightly's llvm-tools:
#                    `rustup component add llvm-tools-preview --toolchain
#                    nightly`), run each target's seeds and work corpus, and
#                    print per-file line coverage of codec/ and the targets;
#                    HTML-free detail: `llvm-cov show` on the printed paths
#   --speed          instead of fuzzing: build both configurations and fuzz
#                    each target from a copy of its committed seeds for SECS,
#                    FUZZ_SPEED_RUNS times (default 3, -seed=1, 2, ...) in
#                    each; exec/s is executions per CPU second of the fuzzing
#                    process, so other load on the machine skews it less than
#                    wall time would, and each figure is the median of the
#                    runs (one run moves by 10-20% with what it happens to
#                    find). Then replays the corpus the first
#                    full-speed `decode` run grew through `decode` (the
#                    oracle) and `decode_plain` (one plain decode), each input
#                    500 times, side by side: the oracle's cost per input.
#                    Writes target/fuzz-speed.json (schema in the README).
#
# Limits that make findings of what a test run would miss (fuzz/options.sh):
#   -malloc_limit_mb (FUZZ_MALLOC_MB, default 64): any single allocation
#     larger than this is reported, so a buffer sized from an untrusted
#     length (before its limit check) is a finding. libFuzzer sees
#     allocations through the sanitizer's malloc hooks; FUZZ_MALLOC_MB is
#     also exported to the fuzz processes.
#   -rss_limit_mb (FUZZ_RSS_MB, default 1536), -timeout (FUZZ_TIMEOUT, 10 s).
# Also: FUZZ_PARALLEL (targets at once; default nproc with --smoke, else 1),
# FUZZ_SPEED_RUNS (--speed: runs per target and build, default 3),
# FUZZ_CODEGEN_UNITS (ASan build only; default 16, for faster builds).
#
# Corpora: fuzz/corpus/<target>/ holds the small committed seeds, named by
# kind; new inputs go to fuzz/corpus-work/<target>/ (git-ignored, kept
# between runs). Findings go to fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=""
jobs=0
smoke=0
targets=""
features=""
replay_only=0
coverage=0
speed=0
speed_runs="${FUZZ_SPEED_RUNS:-3}"
config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; secs=45 ;;
    --time) secs="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    --asan) config=asan ;;
    --fast) config=fast ;;
    --targets) targets="$2"; shift ;;
    --features) features="$2"; shift ;;
    --replay-only) replay_only=1 ;;
    --coverage) coverage=1 ;;
    --speed) speed=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$secs" ]; then
  secs=60
  [ "$speed" -eq 1 ] && secs=10
fi
if [ -z "$config" ]; then
  config=fast
  { [ "$smoke" -eq 1 ] || [ "$replay_only" -eq 1 ]; } && config=asan
fi

# shellcheck source=fuzz/options.sh
. fuzz/options.sh
# Every cargo fuzz command below (build, tmin, cmin, coverage) builds with
# the same coverage scope, so none rebuilds what another built.
fuzz_scope_env
malloc_mb="$FUZZ_MALLOC_MB"
rss_mb="$FUZZ_RSS_MB"
timeout_s="$FUZZ_TIMEOUT"
say() { printf '==> %s\n' "$*"; }
started=$SECONDS

# 1. cargo-fuzz, if missing.
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi

# 2. Toolchain: nightly if rustup has it, else stable with RUSTC_BOOTSTRAP
#    (the sanitizer flags are unstable).
toolchain=()
if cargo +nightly --version >/dev/null 2>&1; then
  toolchain=(+nightly)
  say "toolchain: $(cargo +nightly --version)"
else
  export RUSTC_BOOTSTRAP=1
  say "toolchain: $(cargo --version) with RUSTC_BOOTSTRAP=1 (no nightly found)"
fi
triple="$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')"

if [ -z "$targets" ]; then
  for t in $(cargo "${toolchain[@]}" fuzz list); do
    if fuzz_is_fuzzed "$t" || { [ "$speed" -eq 1 ] && [ "$t" = decode_plain ]; }; then
      targets="$targets $t"
    fi
  done
fi

# Coverage instead of fuzzing.
if [ "$coverage" -eq 1 ]; then
  llvm_bin="$(rustc "${toolchain[@]}" --print sysroot)/lib/rustlib/$triple/bin"
  [ -x "$llvm_bin/llvm-cov" ] || {
    echo "fuzz.sh: no llvm-cov in $llvm_bin; try: rustup component add llvm-tools-preview --toolchain nightly" >&2
    exit 2
  }
  objects=()
  profiles=()
  for t in $targets; do
    corpora=()
    for d in "fuzz/corpus-work/$t" "fuzz/corpus/$t"; do [ -d "$d" ] && corpora+=("$d"); done
    mkdir -p fuzz/coverage
    say "cargo ${toolchain[*]} fuzz coverage $t ${corpora[*]}"
    cargo "${toolchain[@]}" fuzz coverage --target-dir fuzz/target/coverage-build "$t" "${corpora[@]}" \
      >"fuzz/coverage/$t.log" 2>&1 || { tail -n 20 "fuzz/coverage/$t.log"; exit 1; }
    bin="$(find fuzz/target/coverage-build -path "*/release/$t" -type f | head -n1)"
    profdata="fuzz/coverage/$t/coverage.profdata"
    say "$t: $(find "${corpora[@]}" -type f | wc -l) inputs, $(find "${corpora[@]}" -type f -exec cat {} + | wc -c) bytes; line coverage:"
    "$llvm_bin/llvm-cov" report "$bin" -instr-profile="$profdata" \
      -ignore-filename-regex='(\.cargo|rustc|/library/)' |
      awk '/^(codec\/src|codec-fuzz\/src)/ || /^TOTAL/ {printf "    %-45s %6s lines, %6s missed, %8s\n", $1, $8, $9, $10}'
    echo "    detail: $llvm_bin/llvm-cov show $bin -instr-profile=$profdata codec/src/codec.rs"
    objects+=(-object "$bin")
    profiles+=("$profdata")
  done
  "$llvm_bin/llvm-profdata" merge -sparse "${profiles[@]}" -o fuzz/coverage/all.profdata
  say "all targets together: line coverage of codec/"
  "$llvm_bin/llvm-cov" report "${objects[@]}" -instr-profile=fuzz/coverage/all.profdata \
    -ignore-filename-regex='(\.cargo|rustc|/library/|proptests/)' |
    awk '/^---/ {go = 1; next} go && NF >= 10 {printf "    codec/src/%-35s %6s lines, %6s missed, %8s\n", $1, $8, $9, $10}' |
    sed 's|codec/src/TOTAL|TOTAL          |'
  exit 0
fi

# 3. Build every target in the configuration (fuzz/options.sh).
build() { # config; sets build_flags and bin_dir
  read -r -a build_flags <<<"$(fuzz_build_flags "$1")"
  [ -n "$features" ] && build_flags+=(--features "$features")
  bin_dir="$(fuzz_bin_dir "$1" "$triple")"
  say "build ($1): cargo ${toolchain[*]} fuzz build ${build_flags[*]} (no coverage in: $FUZZ_UNINSTRUMENTED)"
  cargo "${toolchain[@]}" fuzz build "${build_flags[@]}"
  say "built in $((SECONDS - started)) s"
  check_scope
}

# The coverage scope took effect: `decode` (the oracle, uninstrumented)
# has about as many coverage counters as `decode_plain` (no oracle), not
# twice as many, as when the oracle was instrumented. A build that cargo
# reused from before the scope, or a renamed crate, fails here.
check_scope() {
  case " $FUZZ_UNINSTRUMENTED " in *" decode "*) ;; *) return 0 ;; esac
  [ -x "$bin_dir/decode" ] && [ -x "$bin_dir/decode_plain" ] || return 0
  local empty counts
  empty="$(mktemp -d)"
  counts="$(for t in decode decode_plain; do
    "$bin_dir/$t" -runs=0 "$empty" 2>&1 | sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters.*/\1/p' | head -n1
  done | tr '\n' ' ')"
  rmdir "$empty"
  read -r oracle plain <<<"$counts"
  if [ -z "${oracle:-}" ] || [ -z "${plain:-}" ]; then
    echo "fuzz.sh: could not read the coverage counters of decode and decode_plain" >&2
    exit 1
  fi
  say "coverage counters: decode $oracle, decode_plain $plain"
  if [ $((oracle * 4)) -gt $((plain * 5)) ]; then
    echo "fuzz.sh: decode has $oracle coverage counters against decode_plain's $plain: the oracle is instrumented (fuzz/options.sh, FUZZ_UNINSTRUMENTED); rebuild from a clean fuzz/target" >&2
    exit 1
  fi
}

# Extra libFuzzer flags per target: the dictionary where the input is text.
target_flags() {
  local dict
  dict="$(fuzz_dict "$1")"
  [ -z "$dict" ] || echo "-dict=$dict"
}
seed_dir() { fuzz_seed_dir "$1"; }
limits=(-rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb" -timeout="$timeout_s")

# Speed instead of fuzzing: exec/s per target and configuration, and the
# oracle's cost per input against a plain decode.
if [ "$speed" -eq 1 ]; then
  command -v python3 >/dev/null || { echo "fuzz.sh: --speed needs python3" >&2; exit 2; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  TIMEFORMAT='%U %S'
  cpu_of() { awk '{printf "%.3f", $1 + $2}' "$1"; }
  rows="$work/rows.tsv"
  : >"$rows"
  for cfg in asan fast; do
    build "$cfg"
    for t in $targets; do
      for rep in $(seq 1 "$speed_runs"); do
        corpus="$work/$cfg/$t-$rep"
        mkdir -p "$corpus"
        cp "$(seed_dir "$t")"/* "$corpus/"
        log="$work/$cfg-$t-$rep.log"
        # shellcheck disable=SC2046
        { time "$bin_dir/$t" "$corpus" -max_total_time="$secs" -seed="$rep" "${limits[@]}" \
          -print_final_stats=1 $(target_flags "$t") >"$log" 2>&1; } 2>"$log.cpu" || {
          tail -n 30 "$log"
          echo "fuzz.sh: $t ($cfg) failed while measuring; replay its findings with ci/fuzz.sh --targets $t" >&2
          exit 1
        }
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
        cpu="$(cpu_of "$log.cpu")"
        printf '%s\t%s\t%s\t%s\n' "$t" "$cfg" "$runs" "$cpu" >>"$rows"
        say "$t ($cfg, run $rep of $speed_runs): $runs runs in ${secs}s, $cpu CPU s: $(awk -v r="$runs" -v c="$cpu" 'BEGIN {printf "%d", r / c}') exec/s"
      done
    done
  done
  # The oracle against a plain decode, over the same inputs: the corpus the
  # full-speed `decode` run grew from the committed seeds.
  ratio_line=""
  if [[ " $targets " == *" decode "* ]] && [ -x "$bin_dir/decode_plain" ]; then
    replays=500
    inputs=("$work/fast/decode-1"/*)
    for t in decode decode_plain; do
      { time "$bin_dir/$t" -runs="$replays" "${limits[@]}" "${inputs[@]}" \
        >"$work/replay-$t.log" 2>&1; } 2>"$work/replay-$t.cpu" || {
        tail -n 30 "$work/replay-$t.log"; exit 1; }
    done
    ratio_line="$(printf '%s\t%s\t%s\t%s' "${#inputs[@]}" "$replays" \
      "$(cpu_of "$work/replay-decode.cpu")" "$(cpu_of "$work/replay-decode_plain.cpu")")"
  fi
  mkdir -p target
  machine="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)"
  python3 - "$rows" "$secs" "$machine" "$ratio_line" target/fuzz-speed.json <<'PY'
import json, sys
rows, secs, machine, ratio, path = sys.argv[1:6]
import statistics
targets, by_key = [], {}
for line in open(rows):
    target, config, runs, cpu = line.split("\t")
    if (target, config) not in by_key:
        by_key[(target, config)] = {"target": target, "config": config, "seconds": int(secs), "runs": []}
        targets.append(by_key[(target, config)])
    by_key[(target, config)]["runs"].append(round(int(runs) / float(cpu)))
for t in targets:
    t["execs_per_sec"] = round(statistics.median(t["runs"]))
    print(f"==> {t['target']} ({t['config']}): median {t['execs_per_sec']} exec/s of {t['runs']}")
out = {"machine": machine, "targets": targets}
if ratio:
    inputs, replays, oracle_cpu, plain_cpu = ratio.split("\t")
    execs = int(inputs) * int(replays)
    oracle, plain = execs / float(oracle_cpu), execs / float(plain_cpu)
    out["oracle_vs_plain"] = {"oracle_target": "decode", "plain_target": "decode_plain",
                              "oracle_execs_per_sec": round(oracle),
                              "plain_execs_per_sec": round(plain),
                              "ratio": round(plain / oracle, 2)}
    print(f"==> oracle vs plain, {inputs} inputs x {replays}: decode {round(oracle)} exec/s, "
          f"decode_plain {round(plain)} exec/s, ratio {plain / oracle:.2f}")
with open(path, "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
PY
  say "wrote target/fuzz-speed.json in $((SECONDS - started)) s"
  exit 0
fi

build "$config"

# Findings of this run are the artifacts newer than this marker.
marker="$(mktemp)"
trap 'rm -f "$marker"' EXIT
status=0
report_finding() { # target
  local t="$1" artifact
  for artifact in $(find "fuzz/artifacts/$t" -maxdepth 1 -newer "$marker" \
    \( -name 'crash-*' -o -name 'oom-*' -o -name 'leak-*' -o -name 'timeout-*' \) | sort); do
    echo
    echo "!!! fuzz target '$t' found: $artifact"
    local min="fuzz/artifacts/$t/minimized-$(basename "$artifact")"
    if timeout 180 cargo "${toolchain[@]}" fuzz tmin "${build_flags[@]}" "$t" "$artifact" \
      -- "${limits[@]}" -exact_artifact_path="$min" >"fuzz/artifacts/$t/tmin.log" 2>&1 \
      && [ -s "$min" ]; then
      echo "    minimised input: $min ($(wc -c <"$min") bytes)"
    else
      echo "    (minimisation did not finish; log: fuzz/artifacts/$t/tmin.log)"
      min="$artifact"
    fi
    echo "    as bytes (base64): $(base64 -w0 <"$min")"
    echo "    reproduce: cargo ${toolchain[*]} fuzz run $t $min"
    echo "    as a value: cargo ${toolchain[*]} fuzz fmt $t $min"
  done
}

# 4. Replay the committed corpus: every seed must pass before fuzzing.
for t in $targets; do
  seeds="$(seed_dir "$t")"
  mkdir -p "fuzz/artifacts/$t" "$seeds"
  say "replay $seeds ($(ls "$seeds" | wc -l) seeds) through $t"
  if ! "$bin_dir/$t" -runs=0 "${limits[@]}" -artifact_prefix="fuzz/artifacts/$t/" \
    "$seeds" >"fuzz/artifacts/$t/replay.log" 2>&1; then
    tail -n 40 "fuzz/artifacts/$t/replay.log"
    report_finding "$t"
    status=1
  fi
done
if [ "$status" -ne 0 ] || [ "$replay_only" -eq 1 ]; then
  say "replay $([ $status -eq 0 ] && echo passed || echo FAILED) after $((SECONDS - started)) s"
  exit "$status"
fi

# 5. Fuzz each target for $secs seconds.
run_target() { # target; output in fuzz/artifacts/<t>/fuzz.log
  local t="$1" work="fuzz/corpus-work/$1" t0=$SECONDS rc=0
  mkdir -p "$work"
  local args=("$work" "$(seed_dir "$t")" -max_total_time="$secs" "${limits[@]}"
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 $(target_flags "$t"))
  [ "$jobs" -gt 0 ] && args+=(-fork="$jobs")
  "$bin_dir/$t" "${args[@]}" >"fuzz/artifacts/$t/fuzz.log" 2>&1 || rc=$?
  echo "$((SECONDS - t0))" >"fuzz/artifacts/$t/elapsed"
  return "$rc"
}

summarize() { # target exit-code
  local t="$1" rc="$2" log="fuzz/artifacts/$1/fuzz.log"
  local runs execs
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  execs="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)"
  # Fork mode prints no final stats: take the last status line.
  [ -n "$execs" ] || execs="$(grep -oE 'exec/s: [0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+' || true)"
  [ -n "$runs" ] || runs="$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#' || true)"
  say "$t: exit $rc after $(cat "fuzz/artifacts/$t/elapsed") s, ${runs:-?} runs, ${execs:-?} exec/s, corpus $(ls "fuzz/corpus-work/$t" | wc -l) inputs; $(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)"
  if [ "$rc" -ne 0 ]; then
    grep -E -m5 "panicked|ERROR: |SUMMARY" "$log" || true
    grep -A6 -m1 "panicked at" "$log" || true
    report_finding "$t"
    status=1
  fi
}

if [ "$jobs" -gt 0 ]; then
  for t in $targets; do
    say "fuzz $t for ${secs}s, fork mode with $jobs jobs"
    rc=0; run_target "$t" || rc=$?
    summarize "$t" "$rc"
    say "cargo fuzz cmin $t (minimise fuzz/corpus-work/$t)"
    cargo "${toolchain[@]}" fuzz cmin "${build_flags[@]}" "$t" "fuzz/corpus-work/$t" -- "${limits[@]}" \
      >"fuzz/artifacts/$t/cmin.log" 2>&1 || say "cmin failed (log: fuzz/artifacts/$t/cmin.log)"
  done
else
  parallel="$(nproc 2>/dev/null || echo 1)"
  [ "$smoke" -eq 1 ] || [ -n "${FUZZ_PARALLEL:-}" ] || parallel=1
  parallel="${FUZZ_PARALLEL:-$parallel}"
  set -- $targets
  while [ $# -gt 0 ]; do
    batch=()
    while [ $# -gt 0 ] && [ "${#batch[@]}" -lt "$parallel" ]; do batch+=("$1"); shift; done
    say "fuzz ${batch[*]} for ${secs}s each"
    pids=()
    for t in "${batch[@]}"; do run_target "$t" & pids+=($!); done
    for i in "${!batch[@]}"; do
      rc=0; wait "${pids[$i]}" || rc=$?
      summarize "${batch[$i]}" "$rc"
    done
  done
fi

say "fuzzing $([ $status -eq 0 ] && echo passed || echo FOUND PROBLEMS) in $((SECONDS - started)) s"
exit "$status"
