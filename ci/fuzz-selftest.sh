#!/usr/bin/env bash
# Shows that ci/fuzz.sh finds the bug it exists to find: a decoder that sizes
# its read buffer from the header length field before checking it against
# the limit (fuzz/src/planted.rs, in front of the real HeaderCodec). The bug
# lives only in the `selftest_planted_alloc` target, built only with the fuzz
# crate's `planted-bug` feature; the real codec is untouched.
#
#   bash ci/fuzz-selftest.sh      # PASS/FAIL, and how long finding it took
#
# Passes when fuzz.sh exits non-zero, libFuzzer reports an allocation over
# the malloc limit, the minimised input is printed and starts with a header
# length over the limit, and all of it happens within FUZZ_SELFTEST_SECS
# (default 60) of fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

budget="${FUZZ_SELFTEST_SECS:-60}"
target=selftest_planted_alloc
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $*"; echo "--- ci/fuzz.sh output:"; tail -n 60 "$log"; exit 1; }

started=$SECONDS
rc=0
bash ci/fuzz.sh --features planted-bug --targets "$target" --time "$budget" >"$log" 2>&1 || rc=$?
total=$((SECONDS - started))

[ "$rc" -ne 0 ] || fail "ci/fuzz.sh exited 0: the planted bug was not found in ${budget}s"
grep -q "out-of-memory (malloc(" "fuzz/artifacts/$target/fuzz.log" 2>/dev/null \
  || grep -q "out-of-memory (malloc(" "fuzz/artifacts/$target/replay.log" 2>/dev/null \
  || fail "no malloc-limit report: ci/fuzz.sh failed for another reason"
min="$(sed -n 's/^ *minimised input: \([^ ]*\).*/\1/p' "$log" | head -n1)"
[ -n "$min" ] && [ -s "$min" ] || fail "ci/fuzz.sh did not print a minimised input"

# The minimised stream (after the chunking prefix) must start with a header
# length beyond the 64 KiB limit: the planted allocation's trigger.
declared="$(python3 - "$min" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
n = data[0] if data else 0
stream = data[1 + n:] if n else data[1:]
print(struct.unpack("<i", stream[:4])[0] if len(stream) >= 4 else "short")
EOF
)"
case "$declared" in
  short | -*) fail "minimised input $min does not start with a positive length ($declared)" ;;
esac
[ "$declared" -gt 65536 ] || fail "minimised length $declared is within the limit"

found_after="$(cat "fuzz/artifacts/$target/elapsed" 2>/dev/null || echo "?")"
alloc="$(grep -o "out-of-memory (malloc([0-9]*))" "fuzz/artifacts/$target/fuzz.log" | head -n1)"
echo "PASS: planted bug found after ${found_after}s of fuzzing (${total}s with build and"
echo "      minimisation): $alloc; minimised input $min declares a $declared-byte header."
