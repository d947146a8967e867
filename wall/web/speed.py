"""The speed test: the same round trip over Socket.IO (WebSocket and
long-polling), a plain WebSocket, and AJAX, so people can see the difference
on the wall's own server. ``WALL_SPEED_TEST=off`` removes all of it.

- ``GET /speed``: the page.
- Socket.IO namespace ``/speed``, event ``echo`` (a string of at most 1024
  characters), acked with the same string; it never touches the walls.
- ``/ws/echo``: a plain WebSocket that sends back every text message.
- ``POST /api/echo`` ``{"data"}`` -> ``{"data", "request_bytes"}``, the
  request's size as the server received it (request line, headers, body),
  since browsers do not expose it.

Echoes are rate limited per client address (``WALL_RATE_LIMIT_ECHO``).
"""

import logging

import socketio as python_socketio
from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from flask_sock import Sock

from .. import errors, protocol, validation
from ..errors import Invalid, WallError
from ..storage import ratelimit

log = logging.getLogger(__name__)

MAX_ECHO = 1024

bp = Blueprint("speed", __name__)
sock = Sock()


def _echo_text(value):
    if not isinstance(value, str) or len(value) > MAX_ECHO:
        raise Invalid("echo takes a string of at most %d characters." % MAX_ECHO)
    return value


def _limit():
    return current_app.extensions["wall.echo_limit"]


#: The page is cross-origin isolated (it loads nothing from elsewhere), so
#: browsers give it a fine clock: Chromium rounds ``performance.now()`` to
#: 0.1 ms otherwise, which is a sixth of a WebSocket round trip on loopback.
#: Isolation needs a secure context (HTTPS, or localhost); elsewhere the
#: headers do nothing and the clock stays coarse.
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


@bp.get("/speed")
def page():
    """The speed test page."""
    response = make_response(render_template("speed.html", max_echo=MAX_ECHO))
    response.headers.update(ISOLATION_HEADERS)
    return response


@bp.post("/api/echo")
def http_echo():
    """AJAX round trip: ``{"data"}`` back, with the size of the request received."""
    _limit().hit(request.remote_addr)
    body = request.get_json(silent=True)
    data = _echo_text(body.get("data") if isinstance(body, dict) else None)
    return jsonify(data=data, request_bytes=_request_bytes(request.environ))


@bp.before_request
def _check_websocket_handshake():
    # wsproto raised on a handshake it could not read (a non-ASCII
    # subprotocol: UnicodeDecodeError), which became a 500
    if request.endpoint == "speed.websocket_echo":
        validation.websocket_handshake(request.environ)


@sock.route("/ws/echo", bp=bp)
def websocket_echo(ws):
    """Plain WebSocket round trip: every text message comes back as it was."""
    limit, address = _limit(), request.remote_addr
    while True:
        data = ws.receive()
        try:
            limit.hit(address)
            ws.send(_echo_text(data))
        except WallError as exc:
            ws.close(reason=1008, message=exc.message[:120])
            return


class SpeedNamespace(python_socketio.Namespace):
    """The ``/speed`` namespace: ``echo``, acked with the same string, to the sender only.

    A plain python-socketio namespace (no Flask request context per event,
    like ``/wall``), so the echo measures the transport, not Flask.
    """

    def __init__(self, limit):
        super().__init__(protocol.SPEED_NAMESPACE)
        self.limit = limit

    def trigger_event(self, event, sid, *args):
        if event in ("connect", "disconnect"):
            return None
        if event != protocol.ECHO:
            return errors.ack(errors.UnknownEvent("The speed test only knows echo."))
        try:
            environ = self.server.get_environ(sid, protocol.SPEED_NAMESPACE) or {}
            self.limit.hit(environ.get("REMOTE_ADDR"))
            return _echo_text(args[0] if args else None)
        except Exception as exc:
            return errors.ack(errors.as_wall_error(exc, log, "echo"))


def _request_bytes(environ):
    query = environ.get("QUERY_STRING", "")
    line = len(
        "%s %s%s HTTP/1.1\r\n"
        % (
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            "?" + query if query else "",
        )
    )
    headers = sum(
        len(key[5:]) + len(str(value)) + 4
        for key, value in environ.items()
        if key.startswith("HTTP_")
    )
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers += len(key) + len(environ[key]) + 4
    return line + headers + 2 + int(environ.get("CONTENT_LENGTH") or 0)


def init_app(app, settings, storage, server):
    """Serve the speed test's routes and namespace, unless ``WALL_SPEED_TEST=off``."""
    if not settings.speed_test:
        return
    if settings.rate_limits:
        # Counted in this process, not in Redis: a Redis round trip per echo
        # was half of what the speed test measured (150 of 280 us on loopback).
        limit = ratelimit.fixed_window(
            ratelimit.memory_storage(),
            settings.rate_limit_echo,
            "echoes",
            "Too many echoes; wait %d s.",
        )
    else:
        limit = ratelimit.NoLimit()
    app.extensions["wall.echo_limit"] = limit
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": 4 * MAX_ECHO})
    app.register_blueprint(bp)
    server.register_namespace(SpeedNamespace(limit))
