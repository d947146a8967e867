"""The door for new Socket.IO connections: turned away clearly, never left hanging.

A WSGI middleware in front of Socket.IO. A new engine.io session (a request
to ``/socket.io/`` without ``sid``) is refused with ``503`` and
``Retry-After`` when this process is draining for shutdown or already holds
``WALL_MAX_CONNECTIONS`` sessions: socket.io-client then backs off and
retries, where a server past its accept limit would let it hang. One client
address may hold at most ``WALL_MAX_CONNECTIONS_PER_IP`` sessions (a
generous number: one address may be a whole conference); past that, ``429``.

The gate also watches the sessions it let in: one whose outgoing queue
grows past ``WALL_MAX_QUEUE`` packets belongs to a client that does not
read, and is closed so that it cannot hold memory or slow anyone down; when
it comes back it catches up with ``join.after``.
"""

import json
import logging
from collections import Counter
from urllib.parse import parse_qs

from .sessions import close_session

log = logging.getLogger(__name__)


class ConnectionGate:
    """:param wsgi_app: the app (with Socket.IO) behind the gate.
    :param socketio: the ``flask_socketio.SocketIO``, to count open sessions.
    :param max_connections: the soft limit of open engine.io sessions.
    :param path: Socket.IO's path prefix.
    """

    def __init__(
        self,
        wsgi_app,
        socketio,
        max_connections,
        per_address,
        max_queue,
        compression=False,
        path="/socket.io/",
    ):
        self.wsgi_app = wsgi_app
        self.socketio = socketio
        self.max_connections = max_connections
        self.per_address = per_address
        self.max_queue = max_queue
        self.compression = compression
        self.path = path
        self.draining = False
        self.refused = 0
        self.slow_closed = 0
        self._addresses = Counter()  # client address -> open sessions
        self._address_of = {}  # engine.io sid -> client address

    def connected(self, eio_sid, environ, handle):
        """engine.io ``connect`` hook (:func:`wall.drivers.socketio.hook_sessions`)."""
        address = environ.get("REMOTE_ADDR", "")
        self._address_of[eio_sid] = address
        self._addresses[address] += 1
        return handle(eio_sid, environ)

    def disconnected(self, eio_sid, reason, handle):
        """engine.io ``disconnect`` hook."""
        address = self._address_of.pop(eio_sid, None)
        if address is not None:
            self._addresses[address] -= 1
            if self._addresses[address] <= 0:
                del self._addresses[address]
        return handle(eio_sid, reason)

    def close_slow_sessions(self):
        """Close sessions whose clients stopped reading; return how many.

        Run once a second by the scheduler.
        """
        eio = self.socketio.server.eio
        slow = [sid for sid, s in list(eio.sockets.items()) if s.queue.qsize() > self.max_queue]
        for sid in slow:
            close_session(eio, sid)
        if slow:
            self.slow_closed += len(slow)
            log.warning("closed %d session(s) that stopped reading", len(slow))
        return len(slow)

    def open_sessions(self):
        server = self.socketio.server
        return len(server.eio.sockets) if server is not None else 0

    def __call__(self, environ, start_response):
        if not self.compression:
            # eventlet would otherwise negotiate permessage-deflate with every
            # browser: measured (docs/performance.md), it costs far more
            # server CPU and memory per connection than it saves on posts of
            # a few hundred bytes.
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        if environ.get("PATH_INFO", "").startswith(self.path):
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if "sid" not in query:
                reason = self._refusal()
                if reason:
                    self.refused += 1
                    return _refuse(start_response, "503 Service Unavailable", "unavailable", reason)
                if self._addresses.get(environ.get("REMOTE_ADDR", ""), 0) >= self.per_address:
                    self.refused += 1
                    return _refuse(
                        start_response,
                        "429 Too Many Requests",
                        "rate_limited",
                        "Too many connections from your address; try again shortly.",
                    )
        return self.wsgi_app(environ, start_response)

    def _refusal(self):
        if self.draining:
            return "This server is restarting; reconnect in a moment."
        if self.open_sessions() >= self.max_connections:
            return "This server is full; try again shortly."
        return None


def _refuse(start_response, status, code, message):
    body = json.dumps({"error": code, "message": message, "retry_after": 5}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", "5"),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
