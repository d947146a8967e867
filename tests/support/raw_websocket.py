"""A WebSocket client at the byte level, for tests that must misbehave.

aiohttp and websocket-client read whatever arrives and frame messages
correctly; these helpers let a test stop reading, send fragments or a frame
that announces more bytes than it sends, and look at the raw upgrade reply.
"""

import base64
import os
import socket
import struct

SOCKETIO_PATH = "/socket.io/?EIO=4&transport=websocket"


def frame(payload, opcode=1, final=True):
    """One masked client frame (text by default) carrying ``payload``."""
    if isinstance(payload, str):
        payload = payload.encode()
    mask = os.urandom(4)
    head = bytes([(0x80 if final else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def upgrade(url, path=SOCKETIO_PATH, extra_headers="", rcvbuf=None):
    """Open a WebSocket; return ``(socket, reply head in lower case, bytes after it)``."""
    host, port = url.split("//")[1].split(":")
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    sock.connect((host, int(port)))
    sock.sendall(
        (
            "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
            % (path, host, port, base64.b64encode(os.urandom(16)).decode(), extra_headers)
        ).encode()
    )
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(4096)
    head, rest = received.split(b"\r\n\r\n", 1)
    return sock, head.decode().lower(), rest


def wall_session(url, rcvbuf=None):
    """A socket with an engine.io session open and connected to ``/wall``."""
    sock, _, received = upgrade(url, rcvbuf=rcvbuf)
    while b"0{" not in received:
        received += sock.recv(4096)
    sock.sendall(frame("40/wall,"))
    return sock
