"""Planted bug: the body buffer is allocated from the peer's data_size.

socketserver, one thread per client. bytearray(size) reserves (and zeroes)
whatever the header claims before a single body byte arrives: a 6-byte
claim of 256 MiB costs 256 MiB, and a few such clients exhaust memory.
Usage: python3 alloc_from_claim.py PORT
"""
import json
import socketserver
import struct
import sys

MAX_HEADER = 64 * 1024


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
                if type(size) is not int or size < 0:
                    return
                body = bytearray(size)  # BUG: sized by the claim, no limit
                view = memoryview(body)
                got = 0
                while got < size:
                    n = conn.recv_into(view[got:], min(size - got, 65536))
                    if n == 0:
                        raise ConnectionError("peer closed inside a body")
                    got += n
                reply = bytes(body).upper()
                head = json.dumps({"data_size": len(reply)}).encode()
                conn.sendall(struct.pack("i", len(head)) + head + reply)
        except (ConnectionError, ValueError, OSError, MemoryError, OverflowError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Echo) as server:
        server.serve_forever()
