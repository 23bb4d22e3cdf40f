"""Planted bug: the body loop ignores EOF.

socketserver, one thread per client. `while len(body) < size: body +=
recv(...)` never checks for b"": when the client goes away inside a body,
recv returns b"" forever, the thread spins at full CPU and the connection
is never closed.
Usage: python3 body_ignores_eof.py PORT
"""
import json
import socketserver
import struct
import sys

MAX_HEADER = 64 * 1024
MAX_BODY = 8 * 1024 * 1024


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed inside a frame")
        buf += chunk
    return buf


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        try:
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
                body = b""
                while len(body) < size:  # BUG: b"" at EOF loops forever
                    body += conn.recv(size - len(body))
                reply = body.upper()
                head = json.dumps({"data_size": len(reply)}).encode()
                conn.sendall(struct.pack("i", len(head)) + head + reply)
        except (ConnectionError, ValueError, OSError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Echo) as server:
        server.serve_forever()
