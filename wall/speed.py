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

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_sock import Sock

from . import socketio
from .errors import Invalid, WallError
from .runtime import get_runtime

NAMESPACE = "/speed"
MAX_ECHO = 1024

bp = Blueprint("speed", __name__)
sock = Sock()


def _echo_text(value):
    if not isinstance(value, str) or len(value) > MAX_ECHO:
        raise Invalid("echo takes a string of at most %d characters." % MAX_ECHO)
    return value


@bp.get("/speed")
def page():
    """The speed test page."""
    return render_template("speed.html", max_echo=MAX_ECHO)


@bp.post("/api/echo")
def http_echo():
    """AJAX round trip: ``{"data"}`` back, with the size of the request received."""
    get_runtime().echo_limits.hit(request.remote_addr)
    body = request.get_json(silent=True)
    data = _echo_text(body.get("data") if isinstance(body, dict) else None)
    return jsonify(data=data, request_bytes=_request_bytes(request.environ))


@sock.route("/ws/echo", bp=bp)
def websocket_echo(ws):
    """Plain WebSocket round trip: every text message comes back as it was."""
    limits, address = get_runtime().echo_limits, request.remote_addr
    while True:
        data = ws.receive()
        try:
            limits.hit(address)
            ws.send(_echo_text(data))
        except WallError as exc:
            ws.close(reason=1008, message=exc.message[:120])
            return


@socketio.on("connect", namespace=NAMESPACE)
def speed_connect(auth=None):
    """A client opens the speed test namespace; refused when the test is off."""
    return bool(current_app.config["SPEED_TEST"])


@socketio.on("echo", namespace=NAMESPACE)
def speed_echo(data=None):
    """Sent by the speed test page; acked with the same string, to the sender only."""
    try:
        get_runtime().echo_limits.hit(request.remote_addr)
        return _echo_text(data)
    except WallError as exc:
        return {"ok": False, **exc.to_dict()}


def _request_bytes(environ):
    query = environ.get("QUERY_STRING", "")
    line = len("%s %s%s HTTP/1.1\r\n" % (
        environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
        "?" + query if query else "",
    ))
    headers = sum(
        len(key[5:]) + len(str(value)) + 4
        for key, value in environ.items() if key.startswith("HTTP_")
    )
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers += len(key) + len(environ[key]) + 4
    return line + headers + 2 + int(environ.get("CONTENT_LENGTH") or 0)


def init_app(app):
    """Serve the speed test's routes, unless ``WALL_SPEED_TEST=off``."""
    if app.config["SPEED_TEST"]:
        app.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": 4 * MAX_ECHO})
        app.register_blueprint(bp)
