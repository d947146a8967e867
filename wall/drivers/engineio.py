"""Everything engine.io gets wrong with a hostile or confused client, the same
under every async mode.

- **Undecodable messages**: engine.io's WebSocket handler decodes each
  message outside its own error handling, so an empty frame or one that
  does not start with a packet type raised out of the handler: the session
  was left to the ping timeout and the web server answered the upgraded
  connection with a 500. Here such a message ends the connection the way a
  client closing it does.

This module imports engine.io only when :func:`install` runs.
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


def install():
    """Apply every engine.io patch whose targets hold (idempotent)."""
    import engineio.socket

    if UNDECODABLE_MESSAGES.usable() and not UNDECODABLE_MESSAGES.active:
        close_on_undecodable(engineio.socket.Socket)
        UNDECODABLE_MESSAGES.active = True


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
            data = wait()
            if data is not None and not decodable(data):
                _undecodable("%r" % (data[:20],))
                return None  # engine.io's loop ends and closes the session
            return data

        # on the instance, so that other patches still see the library's own type
        ws.wait = checked_wait
        return handler(self, ws)

    engineio_socket_class._websocket_handler = websocket_handler
