"""Everything engine.io gets wrong with a hostile or confused client, the same
under every async mode.

- **Undecodable messages**: engine.io's WebSocket handler decodes each
  message outside its own error handling, so an empty frame or one that
  does not start with a packet type raised out of the handler: the session
  was left to the ping timeout and the web server answered the upgraded
  connection with a 500. Here such a message ends the connection the way a
  client closing it does.
- **Closed sessions**: a session the client closed (a CLOSE packet) stays
  in engine.io's table until its next request, and a POST to it raised
  ``KeyError('Session is disconnected')`` outside any handler: a 500. Here
  a request to a closed session is answered 400, as engine.io answers an
  unknown one.
- **Polling refusals**: engine.io disconnects a session whose POST it
  refuses (an unknown packet type, a body over its size limit) with
  ``close(wait=True)``, which waits for a GET to collect the close packet:
  with none pending, the POST was never answered and its task stayed
  forever (a graceful drain never finished). Here the session is closed
  without waiting before engine.io answers 400. A body that is not UTF-8
  or not packets, which engine.io logged with a whole traceback per request
  (and answered 200), is refused the same way, logged once per 10 s.

:func:`install` is called by the realtime layer as it creates the server
(every async mode, and the in-process apps of the tests); this module
imports engine.io only then.
"""

import logging
import time

from . import Patch, Target, replaces

log = logging.getLogger(__name__)

TESTED = {"python-engineio": "4.15.1"}
LOG_EVERY = 10.0

UNDECODABLE_MESSAGES = Patch(
    "engineio.undecodable_messages",
    "a WebSocket message engine.io cannot decode closes its connection cleanly",
    [
        Target(
            "engineio.socket",
            "Socket._websocket_handler",
            "python-engineio",
            "58afe1227192",
        ),
        # the packet types and the base64 prefix the check mirrors
        Target("engineio.packet", "Packet.decode", "python-engineio", "18e27ff7fd56"),
    ],
    TESTED,
    protection=True,
)


CLOSED_SESSIONS = Patch(
    "engineio.closed_sessions",
    "a request to a session the client closed is a 400, not a 500",
    [
        Target("engineio.server", "Server.handle_request", "python-engineio", "79302edd007f"),
        Target("engineio.base_server", "BaseServer._bad_request", "python-engineio"),
        Target("engineio.base_server", "BaseServer._cors_headers", "python-engineio"),
        Target(
            "engineio.socket", "Socket.close", "python-engineio", "05fac5583199", sets=("closed",)
        ),
    ],
    TESTED,
    protection=True,
)

POLLING_REFUSALS = Patch(
    "engineio.polling_refusals",
    "a refused or undecodable long-polling POST is a 400; its session closes without waiting",
    [
        Target("engineio.socket", "Socket.handle_post_request", "python-engineio", "5be8170455a3"),
        # which catches EngineIOError from it and calls disconnect(), which
        # skips a session already closed
        Target("engineio.server", "Server.handle_request", "python-engineio", "79302edd007f"),
        Target("engineio.server", "Server.disconnect", "python-engineio", "3f5faf6e405f"),
        Target("engineio.exceptions", "EngineIOError", "python-engineio"),
    ],
    TESTED,
    protection=True,
)


def install():
    """Apply every engine.io patch whose targets hold (idempotent)."""
    import engineio.exceptions
    import engineio.server
    import engineio.socket

    if UNDECODABLE_MESSAGES.usable() and not UNDECODABLE_MESSAGES.active:
        close_on_undecodable(engineio.socket.Socket)
        UNDECODABLE_MESSAGES.active = True
    if CLOSED_SESSIONS.usable() and not CLOSED_SESSIONS.active:
        refuse_closed_sessions(engineio.server.Server)
        CLOSED_SESSIONS.active = True
    if POLLING_REFUSALS.usable() and not POLLING_REFUSALS.active:
        close_refused_posts(engineio.socket.Socket, engineio.exceptions.EngineIOError)
        POLLING_REFUSALS.active = True


