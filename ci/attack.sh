#!/usr/bin/env bash
# The attacks of cli/tests/hostile.rs at full size, against a release build
# of the framecheck servers on loopback, with the figures printed: how long
# a good client waits while trickling peers hold every slot (10 000
# connections each sending a byte every 15 s at the defaults, and 200
# sending a header byte a second into 200 slots), the server's
# memory under 400 claims of 8 MiB in a 2 GiB address space, what slow
# readers hold and for how long. Not run in CI (minutes, thousands of
# sockets); needs python3 (standard library) for the attacking peers.
#
#   bash ci/attack.sh                       # everything, defaults below
#   TRICKLERS=2000 SLOW_READERS=200 bash ci/attack.sh
#   ATTACKS="lockout memory" bash ci/attack.sh
#   TRICKLE_CONNS=5000 TRICKLE_SECS=30 ATTACKS=trickle bash ci/attack.sh
#   KEEP_LOGS=1 bash ci/attack.sh           # keep the servers' stderr
set -euo pipefail
cd "$(dirname "$0")/.."

TRICKLE_CONNS="${TRICKLE_CONNS:-10000}" # connections held at the defaults...
TRICKLE_PERIOD="${TRICKLE_PERIOD:-15}"  # ...each sending a byte this often (s)
TRICKLE_SECS="${TRICKLE_SECS:-60}"      # how long the trickle attack lasts (s)
TRICKLERS="${TRICKLERS:-200}"          # peers trickling a header byte a second
CLAIMS="${CLAIMS:-400}"                # headers declaring 8 MiB, no body
SLOW_READERS="${SLOW_READERS:-200}"    # clients sending 8 MiB and never reading
ATTACKS="${ATTACKS:-trickle lockout memory slow-readers drain}"

# Each side of the trickle attack holds TRICKLE_CONNS descriptors (the
# attacking peers in one process, the server in another), plus slack.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
FDS="$(ulimit -n)"
if [ "$FDS" != unlimited ] && [ "$((TRICKLE_CONNS + 200))" -gt "$FDS" ]; then
  echo "note: the descriptor limit is $FDS (hard limit $(ulimit -Hn)); the trickle attack runs with $((FDS - 200)) connections, not $TRICKLE_CONNS"
  TRICKLE_CONNS="$((FDS - 200))"
fi
# Rate-limited warnings report their counts every 5 s instead of every
# 60 s, so the counts below are complete when a server is stopped.
export FRAMECHECK_LOG_WINDOW_MS=5000
cargo build --release -q -p framecheck-cli
BIN="$PWD/target/release/framecheck"
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  if [ -n "${KEEP_LOGS:-}" ]; then echo "server logs kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# start NAME CMD...: runs a server, waits for `listening on`, sets ADDR and PID.
start() {
  local name="$1"; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 200); do
    if grep -q '^listening on ' "$TMP/$name.out" 2>/dev/null; then
      ADDR="$(sed -n 's/^listening on //p' "$TMP/$name.out" | head -1)"
      return
    fi
    sleep 0.05
  done
  echo "$name did not start:"; cat "$TMP/$name.err"; exit 1
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }
alive() { kill -0 "$1" 2>/dev/null && echo alive || echo DEAD; }
# events PATTERN FILE: how many times a rate-limited warning happened (each
# line logged at once, plus the N of each "(xN more ...)" summary line).
events() {
  grep "$1" "$2" 2>/dev/null | awk '{ if (match($0, /\(x[0-9]+ more/)) n += substr($0, RSTART + 2, RLENGTH - 7); else n++ } END { print n + 0 }'
}

cat >"$TMP/peers.py" <<'PY'
import json, socket, struct, sys, time

def addr(a):
    host, port = a.rsplit(":", 1)
    return host, int(port)

def prefix(data_size, pad=0):
    h = json.dumps({"data_size": data_size, "pad": "x" * pad}).encode()
    return struct.pack("<i", len(h)) + h

def good(a, timeout=60.0):
    """One message; seconds from connect to reply."""
    t = time.monotonic()
    s = socket.create_connection(addr(a), timeout=timeout)
    s.sendall(frame(b"good client"))
    want = len(frame(b"good client"))
    got = b""
    while len(got) < want:
        c = s.recv(want - len(got))
        if not c:
            raise SystemExit("good client: closed after %d bytes" % len(got))
        got += c
    s.close()
    return time.monotonic() - t

def frame(body):
    h = json.dumps({"data_size": len(body)}).encode()
    return struct.pack("<i", len(h)) + h + body

def connect_many(a, n):
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection(addr(a), timeout=5))
        except OSError as e:
            print("connect failed after %d: %s" % (len(socks), e), file=sys.stderr)
            break
    return socks

