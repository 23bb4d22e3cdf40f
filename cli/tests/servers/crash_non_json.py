"""Planted bug: json.loads() on the header with no error handling.

A single-threaded selectors event loop (concurrent: it never blocks on one
client). A header that is not JSON raises out of the event loop and the
whole process dies with a traceback.
Usage: python3 crash_non_json.py PORT
"""
import json
import selectors
import socket
import struct
import sys

MAX_HEADER = 64 * 1024
MAX_BODY = 8 * 1024 * 1024
sel = selectors.DefaultSelector()


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.stage = "len"
        self.need = 4
        self.buf = b""

    def close(self):
        sel.unregister(self.sock)
        self.sock.close()

    def readable(self):
        data = self.sock.recv(min(self.need - len(self.buf), 65536))
        if not data:
            return self.close()
        self.buf += data
        if len(self.buf) < self.need:
            return
        if self.stage == "len":
            head_len = struct.unpack("i", self.buf)[0]
            if head_len <= 0 or head_len > MAX_HEADER:
                return self.close()
            self.stage, self.need, self.buf = "head", head_len, b""
        elif self.stage == "head":
            header = json.loads(self.buf)  # BUG: raises on a header that is not JSON
            size = header.get("data_size") if isinstance(header, dict) else None
            if type(size) is not int or size < 0 or size > MAX_BODY:
                return self.close()
            self.stage, self.need, self.buf = "body", size, b""
            if size == 0:
                self.reply()
        else:
            self.reply()

    def reply(self):
        body = self.buf.upper()
        head = json.dumps({"data_size": len(body)}).encode()
        self.sock.sendall(struct.pack("i", len(head)) + head + body)
        self.stage, self.need, self.buf = "len", 4, b""


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(128)
sel.register(server, selectors.EVENT_READ, None)
while True:
    for key, _ in sel.select():
        if key.data is None:
            sock, _ = server.accept()
            sel.register(sock, selectors.EVENT_READ, Conn(sock))
        else:
            try:
                key.data.readable()
            except ConnectionError:
                key.data.close()