class OncePer:
    """One log line per ``every`` seconds, with how many offences it covers."""

    def __init__(self, what, every=LOG_EVERY):
        self.what = what
        self.every = every
        self._count = 0
        self._last = None

    def __call__(self, detail):
        self._count += 1
        now = time.monotonic()
        if self._last is None or now - self._last >= self.every:
            log.warning(
                "%s: %d in the last %.0f s (latest: %s)",
                self.what,
                self._count,
                now - self._last if self._last is not None else 0,
                detail,
            )
            self._count, self._last = 0, now


# -- undecodable messages -------------------------------------------------------

_undecodable = OncePer("closed WebSocket session(s) for messages engine.io cannot decode")


def decodable(data):
    """Whether engine.io's ``Packet(encoded_packet=data)`` can decode ``data``.

    Bytes always decode (as a binary message, which the packet guard
    refuses); text needs a packet type digit first, or ``b`` and base64.
    """
    if not isinstance(data, str):
        return True
    if not data:
        return False
    if data[0] == "b":
        import base64
        import binascii

        try:
            base64.b64decode(data[1:])
        except (binascii.Error, ValueError):
            return False
        return True
    # what int() takes as one digit, as engine.io reads the type
    return data[0].isdecimal()


def close_on_undecodable(engineio_socket_class):
    """A message that cannot be decoded reads as the client closing the connection."""
    handler = engineio_socket_class._websocket_handler

    @replaces(handler)
    def websocket_handler(self, ws):
        wait = ws.wait

        def checked_wait():
            try:
                data = wait()
            except UnicodeDecodeError as exc:
                # A text frame that is not UTF-8: engine.io's loop would end
                # on it, but during an upgrade's probe nothing catches it and
                # the web server would answer a 500 into the upgraded stream.
                _undecodable("a text frame that is not UTF-8 (%s)" % exc.reason)
                return None
            if data is not None and not decodable(data):
                _undecodable("%r" % (data[:20],))
                return None  # engine.io's loop ends and closes the session
            return data

        # on the instance, so that other patches still see the library's own type
        ws.wait = checked_wait
        return handler(self, ws)

    engineio_socket_class._websocket_handler = websocket_handler


# -- closed sessions --------------------------------------------------------------


def closed_session(server, environ):
    """The sid of ``environ``'s request if it names a session already closed, else None."""
    query = environ.get("QUERY_STRING", "")
    if "sid=" not in query:
        return None
    from urllib.parse import parse_qs

    sid = parse_qs(query).get("sid", [None])[0]
    session = server.sockets.get(sid) if sid is not None else None
    return sid if session is not None and session.closed else None


def refuse_closed_sessions(server_class):
    """Answer a request to a closed session as engine.io answers an unknown one."""
    handle_request = server_class.handle_request

    @replaces(handle_request)
    def checked_handle_request(self, environ, start_response):
        sid = closed_session(self, environ)
        if sid is None:
            return handle_request(self, environ, start_response)
        self.sockets.pop(sid, None)
        refusal = self._bad_request("Session is disconnected")
        start_response(refusal["status"], refusal["headers"] + self._cors_headers(environ))
        return [refusal["response"]]

    server_class.handle_request = checked_handle_request


# -- polling refusals ---------------------------------------------------------------


_bad_bodies = OncePer("closed long-polling session(s) for a POST body engine.io cannot decode")


def close_refused_posts(engineio_socket_class, engineio_error):
    """Close the session of a refused POST at once, so that engine.io's
    ``disconnect`` finds it closed and does not wait."""
    handle_post_request = engineio_socket_class.handle_post_request

    @replaces(handle_post_request)
    def closing_handle_post_request(self, environ):
        try:
            return handle_post_request(self, environ)
        except engineio_error:
            self.close(wait=False, reason=self.server.reason.SERVER_DISCONNECT)
            raise
        except (ValueError, KeyError, IndexError, RecursionError) as exc:
            # not UTF-8, not packets, or data nested past the JSON parser's
            # limit: engine.io would log a traceback and answer 200 having
            # dropped it; refused like any bad packet instead
            _bad_bodies(type(exc).__name__)
            self.close(wait=False, reason=self.server.reason.SERVER_DISCONNECT)
            raise engineio_error("undecodable payload") from None

    engineio_socket_class.handle_post_request = closing_handle_post_request
