"""The door for new Socket.IO connections: turned away clearly, never left hanging.

A WSGI middleware in front of Socket.IO. A new engine.io session (a request
to ``/socket.io/`` without ``sid``) is refused with ``503`` and
``Retry-After`` when this process is draining for shutdown or already holds
``WALL_MAX_CONNECTIONS`` sessions: socket.io-client then backs off and
retries, where a server past its accept limit would let it hang. Limits go
by client first: one browser (its ``wall_client`` cookie) may hold at most
``WALL_MAX_CONNECTIONS_PER_CLIENT`` sessions, and only a much higher ceiling
applies per address, ``WALL_MAX_CONNECTIONS_PER_IP``, since one address may
be a whole conference hall; past either, ``429``.

The gate also watches the sessions it let in: one whose outgoing queue
grows past ``WALL_MAX_QUEUE`` packets belongs to a client that does not
read, and is closed so that it cannot hold memory or slow anyone down; when
it comes back it catches up with ``join.after``.

A WebSocket handshake that is not one (no ``Connection: Upgrade``, no
``Sec-WebSocket-Version: 13``, a bad key) is answered ``400`` here, as
engine.io answers a bad request, before engine.io or the web server's
WebSocket code sees it.
"""

import json
import logging
from collections import Counter
from http import HTTPStatus
from urllib.parse import parse_qs

from .. import validation
from ..errors import Invalid, RateLimited, Unavailable, json_body
from .sessions import close_session

log = logging.getLogger(__name__)

#: seconds a refused client is asked to wait (``Retry-After`` and ``retry_after``)
RETRY_AFTER = 5


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
        per_client=None,
        clients=None,
    ):
        self.wsgi_app = wsgi_app
        self.socketio = socketio
        self.max_connections = max_connections
        self.per_address = per_address
        #: sessions one client (cookie) may hold; None: no per-client cap
        self.per_client = per_client
        #: the ClientCookies that read a request's client (None: addresses only)
        self.clients = clients
        self.max_queue = max_queue
        self.compression = compression
        self.path = path
        self.draining = False
        self.refused = 0
        self.slow_closed = 0
        self._addresses = Counter()  # client address -> open sessions
        self._clients = Counter()  # client id -> open sessions
        self._of = {}  # engine.io sid -> (client address, client id or None)

    def connected(self, eio_sid, environ, handle):
        """engine.io ``connect`` hook (:func:`wall.drivers.socketio.hook_sessions`)."""
        address = environ.get("REMOTE_ADDR", "")
        client = self._client_of(environ)
        self._of[eio_sid] = (address, client)
        self._addresses[address] += 1
        if client is not None:
            self._clients[client] += 1
        return handle(eio_sid, environ)

    def disconnected(self, eio_sid, reason, handle):
        """engine.io ``disconnect`` hook."""
        known = self._of.pop(eio_sid, None)
        if known is not None:
            address, client = known
            _forget(self._addresses, address)
            if client is not None:
                _forget(self._clients, client)
        return handle(eio_sid, reason)

    def fit_open_files(self, sessions, open_files):
        """Admit at most ``sessions``: what the open-file limit ``open_files``
        leaves room for (``wall.serve``). Past that limit a handshake fails
        inside the web server (a 500 under gevent); the gate's clear 503 must
        come first. Never raises the limit; returns the one in force."""
        if sessions < self.max_connections:
            log.warning(
                "admitting at most %d sessions (WALL_MAX_CONNECTIONS is %d): "
                "the open-file limit %d allows no more",
                sessions,
                self.max_connections,
                open_files,
            )
            self.max_connections = sessions
        return self.max_connections

    def _client_of(self, environ):
        return self.clients.from_environ(environ) if self.clients is not None else None

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
            if validation.websocket_upgrade(environ):
                try:
                    validation.websocket_handshake(environ)
                except Invalid as exc:
                    # engine.io and eventlet took a broken handshake for
                    # long-polling or a 2010 draft, and failed with a 500
                    return _refuse_handshake(start_response, exc.message)
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if "sid" not in query:
                reason = self._refusal()
                if reason:
                    self.refused += 1
                    return _refuse(start_response, Unavailable(reason, RETRY_AFTER))
                too_many = self._too_many(environ)
                if too_many:
                    self.refused += 1
                    return _refuse(start_response, RateLimited(too_many, RETRY_AFTER))
        return self.wsgi_app(environ, start_response)

    def _too_many(self, environ):
        if self._addresses.get(environ.get("REMOTE_ADDR", ""), 0) >= self.per_address:
            return "Too many connections from your address; try again shortly."
        if self.per_client is not None and self._clients:
            client = self._client_of(environ)
            if client is not None and self._clients.get(client, 0) >= self.per_client:
                return "Too many connections from this browser; close some tabs or try again."
        return None

    def _refusal(self):
        if self.draining:
            return "This server is restarting; reconnect in a moment."
        if self.open_sessions() >= self.max_connections:
            return "This server is full; try again shortly."
        return None


def _forget(counter, key):
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def _refuse(start_response, error):
    # the JSON API's shape (wall.errors), answered before Flask sees the request
    content, status = json_body(error)
    body = json.dumps(content).encode()
    start_response(
        "%d %s" % (status, HTTPStatus(status).phrase),
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(error.retry_after)),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]


def _refuse_handshake(start_response, message):
    # as engine.io answers: text/plain, the message as a JSON string
    body = json.dumps(message).encode()
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    return [body]
