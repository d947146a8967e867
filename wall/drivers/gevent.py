"""Everything specific to gevent.

Under gevent, engine.io serves WebSockets through simple-websocket, to which
it passes no message size limit at all: one client could make the server
hold any amount of memory before engine.io's own size check ran. The
**message cap** gives it engine.io's ``max_http_buffer_size``. (With
gevent-websocket installed instead, that library's own limit applies.)

This module imports gevent only when :func:`install` or :class:`Serving`
runs, so it can be loaded anywhere to check its targets.
"""

import importlib

from . import Patch, Target, replaces

TESTED = {"python-engineio": "4.15.1", "simple-websocket": "1.1.0", "gevent": "26.9.0"}

MESSAGE_CAP = Patch(
    "gevent.message_cap",
    "simple-websocket's messages are capped at engine.io's max_http_buffer_size",
    [
        Target(
            "engineio.async_drivers._websocket_wsgi",
            "SimpleWebSocketWSGI.__init__",
            "python-engineio",
            "658724d7a30a",
            sets=("server_args",),
        ),
    ],
    TESTED,
    protection=True,
)


def install():
    """Apply every gevent patch whose targets hold (idempotent)."""
    driver = importlib.import_module("engineio.async_drivers.gevent")
    if MESSAGE_CAP.usable() and not MESSAGE_CAP.active:
        if cap_messages(driver):
            MESSAGE_CAP.active = True


def cap_messages(driver_module):
    """Give engine.io's simple-websocket server its ``max_message_size``.

    :param driver_module: ``engineio.async_drivers.gevent``, already imported.
    :return: False when gevent-websocket serves (it has its own limit).
    """
    base = importlib.import_module("engineio.async_drivers._websocket_wsgi").SimpleWebSocketWSGI
    cls = driver_module.WebSocketWSGI
    if not issubclass(cls, base):
        return False
    init = cls.__init__

    @replaces(init)
    def capped_init(self, handler, server):
        init(self, handler, server)
        self.server_args["max_message_size"] = int(server.max_http_buffer_size)

    cls.__init__ = capped_init
    return True


class Serving:
    """gevent's WSGI server: a pool as its connection limit, and a clean stop."""

    def options(self, max_connections):
        from gevent.pool import Pool

        return {"spawn": Pool(max_connections)}

    def stop(self, socketio):
        socketio.wsgi_server.stop(timeout=2)
