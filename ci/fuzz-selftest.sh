#!/usr/bin/env bash
# Shows that fuzzing finds the bugs it exists to find: decoders that size a
# buffer from a length the peer claims before checking it against the
# limit. Two planted bugs, each in front of the real HeaderCodec
# (fuzz/src/planted.rs), each in its own target built only with the fuzz
# crate's `planted-bug` feature; the real codec is untouched.
#
#   selftest_planted_alloc       the read buffer reserved from the 4-byte
#                                header length field before the header limit
#                                (raw bytes, `fuzz_codec!(decode: ..)`)
#   selftest_planted_body_alloc  the body buffer reserved from the JSON
#                                header's `data_size` before the body limit
#                                (structured `HeaderCase`s, as `header`;
#                                raw-byte fuzzing rarely finds this one, since
#                                a longer number needs a matching length field)
#
# By default in the fast configuration of long runs: no sanitizer
# (`cargo fuzz build -s none`), optimised, no debug assertions, no
# comparison tracing. There
# libFuzzer's -malloc_limit_mb never fires (it sees allocations only through
# a sanitizer's malloc hooks); the fuzz crate's allocator (fuzz/src/alloc.rs,
# framecheck-alloc in limit mode) aborts on any single allocation above
# FUZZ_MALLOC_MB (default 64) MiB, and libFuzzer saves that input as a crash.
#
#   bash ci/fuzz-selftest.sh          # fast build; PASS/FAIL and time to find
#   bash ci/fuzz-selftest.sh --asan   # the same through ci/fuzz.sh (ASan build)
#
# Passes when, for each target: the run stops with a crash whose log shows an
# allocation over the limit (fast: framecheck-alloc's report; --asan: also
# libFuzzer's malloc limit, ASan's allocation-size-too-big, or a capacity
# overflow panic), a minimised input exists, and the finding came within
# FUZZ_SELFTEST_SECS (default 60) seconds of fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

budget="${FUZZ_SELFTEST_SECS:-60}"
malloc_mb="${FUZZ_MALLOC_MB:-64}"
targets="selftest_planted_alloc selftest_planted_body_alloc"
log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$log" "$work"' EXIT
fail() { echo "FAIL: $*"; echo "--- output:"; tail -n 60 "$log"; exit 1; }
started=$SECONDS

if [ "${1:-}" = "--asan" ]; then
  rc=0
  FUZZ_PARALLEL=2 bash ci/fuzz.sh --features planted-bug --targets "$targets" --time "$budget" \
    >"$log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || fail "ci/fuzz.sh exited 0: no planted bug was found in ${budget}s"
  for t in $targets; do
    flog="fuzz/artifacts/$t/fuzz.log"
    what="$(grep -o -m1 -E "framecheck-alloc: allocation of [0-9]+ bytes|out-of-memory \(malloc\([0-9]+\)\)|allocation-size-too-big|capacity overflow" \
      "$flog" 2>/dev/null || true)"
    [ -n "$what" ] || fail "$t: no oversized-allocation report in $flog"
    min="$(grep -A1 "fuzz target '$t' found" "$log" | sed -n 's/^ *minimised input: \([^ ]*\).*/\1/p' | head -n1)"
    [ -n "$min" ] && [ -s "$min" ] || fail "$t: ci/fuzz.sh printed no minimised input"
    elapsed="$(cat "fuzz/artifacts/$t/elapsed")"
    [ "$elapsed" -le "$budget" ] || fail "$t: found only after ${elapsed}s"
    echo "PASS (ASan): $t: $what after ${elapsed}s of fuzzing; minimised input $min ($(wc -c <"$min") bytes)"
  done
  echo "PASS: both planted bugs found with AddressSanitizer; ${total:-$((SECONDS - started))}s in all"
  exit 0
fi

# shellcheck source=fuzz/options.sh
. fuzz/options.sh
# The coverage scope of the other fuzz builds (fuzz/options.sh).
fuzz_scope_env
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi
toolchain=()
if cargo +nightly --version >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi
triple="$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')"
# Its own target directory: the ASan build of ci/fuzz.sh stays intact.
target_dir=fuzz/target/fast
bin_dir="$target_dir/$triple/release"
# As fuzz/options.sh's fast configuration (no comparison tracing), but
# with FUZZ_CODEGEN_UNITS codegen units (default 16: a quicker build in CI).
build=(build -s none --release --no-trace-compares --features planted-bug
  --target-dir "$target_dir" --codegen-units "${FUZZ_CODEGEN_UNITS:-16}")
for t in $targets; do
  echo "==> cargo ${toolchain[*]} fuzz ${build[*]} $t"
  cargo "${toolchain[@]}" fuzz "${build[@]}" "$t" >>"$log" 2>&1 || fail "build of $t failed"
done
echo "==> built in $((SECONDS - started))s"

seeds_of() { # the raw-byte target starts from decode's seeds (which do not trigger it)
  case "$1" in
    selftest_planted_alloc) echo "fuzz/corpus/decode" ;;
    *) mkdir -p "$work/no-seeds"; echo "$work/no-seeds" ;;
  esac
}

for t in $targets; do
  art="fuzz/artifacts/$t-fast"
  rm -rf "$art"
  mkdir -p "$art" "$work/$t"
  t0=$SECONDS
  rc=0
  FUZZ_MALLOC_MB="$malloc_mb" "$bin_dir/$t" "$work/$t" "$(seeds_of "$t")" -max_total_time="$budget" \
    -rss_limit_mb=1536 -timeout=10 -dict=fuzz/dict/header.dict -artifact_prefix="$art/" \
    >"$art/fuzz.log" 2>&1 || rc=$?
  elapsed=$((SECONDS - t0))
  cp "$art/fuzz.log" "$log"
  [ "$rc" -ne 0 ] || fail "$t: no finding in ${budget}s (exit 0)"
  what="$(grep -o -m1 -E "framecheck-alloc: allocation of [0-9]+ bytes is over the limit of [0-9]+ bytes" \
    "$art/fuzz.log" || true)"
  [ -n "$what" ] || fail "$t: the run stopped (exit $rc) without framecheck-alloc's report"
  crash="$(find "$art" -maxdepth 1 -name 'crash-*' | head -n1)"
  [ -n "$crash" ] || fail "$t: no crash input saved in $art"
  [ "$elapsed" -le "$budget" ] || fail "$t: found only after ${elapsed}s"
  runs="$(grep -oE '^#[0-9]+' "$art/fuzz.log" | tail -n1 | tr -d '#' || true)"
  min="$art/minimised"
  FUZZ_MALLOC_MB="$malloc_mb" "$bin_dir/$t" -minimize_crash=1 -max_total_time=10 \
    -exact_artifact_path="$min" "$crash" >"$art/tmin.log" 2>&1 || true
  [ -s "$min" ] || min="$crash"
  echo "PASS: $t: ${what#framecheck-alloc: } after ${elapsed}s (${runs:-?} inputs); input $min ($(wc -c <"$min") bytes): $(od -An -tx1 -N24 "$min" | tr -s ' \n' ' ')"
done
echo "PASS: both planted bugs found without a sanitizer; $((SECONDS - started))s in all, build included"
