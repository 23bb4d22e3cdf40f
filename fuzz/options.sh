# Sourced (not run) by ci/fuzz.sh and .clusterfuzzlite/build.sh, so that a
# local run and ClusterFuzzLite build the same targets with the same flags and
# run them with the same libFuzzer options and seeds.
#
# Two build configurations:
#   asan  AddressSanitizer, optimised, debug assertions on (an overflowing
#         length computation panics rather than wraps), FUZZ_CODEGEN_UNITS
#         codegen units (default 16: faster to build, slightly slower to run).
#         The CI smoke run and ClusterFuzzLite's pull-request fuzzing.
#   fast  No sanitizer, optimised, debug assertions off, one codegen unit,
#         and no comparison tracing (`--no-trace-compares`): the speed
#         libFuzzer allows. Long runs (`ci/fuzz.sh --time`, `--jobs`) and
#         ClusterFuzzLite's batch fuzzing.
#         What it trades: libFuzzer no longer sees the operands of the
#         code's comparisons, so it cannot copy a constant the code compares
#         with (a limit, a JSON key, the chunking trailer) into an input;
#         the dictionaries (fuzz/dict/) carry those constants instead, and
#         the asan build keeps the tracing. Comparison tracing was half the
#         CPU time of the fast targets (perf). Measured on 2 shared cores,
#         both builds fuzzing side by side for 45 s from the committed
#         seeds: decode 90 300 -> 113 500 exec/s per CPU second, cov 1499 ->
#         1519, ft 3568 -> 3959; header 37 400 -> 54 500, cov 1738 -> 1717,
#         ft 4410 -> 4495. Fat LTO gained nothing measurable and is off.
#         Panics stay unwinding: the oracle catches a decoder's panic to
#         report it.
# framecheck's own crates forbid `unsafe` (all but the allocator); ASan
# watches the unsafe code of the dependencies (bytes, tokio, serde_json) and
# gives libFuzzer the malloc hooks behind -malloc_limit_mb.

# Limits that make findings of what a test run would miss.
FUZZ_MALLOC_MB="${FUZZ_MALLOC_MB:-64}"
FUZZ_RSS_MB="${FUZZ_RSS_MB:-1536}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
# Read by the fuzz processes themselves, not only passed as flags.
export FUZZ_MALLOC_MB

# Crates whose code gives libFuzzer no coverage (fuzz/rustc-scope.sh): the
# format-blind oracle and harness (framecheck, with proptest), the tracking
# allocator (it runs on every allocation), and the crates of the targets
# whose glue instantiates the oracle (`decode`, whose body
# `framecheck_codec_fuzz::decode::run` is inlined there, and the raw-byte
# self-test). libFuzzer's cost per input grows with the edges an input runs,
# and the oracle's edges, which say nothing about the codec, were half of
# those of `decode`. Measured side by side on 2 shared cores, 20 s each from
# the committed seeds: decode 109 500 -> 154 100 exec/s, and the corpus grown
# covers more of the codec: replayed through the scoped build, cov 1260 ->
# 1292 and ft 3503 -> 3825 (through the fully instrumented one, ft 4542 ->
# 4616). The fuzz models (framecheck_codec_fuzz) stay instrumented: their
# `arbitrary` parsing steers header, roundtrip and transport (transport
# fell from 835 to 119 cov with them and tokio left uninstrumented).
FUZZ_UNINSTRUMENTED="${FUZZ_UNINSTRUMENTED-framecheck framecheck_alloc proptest decode selftest_planted_alloc}"

# fuzz_scope_env: exports what a `cargo fuzz build` needs to leave
# FUZZ_UNINSTRUMENTED uninstrumented: fuzz/rustc-scope.sh as RUSTC_WRAPPER
# (chaining one already set), and a --cfg naming the list in RUSTFLAGS, so
# that cargo rebuilds what was built with another list (cargo does not
# rebuild when only the wrapper's behaviour changes).
fuzz_scope_env() {
  local scope_wrapper
  scope_wrapper="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rustc-scope.sh"
  if [ -n "${RUSTC_WRAPPER:-}" ] && [ "$RUSTC_WRAPPER" != "$scope_wrapper" ]; then
    export FUZZ_INNER_RUSTC_WRAPPER="$RUSTC_WRAPPER"
  fi
  export RUSTC_WRAPPER="$scope_wrapper"
  export FUZZ_UNINSTRUMENTED
  local tag
  tag="$(printf '%s' "$FUZZ_UNINSTRUMENTED" | cksum | cut -d' ' -f1)"
  case " ${RUSTFLAGS:-} " in
    *" --cfg=framecheck_fuzz_scope="*) ;;
    *) export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--cfg=framecheck_fuzz_scope=\"$tag\"" ;;
  esac
}

# fuzz_build_flags CONFIG: the `cargo fuzz build` flags of a configuration.
# Each configuration has its own target directory, so both stay built.
fuzz_build_flags() {
  case "$1" in
    asan) echo "--sanitizer address --release --debug-assertions --codegen-units ${FUZZ_CODEGEN_UNITS:-16}" ;;
    fast) echo "--sanitizer none --release --codegen-units 1 --no-trace-compares --target-dir fuzz/target/fast" ;;
    *) echo "fuzz/options.sh: unknown build configuration '$1'" >&2; return 2 ;;
  esac
}

# fuzz_bin_dir CONFIG TRIPLE: where `cargo fuzz build` puts the binaries.
fuzz_bin_dir() {
  case "$1" in
    asan) echo "fuzz/target/$2/release" ;;
    fast) echo "fuzz/target/fast/$2/release" ;;
  esac
}

# fuzz_is_fuzzed TARGET: whether a target is fuzzed (by ci/fuzz.sh by
# default and by ClusterFuzzLite). Not the self-tests (planted bugs, built
# only with the `planted-bug` feature), not `decode_plain` (the yardstick of
# `ci/fuzz.sh --speed`; `decode` runs all it runs).
fuzz_is_fuzzed() {
  case "$1" in
    selftest_* | decode_plain) return 1 ;;
    *) return 0 ;;
  esac
}

# fuzz_dict TARGET: the target's dictionary, if it has one (the targets whose
# input is the JSON-header wire format).
fuzz_dict() {
  case "$1" in
    header | decode | decode_plain | selftest_*) echo "fuzz/dict/header.dict" ;;
  esac
}

# fuzz_seed_dir TARGET: the committed seeds of a target. The self-tests show
# fuzzing, not seeds, finding their bug: the raw-byte one starts from
# `decode`'s seeds (which do not trigger it), the structured one from nothing.
fuzz_seed_dir() {
  case "$1" in
    decode_plain | selftest_planted_alloc) echo "fuzz/corpus/decode" ;;
    selftest_*) echo "fuzz/corpus-work/no-seeds" ;;
    *) echo "fuzz/corpus/$1" ;;
  esac
}
