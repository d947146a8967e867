"""The door for new Socket.IO connections: turned away clearly, never left hanging.

A WSGI middleware in front of Socket.IO. A new engine.io session (a request
to ``/socket.io/`` without ``sid``) is refused with ``503`` and
``Retry-After`` when this process is draining for shutdown or already holds
``WALL_MAX_CONNECTIONS`` sessions: socket.io-client then backs off and
retries, where a server past its accept limit would let it hang.
"""

import json
from urllib.parse import parse_qs


class ConnectionGate:
    """:param wsgi_app: the app (with Socket.IO) behind the gate.
    :param socketio: the ``flask_socketio.SocketIO``, to count open sessions.
    :param max_connections: the soft limit of open engine.io sessions.
    :param path: Socket.IO's path prefix.
    """

    def __init__(self, wsgi_app, socketio, max_connections, path="/socket.io/"):
        self.wsgi_app = wsgi_app
        self.socketio = socketio
        self.max_connections = max_connections
        self.path = path
        self.draining = False
        self.refused = 0

    def open_sessions(self):
        server = self.socketio.server
        return len(server.eio.sockets) if server is not None else 0

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(self.path):
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if "sid" not in query:
                reason = self._refusal()
                if reason:
                    self.refused += 1
                    return _unavailable(start_response, reason)
        return self.wsgi_app(environ, start_response)

    def _refusal(self):
        if self.draining:
            return "This server is restarting; reconnect in a moment."
        if self.open_sessions() >= self.max_connections:
            return "This server is full; try again shortly."
        return None


def _unavailable(start_response, message):
    body = json.dumps({"error": "unavailable", "message": message}).encode()
    start_response(
        "503 Service Unavailable",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", "5"),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