cmd = sys.argv[1]
if cmd == "trickle":
    import collections, selectors, threading
    a, n, period, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    sel = selectors.DefaultSelector()
    wire = prefix(5, pad=200)
    sent = {}                      # socket -> bytes of the header sent so far
    turn = collections.deque()     # the order in which they send
    def open_one():
        s = socket.create_connection(addr(a), timeout=5)
        s.send(wire[:1])  # its first byte at once, the next ones every period
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        sent[s] = 1
        turn.append(s)
    t0 = time.monotonic()
    for _ in range(n):
        try:
            open_one()
        except OSError as e:
            print("trickle: connect failed after %d: %s" % (len(sent), e), file=sys.stderr)
            break
    print("trickle: %d connections open after %.1f s; each sends a byte every %g s (%.0f B/s in all)" % (
        len(sent), time.monotonic() - t0, period, len(sent) / period))
    sys.stdout.flush()
    waits, failures = [], []
    stop = threading.Event()
    def good_clients():
        # One good client every 2 s, each waiting up to 45 s.
        while not stop.is_set():
            try:
                waits.append(good(a, timeout=45))
            except Exception as e:
                failures.append(str(e))
            stop.wait(2.0)
    g = threading.Thread(target=good_clients)
    start = time.monotonic()
    g.start()
    closed = reopened = 0
    credit = 0.0
    last = start
    while time.monotonic() - start < secs:
        for key, _ in sel.select(timeout=0.01):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                # Closed by the server: the attacker takes the slot again.
                sel.unregister(s)
                s.close()
                del sent[s]
                closed += 1
                try:
                    open_one()
                    reopened += 1
                except OSError:
                    pass
        now = time.monotonic()
        credit += (now - last) * len(sent) / period
        last = now
        while credit >= 1 and turn:
            s = turn.popleft()
            if s not in sent:
                continue
            credit -= 1
            i = sent[s] % len(wire)
            try:
                s.send(wire[i:i + 1])
                sent[s] += 1
            except OSError:
                pass
            turn.append(s)
    stop.set()
    g.join()
    waits.sort()
    if waits:
        print("trickle: %d good clients served, time to be served median %.3f s, max %.3f s; %d failed" % (
            len(waits), waits[len(waits) // 2], waits[-1], len(failures)))
    else:
        print("trickle: no good client served; %d failed: %s" % (len(failures), failures[:3]))
    print("trickle: the server closed %d attacking connections in %.0f s (%d reopened); %d open at the end" % (
        closed, secs, reopened, len(sent)))
elif cmd == "lockout":
    a, n, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    socks = connect_many(a, n)
    wire = prefix(5, pad=200)
    start = time.monotonic()
    i = 0
    waits = []
    # A byte a second on every connection; a good client every 2 s.
    next_good = start + 2.0
    while time.monotonic() - start < secs:
        for s in list(socks):
            try:
                s.send(wire[i % len(wire):i % len(wire) + 1])
            except OSError:
                socks.remove(s)
                try:
                    socks.append(socket.create_connection(addr(a), timeout=5))
                except OSError:
                    pass
        i += 1
        if time.monotonic() >= next_good:
            try:
                waits.append(good(a, timeout=45))
            except Exception as e:
                waits.append(float("inf"))
                print("good client failed:", e, file=sys.stderr)
            next_good = time.monotonic() + 2.0
        time.sleep(max(0.0, start + i - time.monotonic()))
    waits.sort()
    print("lockout: %d tricklers, %d good clients, wait median %.3f s, max %.3f s" % (
        n, len(waits), waits[len(waits) // 2], waits[-1]))
elif cmd == "claims":
    a, n = sys.argv[2], int(sys.argv[3])
    socks = connect_many(a, n)
    for s in socks:
        s.sendall(prefix(8 << 20))
    time.sleep(2.0)
    print("claims: %d headers declaring 8 MiB sent (%d bytes in all); good client answered in %.3f s" % (
        len(socks), len(socks) * len(prefix(8 << 20)), good(a)))
    sys.stdin.read()  # hold the connections until the caller has measured
elif cmd == "slow-readers":
    a, n = sys.argv[2], int(sys.argv[3])
    socks = connect_many(a, n)
    msg = frame(b"x" * (8 << 20))
    for s in socks:
        s.setblocking(False)
    pending = {s: 0 for s in socks}
    t = time.monotonic()
    while pending and time.monotonic() - t < 120:
        for s in list(pending):
            try:
                k = s.send(msg[pending[s]:pending[s] + (1 << 20)])
                pending[s] += k
                if pending[s] >= len(msg):
                    del pending[s]
            except BlockingIOError:
                pass
            except OSError:
                del pending[s]
        time.sleep(0.001)
    print("slow-readers: %d clients sent 8 MiB each and read nothing" % n)
    sys.stdout.flush()
    # Wait until the server has closed them all: the socket's TCP state
    # (TCP_INFO's first byte) leaves ESTABLISHED when the server resets or
    # closes it, even with reply bytes still unread in the receive queue.
    t0 = time.monotonic()
    open_ = set(socks)
    while open_ and time.monotonic() - t0 < 600:
        for s in list(open_):
            try:
                state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
            except OSError:
                state = 0
            if state != 1:
                open_.discard(s)
        time.sleep(0.5)
    print("slow-readers: %d of %d closed by the server %.1f s after sending" % (
        n - len(open_), n, time.monotonic() - t0))
elif cmd == "drain":
    a = sys.argv[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    s.connect(addr(a))
    s.sendall(frame(b"y" * (8 << 20)))
    t = time.monotonic()
    got = 0
    try:
        while True:
            c = s.recv(1024)
            if not c:
                break
            got += len(c)
            time.sleep(1 / 16)
    except OSError:
        pass
    print("drain: a reader at 16 KiB/s was cut off after %.1f s, having read %d of %d reply bytes" % (
        time.monotonic() - t, got, len(frame(b"y" * (8 << 20)))))
PY

for attack in $ATTACKS; do
  case "$attack" in
  trickle)
    echo "== trickle: $TRICKLE_CONNS connections each send a byte every $TRICKLE_PERIOD s, echo-server at its defaults"
    start trickle "$BIN" echo-server --listen 127.0.0.1:0
    python3 "$TMP/peers.py" trickle "$ADDR" "$TRICKLE_CONNS" "$TRICKLE_PERIOD" "$TRICKLE_SECS" &
    PY_PID=$!
    peak=0
    while kill -0 "$PY_PID" 2>/dev/null; do
      r="$(rss_kib "$PID")"; [ "$r" != "?" ] && [ "$r" -gt "$peak" ] && peak="$r"
      sleep 1
    done
    wait "$PY_PID" || true
    sleep 6
    echo "   server $(alive "$PID"), RSS peak $peak KiB (sampled); closed by the frame timeout: $(events 'frame timeout' "$TMP/trickle.err"), evictions: $(events 'evicted the connection' "$TMP/trickle.err"), accept failures: $(events 'accept failed' "$TMP/trickle.err")"
    stop "$PID"
    ;;
  lockout)
    echo "== lockout: $TRICKLERS peers trickle a header byte a second into every slot"
    start echo "$BIN" echo-server --listen 127.0.0.1:0 --max-connections "$TRICKLERS" --idle-timeout 2000
    python3 "$TMP/peers.py" lockout "$ADDR" "$TRICKLERS" 30
    sleep 6
    echo "   server $(alive "$PID"); evictions: $(events 'evicted the connection' "$TMP/echo.err")"
    stop "$PID"
    ;;
  memory)
    echo "== memory: $CLAIMS headers declaring 8 MiB, no body, under ulimit -v 2 GiB"
    start mem sh -c 'ulimit -v 2097152 && exec "$0" "$@"' "$BIN" echo-server --listen 127.0.0.1:0
    mkfifo "$TMP/hold"
    python3 "$TMP/peers.py" claims "$ADDR" "$CLAIMS" <"$TMP/hold" &
    PY_PID=$!
    exec 3>"$TMP/hold"
    sleep 4
    echo "   server $(alive "$PID"), RSS $(rss_kib "$PID") KiB (peak $(hwm_kib "$PID") KiB) while the claims are open"
    exec 3>&-
    wait "$PY_PID" || true
    stop "$PID"
    ;;
  slow-readers)
    echo "== slow readers: $SLOW_READERS clients each send 8 MiB and never read the reply"
    start slow "$BIN" echo-server --listen 127.0.0.1:0
    python3 "$TMP/peers.py" slow-readers "$ADDR" "$SLOW_READERS" &
    PY_PID=$!
    peak=0
    while kill -0 "$PY_PID" 2>/dev/null; do
      r="$(rss_kib "$PID")"; [ "$r" != "?" ] && [ "$r" -gt "$peak" ] && peak="$r"
      sleep 0.5
    done
    sleep 6
    echo "   server $(alive "$PID"), peak RSS $(hwm_kib "$PID") KiB (sampled peak $peak KiB; --max-memory 256 MiB); refused by the budget: $(events 'memory budget spent' "$TMP/slow.err"), closed by the idle timeout: $(events 'idle timeout' "$TMP/slow.err")"
    stop "$PID"
    ;;
  drain)
    echo "== drain: one client sends 8 MiB and reads the reply at 16 KiB/s"
    start drain "$BIN" echo-server --listen 127.0.0.1:0
    python3 "$TMP/peers.py" drain "$ADDR"
    grep -o 'closing connection: .*' "$TMP/drain.err" | head -1 | sed 's/^/   server: /'
    stop "$PID"
    ;;
  *) echo "unknown attack $attack"; exit 2 ;;
  esac
done
