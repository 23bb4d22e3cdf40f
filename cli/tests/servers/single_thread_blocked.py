"""Planted bug: a single-threaded server that one stalled client blocks.

The tutorial's first socket server, framing done right (every read loops
until it has its bytes, EOF handled, lengths checked), but it serves one
client at a time with no timeout: a client that sends half a header and
waits keeps every other client out.
Usage: python3 single_thread_blocked.py PORT
"""
import json
import socket
import struct
import sys

MAX_HEADER = 64 * 1024
MAX_BODY = 8 * 1024 * 1024


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed inside a frame")
        buf += chunk
    return buf


def serve(conn):
    while True:
        first = conn.recv(1)
        if not first:
            return
        head_len = struct.unpack("i", first + recv_exact(conn, 3))[0]
        if head_len < 0 or head_len > MAX_HEADER:
            return
        header = json.loads(recv_exact(conn, head_len))
        size = header.get("data_size") if isinstance(header, dict) else None
        if type(size) is not int or size < 0 or size > MAX_BODY:
            return
        body = recv_exact(conn, size)
        reply = body.upper()
        head = json.dumps({"data_size": len(reply)}).encode()
        conn.sendall(struct.pack("i", len(head)) + head + reply)


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(128)
while True:
    conn, addr = server.accept()  # BUG: one client at a time, no timeout
    try:
        serve(conn)
    except (ValueError, ConnectionError, OSError):
        pass
    finally:
        conn.close()
