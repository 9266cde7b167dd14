#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (Fuzz/Corpus/<target>/) from the recorded
conversations in Tests/Fixtures and a few hand-made HTTP/1 exchanges, in the input forms
the fuzzers read (Fuzz/Sources/FuzzSupport/FuzzSegments.swift, FuzzHPACK.swift)."""
import glob
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")
MAX_SEED = 16384


def segments(chunks):
    """[(is_response, bytes)] in FuzzSegments form."""
    out = bytearray()
    for is_response, data in chunks:
        while data:
            part, data = data[:65535], data[65535:]
            direction = 0x80 if is_response else 0
            if len(part) < 63:
                out += bytes([direction | len(part)]) + part
            else:
                out += bytes([direction | 63, len(part) >> 8, len(part) & 0xFF]) + part
            if len(out) >= MAX_SEED:
                return bytes(out[:MAX_SEED])
    return bytes(out)


def fixture(path):
    chunks = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        direction, _, data = line.split()
        chunks.append((direction == "s", bytes.fromhex(data)))
    return chunks


def header_blocks(stream):
    """HEADERS/PUSH_PROMISE(+CONTINUATION) blocks of one direction's frames."""
    if stream.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
        stream = stream[24:]
    blocks, block, position = [], None, 0
    while position + 9 <= len(stream):
        length = int.from_bytes(stream[position:position + 3], "big")
        kind, flags = stream[position + 3], stream[position + 4]
        payload = stream[position + 9:position + 9 + length]
        position += 9 + length
        if kind in (1, 5):
            start, end = 0, len(payload)
            if flags & 0x8:
                start, end = 1, len(payload) - payload[0]
            if kind == 1 and flags & 0x20:
                start += 5
            if kind == 5:
                start += 4
            block = payload[start:end]
        elif kind == 9 and block is not None:
            block += payload
        else:
            continue
        if flags & 0x4:
            blocks.append(block)
            block = None
    return blocks


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as file:
        file.write(data)


HTTP1 = {
    "get-keep-alive": [(False, b"GET /a?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\n\r\n"),
                       (True, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")],
    "post-chunked": [(False, b"POST /items HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                     (True, b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: y\r\n\r\n")],
    "pipelined-head": [(False, b"HEAD / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
                       (True, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")],
    "continue": [(False, b"PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"),
                 (True, b"HTTP/1.1 100 Continue\r\n\r\n"), (False, b"abc"),
                 (True, b"HTTP/1.1 204 No Content\r\n\r\n")],
    "until-close": [(False, b"GET /stream HTTP/1.0\r\n\r\n"), (True, b"HTTP/1.0 200 OK\r\n\r\nbody until close")],
    "upgrade": [(False, b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
                (True, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello")],
}

for path in sorted(glob.glob(os.path.join(ROOT, "Tests", "Fixtures", "http2", "*.txt"))):
    name = os.path.basename(path)[:-4]
    chunks = fixture(path)
    write("FuzzHTTP2", name, b"\x00" + segments(chunks))
    for is_response in (False, True):
        stream = b"".join(data for response, data in chunks if response == is_response)
        blocks = header_blocks(stream)[:40]
        if blocks:
            seed = b"\x01\x00" + b"".join(len(block).to_bytes(2, "big") + block for block in blocks)
            write("FuzzHPACK", f"{name}-{'responses' if is_response else 'requests'}", seed)
# An h2c upgrade as the decoder sees it after the 101: stream 1 open.
upgrade = fixture(os.path.join(ROOT, "Tests", "Fixtures", "http2", "hypercorn-curl-upgrade-001.txt"))
after = [(response, data.split(b"\r\n\r\n", 1)[1] if data.startswith(b"HTTP/1.1 101") else data) for response, data in upgrade[1:]]
write("FuzzHTTP2", "hypercorn-curl-upgrade-after-101", b"\x01" + segments(after))
for name, chunks in HTTP1.items():
    write("FuzzHTTP1", name, segments(chunks))
# The database decoders: every recorded connection, values sanitized (mode byte 0).
for protocol, target in (("postgresql", "FuzzPostgreSQL"), ("mysql", "FuzzMySQL"), ("redis", "FuzzRedis")):
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests", "Fixtures", protocol, "*.txt"))):
        write(target, os.path.basename(path)[:-4], b"\x00" + segments(fixture(path)))
