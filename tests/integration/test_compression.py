"""permessage-deflate is off unless WALL_WEBSOCKET_COMPRESSION=on."""

import pytest

from ..support import raw_websocket

pytestmark = pytest.mark.server


@pytest.mark.parametrize("setting", ["off", "on"])
def test_websocket_compression_setting(start_server, setting):
    server = start_server(env={"WALL_WEBSOCKET_COMPRESSION": setting})
    sock, head, _ = raw_websocket.upgrade(
        server.url,
        extra_headers="Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
    )
    sock.close()
    assert head.startswith("http/1.1 101")
    assert ("permessage-deflate" in head) == (setting == "on")
