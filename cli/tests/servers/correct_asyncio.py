"""A correct JSON-header echo server with asyncio streams.

readexactly() returns all the bytes asked for or raises
IncompleteReadError at EOF, so segmentation cannot matter; lengths are
checked before anything is read. fuzz-server must find nothing here.
Usage: python3 correct_asyncio.py PORT
"""
import asyncio
import json
import struct
import sys

MAX_HEADER = 64 * 1024
MAX_BODY = 8 * 1024 * 1024


async def handle(reader, writer):
    try:
        while True:
            try:
                first = await reader.readexactly(1)
            except asyncio.IncompleteReadError:
                return  # clean end, between frames
            head_len = struct.unpack("i", first + await reader.readexactly(3))[0]
            if head_len < 0 or head_len > MAX_HEADER:
                return
            header = json.loads(await reader.readexactly(head_len))
            size = header.get("data_size") if isinstance(header, dict) else None
            if type(size) is not int or size < 0 or size > MAX_BODY:
                return
            body = await reader.readexactly(size)
            reply = body.upper()
            head = json.dumps({"data_size": len(reply)}).encode()
            writer.write(struct.pack("i", len(head)) + head + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ValueError, ConnectionError):
        return
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
