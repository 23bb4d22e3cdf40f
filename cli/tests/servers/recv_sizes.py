"""Measures the cuts: replies to every recv() with its size, one line each.

socketserver, one thread per client, recv(65536) as the tutorials write it.
The fuzz_server_cuts test compares the sizes with the pieces it wrote, to
measure how often a Python server's reads match fuzz-server's cuts.
Usage: python3 recv_sizes.py PORT
"""
import socketserver
import sys


class Sizes(socketserver.BaseRequestHandler):
    def handle(self):
        sizes = []
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            sizes.append(str(len(data)))
        self.request.sendall((" ".join(sizes) + "\n").encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Sizes) as server:
        server.serve_forever()
