"""Planted bug: one recv() taken as one whole message (lines format).

The tutorial's socketserver echo: `data = self.request.recv(1024)` and the
first line of it is the message. Two lines glued into one segment lose the
second; a line split over two segments is answered in pieces.
Usage: python3 one_recv_lines.py PORT
"""
import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(1024)  # BUG: one recv = one message
            if not data:
                return
            line = data.split(b"\n")[0]
            self.request.sendall(line.upper() + b"\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Echo) as server:
        server.serve_forever()
