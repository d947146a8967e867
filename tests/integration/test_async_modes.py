"""The package runs under gevent as well as eventlet (app.py picks the library)."""

import pytest

from ..support.helpers import wait_for

pytestmark = pytest.mark.server


def test_gevent_mode_serves_websocket_and_polling(start_server, make_client, wall_name):
    server = start_server(async_mode="gevent")
    clients = [make_client(server, "websocket"), make_client(server, "polling")]
    for c in clients:
        c.join(wall_name)
    post = clients[1].post(wall_name, "under gevent")["post"]
    wait_for(lambda: all(c.ids() == [post["id"]] for c in clients))
