#!/usr/bin/env python3
"""Records the byte streams of TCP connections as protocol test fixtures.

A relay: listens on --listen, connects each accepted client to --upstream and copies bytes both
ways, writing every chunk one side's read returned, in order, with the time it arrived:

    # <comment lines>
    <connection> <direction> <nanoseconds since the first chunk> <hex bytes>

where <connection> counts accepted connections from 1 and <direction> is `>` for bytes the
client sent (the requests stream) and `<` for bytes the server sent (the responses stream).
Runs until SIGINT/SIGTERM or --duration seconds, then writes --output.

    hack/record-stream.py --listen 15432 --upstream 5432 --output Tests/Fixtures/postgresql/x.stream \
        --comment "psql -c 'SELECT 1'" &
    psql -h 127.0.0.1 -p 15432 ...; kill %1
"""
import argparse
import asyncio
import signal
import time


class Recorder:
    def __init__(self):
        self.lines = []
        self.first = None
        self.connections = 0

    def record(self, connection, direction, data):
        now = time.monotonic_ns()
        if self.first is None:
            self.first = now
        self.lines.append(f"{connection} {direction} {now - self.first} {data.hex()}")


async def pump(reader, writer, recorder, connection, direction):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            recorder.record(connection, direction, data)
            writer.write(data)
            await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True, help="port to listen on (127.0.0.1)")
    parser.add_argument("--upstream", required=True, help="PORT or HOST:PORT of the real server")
    parser.add_argument("--output", required=True, help="fixture file to write")
    parser.add_argument("--comment", action="append", default=[], help="a comment line for the file header")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    host = host or "127.0.0.1"
    recorder = Recorder()

    async def accept(client_reader, client_writer):
        recorder.connections += 1
        connection = recorder.connections
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(
            pump(client_reader, server_writer, recorder, connection, ">"),
            pump(server_reader, client_writer, recorder, connection, "<"),
        )
        client_writer.close()
        server_writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", args.listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"record-stream: listening on 127.0.0.1:{args.listen}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.duration)
    except asyncio.TimeoutError:
        pass
    server.close()
    with open(args.output, "w") as output:
        output.write("# recorded with hack/record-stream.py\n")
        for comment in args.comment:
            output.write(f"# {comment}\n")
        for line in recorder.lines:
            output.write(line + "\n")
    print(f"record-stream: {len(recorder.lines)} chunks on {recorder.connections} connections in {args.output}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
