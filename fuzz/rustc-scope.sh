#!/usr/bin/env bash
# The RUSTC_WRAPPER of fuzz builds (fuzz_scope_env in fuzz/options.sh).
#
# cargo fuzz instruments every crate for libFuzzer's coverage. This wrapper
# turns the instrumentation off in the crates named in FUZZ_UNINSTRUMENTED
# (space-separated crate names), by appending a coverage level of 0 after
# cargo fuzz's own (LLVM keeps the last). Everything else, the codec and
# the libraries it calls and the fuzz models, stays instrumented. A wrapper
# that was already set (sccache, ...) is in FUZZ_INNER_RUSTC_WRAPPER and
# runs the compiler.
set -euo pipefail
rustc="$1"
shift
crate=""
prev=""
for arg in "$@"; do
  if [ "$prev" = "--crate-name" ]; then
    crate="$arg"
    break
  fi
  prev="$arg"
done
extra=()
case " ${FUZZ_UNINSTRUMENTED:-} " in
  *" $crate "*) [ -n "$crate" ] && extra=(-Cllvm-args=-sanitizer-coverage-level=0) ;;
esac
if [ -n "${FUZZ_INNER_RUSTC_WRAPPER:-}" ]; then
  exec "$FUZZ_INNER_RUSTC_WRAPPER" "$rustc" "$@" "${extra[@]}"
fi
exec "$rustc" "$@" "${extra[@]}"
