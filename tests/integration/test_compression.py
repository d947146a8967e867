"""permessage-deflate is off unless WALL_WEBSOCKET_COMPRESSION=on."""

import base64
import os
import socket

import pytest

pytestmark = pytest.mark.server


def upgrade_headers(url, path):
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            % (path, host, port, base64.b64encode(os.urandom(16)).decode())
        ).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
    return head.split(b"\r\n\r\n")[0].decode().lower()


@pytest.mark.parametrize("setting", ["off", "on"])
def test_websocket_compression_setting(start_server, setting):
    server = start_server(env={"WALL_WEBSOCKET_COMPRESSION": setting})
    head = upgrade_headers(server.url, "/socket.io/?EIO=4&transport=websocket")
    assert head.startswith("http/1.1 101")
    assert ("permessage-deflate" in head) == (setting == "on")
