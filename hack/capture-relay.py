#!/usr/bin/env python3
"""Records real conversations as protocol fixtures: a TCP relay between a client and a
server that writes, per connection, every chunk each side sent, in the order the relay
read them, with the time it read them.

    capture-relay.py --listen 18600 --upstream 127.0.0.1:18601 --out DIR [--prefix NAME]

Point the client at the listen port. Each connection becomes DIR/NAME-NNN.txt:

    # periscope capture v1
    c 0 505249202a...        client to server: nanoseconds since the connection began, hex
    s 181234 000012040000...  server to client

Runs until SIGTERM or SIGINT, then finishes the files of connections still open.
"""
import argparse
import os
import selectors
import signal
import socket
import time


class Connection:
    def __init__(self, number, client, server, path):
        self.client = client
        self.server = server
        self.start = time.monotonic_ns()
        self.file = open(path, "w")
        self.file.write("# periscope capture v1\n")
        self.number = number

    def record(self, direction, data):
        self.file.write(f"{direction} {time.monotonic_ns() - self.start} {data.hex()}\n")

    def close(self):
        for sock in (self.client, self.server):
            try:
                sock.close()
            except OSError:
                pass
        self.file.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--prefix", default="conn")
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    os.makedirs(args.out, exist_ok=True)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.listen))
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    connections = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def drop(connection):
        for sock in (connection.client, connection.server):
            try:
                selector.unregister(sock)
            except (KeyError, ValueError):
                pass
        connection.close()
        connections.remove(connection)

    while not stopping:
        for key, _ in selector.select(timeout=0.2):
            if key.fileobj is listener:
                client, _ = listener.accept()
                server = socket.create_connection((host, int(port)))
                for sock in (client, server):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                number = len(os.listdir(args.out)) + 1
                path = os.path.join(args.out, f"{args.prefix}-{number:03d}.txt")
                connection = Connection(number, client, server, path)
                connections.append(connection)
                selector.register(client, selectors.EVENT_READ, (connection, "c"))
                selector.register(server, selectors.EVENT_READ, (connection, "s"))
                continue
            connection, direction = key.data
            if connection not in connections:
                continue
            source = key.fileobj
            target = connection.server if direction == "c" else connection.client
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                # One side closed: pass the close on and finish the connection.
                try:
                    target.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                drop(connection)
                continue
            connection.record(direction, data)
            try:
                target.sendall(data)
            except OSError:
                drop(connection)
    for connection in list(connections):
        drop(connection)


if __name__ == "__main__":
    main()
