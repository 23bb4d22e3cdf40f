"""Planted bug: the 4-byte length is read with ONE recv(4).

The tutorial's single-threaded socket server (one client at a time, a
0.1 s receive timeout so a stalled client cannot hold it). recv(4) returns
whatever has arrived, up to 4 bytes: when the length is split over two
segments, struct.unpack fails and the client's connection is dropped.
Usage: python3 len_one_recv.py PORT
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
        head_len_bytes = conn.recv(4)  # BUG: may return 1 to 3 bytes
        if not head_len_bytes:
            return
        head_len = struct.unpack("i", head_len_bytes)[0]
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
    conn, addr = server.accept()
    conn.settimeout(0.1)
    try:
        serve(conn)
    except (struct.error, ValueError, ConnectionError, OSError):
        pass
    finally:
        conn.close()
