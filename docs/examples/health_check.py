#!/usr/bin/env python3
"""Calls switchboard.v1.Health/Check over ttrpc with nothing but Python's standard library.

Usage: python3 docs/examples/health_check.py [HOST:PORT]   (default 127.0.0.1:7420)

It shows the whole protocol in a page: a 10-byte frame header, a `ttrpc.Request` envelope, and a
`ttrpc.Response` whose `google.rpc.Status` says how the call went. Real programs use protobuf
modules generated from Protos/ instead of the hand encoding below.
"""
import socket
import struct
import sys


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    if wire_type == 2:
        return key + varint(len(payload)) + payload
    return key + varint(payload)


def read_varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def parse(data):
    """A protobuf message as {field number: [values]} (varints and length-delimited only)."""
    fields, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire_type = key >> 3, key & 7
        value, i = read_varint(data, i)
        if wire_type == 2:
            value, i = data[i:i + value], i + value
        fields.setdefault(number, []).append(value)
    return fields


def call(sock, stream_id, service, method, payload=b"", timeout_ns=1_000_000_000):
    request = (field(1, 2, service.encode()) + field(2, 2, method.encode())
               + field(3, 2, payload) + field(4, 0, timeout_ns))
    # length u32 BE | stream id u32 BE | type u8 (1 = request) | flags u8
    sock.sendall(struct.pack(">IIBB", len(request), stream_id, 1, 0) + request)
    header = sock.recv(10, socket.MSG_WAITALL)
    length, answered_stream, frame_type, _flags = struct.unpack(">IIBB", header)
    body = sock.recv(length, socket.MSG_WAITALL) if length else b""
    assert answered_stream == stream_id and frame_type == 2, "expected the response of our stream"
    response = parse(body)
    status = parse(response.get(1, [b""])[0])
    code = status.get(1, [0])[0]
    message = status.get(2, [b""])[0].decode()
    return code, message, response.get(2, [b""])[0]


def main():
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:7420").rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        code, message, payload = call(sock, 1, "switchboard.v1.Health", "Check")
        if code != 0:
            print(f"Health/Check failed: code {code}: {message}")
            return 1
        answer = parse(payload)
        status = {1: "SERVING", 2: "NOT_SERVING"}.get(answer.get(1, [0])[0], "UNKNOWN")
        version = answer.get(2, [b""])[0].decode()
        print(f"Health/Check: {status}, version {version}")
        code, message, _ = call(sock, 3, "switchboard.v1.Health", "Explode")
        print(f"Health/Explode: code {code} ({'UNIMPLEMENTED' if code == 12 else '?'}): {message}")
        return 0 if code == 12 else 1


if __name__ == "__main__":
    sys.exit(main())
