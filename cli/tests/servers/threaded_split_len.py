"""Planted bug: a threaded handler that dies on a split length.

One threading.Thread per client, as the tutorial's concurrency section
writes it. The length is unpacked from one recv(4); when it comes in two
pieces struct.unpack raises, the thread dies with a traceback on stderr,
and that client gets nothing. The server itself lives on.
Usage: python3 threaded_split_len.py PORT
"""
import json
import socket
import struct
import sys
import threading

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


def handle(conn):
    with conn:
        while True:
            data = conn.recv(4)
            if not data:
                return
            head_len = struct.unpack("i", data)[0]  # BUG: raises if recv gave < 4 bytes
            if head_len < 0 or head_len > MAX_HEADER:
                return
            try:
                header = json.loads(recv_exact(conn, head_len))
                size = header.get("data_size") if isinstance(header, dict) else None
                if type(size) is not int or size < 0 or size > MAX_BODY:
                    return
                body = recv_exact(conn, size)
            except (ValueError, ConnectionError, OSError):
                return
            reply = body.upper()
            head = json.dumps({"data_size": len(reply)}).encode()
            conn.sendall(struct.pack("i", len(head)) + head + reply)


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(128)
while True:
    conn, addr = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
