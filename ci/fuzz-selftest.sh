#!/usr/bin/env bash
# Shows that ci/fuzz.sh finds the bugs it exists to find: decoders that size
# a buffer from a length the peer claims before checking it against the
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
#   bash ci/fuzz-selftest.sh      # PASS/FAIL, and how long finding each took
#
# Passes when fuzz.sh exits non-zero and, for each target, an allocation
# sized from the claim is reported: over libFuzzer's malloc limit, or past
# AddressSanitizer's largest allocation (`allocation-size-too-big`), or past
# `isize::MAX` (the allocator's capacity-overflow panic); a minimised input
# is printed; and the finding came within FUZZ_SELFTEST_SECS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

budget="${FUZZ_SELFTEST_SECS:-60}"
targets="selftest_planted_alloc selftest_planted_body_alloc"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $*"; echo "--- ci/fuzz.sh output:"; tail -n 60 "$log"; exit 1; }

started=$SECONDS
rc=0
FUZZ_PARALLEL=2 bash ci/fuzz.sh --features planted-bug --targets "$targets" --time "$budget" \
  >"$log" 2>&1 || rc=$?
total=$((SECONDS - started))
[ "$rc" -ne 0 ] || fail "ci/fuzz.sh exited 0: no planted bug was found in ${budget}s"

for t in $targets; do
  flog="fuzz/artifacts/$t/fuzz.log"
  what="$(grep -o -m1 -E "out-of-memory \(malloc\([0-9]+\)\)|allocation-size-too-big|capacity overflow" \
    "$flog" 2>/dev/null || true)"
  [ -n "$what" ] || fail "$t: no oversized-allocation report in $flog"
  min="$(grep -A1 "fuzz target '$t' found" "$log" | sed -n 's/^ *minimised input: \([^ ]*\).*/\1/p' | head -n1)"
  [ -n "$min" ] && [ -s "$min" ] || fail "$t: ci/fuzz.sh printed no minimised input"
  elapsed="$(cat "fuzz/artifacts/$t/elapsed")"
  [ "$elapsed" -le "$budget" ] || fail "$t: found only after ${elapsed}s"
  echo "PASS: $t: $what after ${elapsed}s of fuzzing; minimised input $min ($(wc -c <"$min") bytes)"
done
echo "PASS: both planted bugs found; ${total}s in all, build and minimisation included"
