"""Socket.IO handshakes only from the app's own origin (or WALL_ALLOWED_ORIGINS)."""

import pytest
import requests

pytestmark = pytest.mark.server


def handshake(server, origin):
    headers = {"Origin": origin} if origin else {}
    return requests.get(
        server.url + "/socket.io/?EIO=4&transport=polling", headers=headers, timeout=5
    )


def test_foreign_origin_handshake_is_refused(start_server):
    server = start_server(env={"WALL_ALLOWED_ORIGINS": "https://partner.example"})
    assert handshake(server, "http://evil.example").status_code == 400
    assert handshake(server, server.url).status_code == 200
    assert handshake(server, "https://partner.example").status_code == 200
    assert handshake(server, None).status_code == 200  # not a browser
