#!/usr/bin/env bash
# The full-length fuzz-server checks (not run in CI; the tests run short
# versions): every planted Python server found within 30 s with seed 1, its
# replay file replayed 10 times, the two correct servers clean for 30 s,
# cases/s against echo-server and a threaded Python server, and how often a
# Python server's reads match the cuts.
#   bash ci/fuzz-server-check.sh            # about 5 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p framecheck-cli
B=target/release/framecheck
S=cli/tests/servers
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

printf '\n== planted bugs: --time 30 --seed 1, then `replay --times 10`\n'
printf '%-22s %-13s %-10s %-10s %s\n' server kind found_after minimised replay
for spec in len_one_recv:json-header header_one_recv:json-header body_ignores_eof:json-header \
    alloc_from_claim:json-header neg_header_len:json-header crash_non_json:json-header \
    one_recv_lines:lines threaded_split_len:json-header single_thread_blocked:json-header; do
  name=${spec%%:*}; format=${spec#*:}
  set +e
  $B fuzz-server --format "$format" --time 30 --seed 1 --replays 10 --out "$OUT/$name" \
    -- python3 "$S/$name.py" '{port}' >"$OUT/$name.log" 2>&1
  code=$?
  set -e
  if [ "$code" != 1 ]; then
    printf '%-22s NOT FOUND (exit %s)\n' "$name" "$code"; continue
  fi
  kind=$(sed -n 's/^1\. \([a-z-]*\) finding.*/\1/p' "$OUT/$name.log")
  after=$(sed -n 's/.*found after \([0-9.]* s\).*/\1/p' "$OUT/$name.log")
  minimised=$(sed -n 's/.*reproduced in \([0-9]* of [0-9]*\) replays.*/\1/p' "$OUT/$name.log")
  file=$(ls "$OUT/$name"/*.json | head -1)
  replay=$($B replay --times 10 "$file" -- python3 "$S/$name.py" '{port}' | sed -n 's/^reproduced in \([0-9]* of [0-9]*\).*/\1/p' || true)
  printf '%-22s %-13s %-10s %-10s %s\n' "$name" "$kind" "$after" "$minimised" "${replay:-0 of 10}"
done

printf '\n== correct servers, 30 s each (want 0 findings)\n'
for name in correct_threaded correct_asyncio; do
  $B fuzz-server --format json-header --time 30 --seed 1 --out "$OUT/$name" \
    -- python3 "$S/$name.py" '{port}' | head -1 | sed "s/^/$name: /" || true
done

printf '\n== cases/s (10 s each, defaults: --jobs 8 --pause-us 1000)\n'
$B fuzz-server --format json-header --time 10 --out "$OUT/perf" \
  -- "$B" echo-server --listen '127.0.0.1:{port}' | head -1 | sed 's/^/echo-server: /'
$B fuzz-server --format json-header --time 10 --jobs 16 --pause-us 100 --out "$OUT/perf" \
  -- "$B" echo-server --listen '127.0.0.1:{port}' | head -1 | sed 's/^/echo-server --jobs 16 --pause-us 100: /'
$B fuzz-server --format json-header --time 10 --out "$OUT/perf" \
  -- python3 "$S/correct_threaded.py" '{port}' | head -1 | sed 's/^/python threaded: /'

printf '\n== Python reads vs cuts (300 conversations per pause)\n'
FRAMECHECK_CUT_CONVERSATIONS=300 cargo test -q -p framecheck-cli --test fuzz_server_cuts -- --nocapture 2>&1 | grep pause
printf '\nload average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
