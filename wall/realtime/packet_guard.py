"""The one door every Socket.IO packet passes: binary refused, malformed cut off.

The wall speaks JSON text only. python-socketio keeps the attachments a
client announces until all have arrived, so one client could make the
server hold any amount of memory (over 100 MiB in a measurement); here a
binary packet, or binary data of any kind, closes that session at once.
A packet python-socketio cannot parse (truncated JSON, a bad type digit, an
ack id too long, JSON nested past the parser's limit) also closes the
session instead of raising in a handler: the server keeps serving everyone
else, and the log gets one line per ten seconds with a count, not a
traceback per packet.
"""

import logging
import time

from .sessions import close_session

log = logging.getLogger(__name__)

_BINARY_TYPES = ("5", "6")  # Socket.IO BINARY_EVENT, BINARY_ACK
LOG_EVERY = 10.0


class PacketGuard:
    """The engine.io ``message`` hook of a Socket.IO server
    (:func:`wall.drivers.socketio.hook_sessions`).

    :param server: the ``socketio.Server``.
    :param metrics: a :class:`wall.metrics.Metrics` (``refused`` counts).
    """

    def __init__(self, server, metrics):
        self.server = server
        self.metrics = metrics
        self._unlogged = 0
        self._last_log = 0.0

    def __call__(self, eio_sid, data, handle):
        if not isinstance(data, str):
            return self._refuse(eio_sid, "binary data")
        if data[:1] in _BINARY_TYPES:
            return self._refuse(eio_sid, "a binary packet")
        try:
            return handle(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
            return self._refuse(eio_sid, "a malformed packet (%s)" % type(exc).__name__)

    def _refuse(self, eio_sid, what):
        self.metrics.packets_refused.inc()
        close_session(self.server.eio, eio_sid)
        self._unlogged += 1
        now = time.monotonic()
        if now - self._last_log >= LOG_EVERY:
            log.warning(
                "closed %d session(s) for bad packets in the last %.0f s (latest: %s)",
                self._unlogged,
                now - self._last_log if self._last_log else 0,
                what,
            )
            self._unlogged, self._last_log = 0, now
