"""Planted bug: a descriptor leaked per connection.

The correct JSON-header echo of correct_threaded.py, except that each
handler keeps a duplicate of its socket's descriptor (as a server that
stashes connections in a global list and forgets them would): every
client leaves one descriptor open for good.
Usage: python3 fd_leak.py PORT
"""
import os
import socketserver
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from correct_threaded import Echo, Server  # noqa: E402

LEAKED = []


class LeakyEcho(Echo):
    def handle(self):
        LEAKED.append(os.dup(self.request.fileno()))  # BUG: never closed
        super().handle()


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), LeakyEcho) as server:
        server.serve_forever()
