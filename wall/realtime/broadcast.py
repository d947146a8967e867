"""One event to many local sockets, encoded once and written without a queue hop.

Stock python-socketio already encodes a room emit once, but then every
recipient costs an engine.io ``send``: a queue put, a wake-up of that
socket's writer task, a WebSocket frame built for it alone and a write.
At 1,000 subscribers that was two thirds of the server's CPU per post.
Here the frame is built once per event and written straight to every
WebSocket that has a direct writer and whose writer is idle (under eventlet
and gevent, see :mod:`wall.drivers.eventlet` and :mod:`wall.drivers.gevent`);
the others (long-polling, a writer still busy, a client that stopped
reading, permessage-deflate, sockets under threading) get
the same pre-encoded engine.io packet through their queue, in order, exactly
as before. Every emit of python-socketio (``online``, message-queue emits,
acks) takes the same path, through the hook in :mod:`wall.drivers.socketio`.
"""

import logging
import struct
import time

from engineio import packet as eio_packet
from socketio import packet as sio_packet

from ..drivers import socketio as socketio_driver
from .sessions import close_session

log = logging.getLogger(__name__)

LOG_EVERY = 10.0


def text_frame(payload):
    """An unmasked, final WebSocket text frame (RFC 6455 5.2) carrying ``payload``."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


class Broadcast:
    """Sends events to engine.io sessions, straight to the socket where it can.

    :param server: the ``socketio.Server``.
    :param namespace: the Socket.IO namespace of :meth:`send`'s events.
    :param direct_writes: False sends everything through the queues
        (``WALL_DIRECT_WRITES=off``, for comparison).
    """

    def __init__(self, server, namespace, direct_writes=True):
        self.server = server
        self.namespace = namespace
        self.direct_writes = direct_writes
        self._queue = socketio_driver.queue_sender(server)
        self._send_one = socketio_driver.one_sender(server)
        self._last_packet = None
        self._last_frame = None
        #: packets written straight to a socket, and packets queued, so far
        self.direct = 0
        self.queued = 0
        #: sends that raised (each closed that session, see _failed)
        self.failed = 0
        self._last_log = 0.0
        socketio_driver.route_emits(server, self.send_packet, self.send_one)

    def send(self, eio_sids, event, data):
        """Send ``event`` with ``data`` to every session in ``eio_sids``, encoded once.

        Never blocks: a socket that cannot take the whole frame at once
        finishes it in a task of its own, or gets the packet queued.
        """
        packet = self._packet(event, data)
        send = self.send_packet
        for eio_sid in eio_sids:
            send(eio_sid, packet)

    def send_many(self, eio_sids, messages):
        """Send several ``(event, data)`` in order to every session in ``eio_sids``.

        All are encoded before anything is sent, so an error in encoding
        sends none of them. A direct writer gets their frames in one write
        (one system call and, with Nagle's algorithm off, one TCP segment
        where they fit, instead of one each); a queue gets the packets one
        by one, in order.
        """
        packets = [self._packet(event, data) for event, data in messages]
        frames = b"".join(text_frame(p.encode().encode("utf-8")) for p in packets)
        for eio_sid in eio_sids:
            try:
                direct = self._writer(eio_sid)
                if direct is not None and direct.write(frames):
                    self.direct += len(packets)
                    continue
                for packet in packets:
                    self.queued += 1
                    self._queue(eio_sid, packet)
            except Exception:
                self._failed(eio_sid)

    def _packet(self, event, data):
        text = self.server.packet_class(
            sio_packet.EVENT, namespace=self.namespace, data=[event, data]
        ).encode()
        return eio_packet.Packet(eio_packet.MESSAGE, text)

    def _writer(self, eio_sid):
        if not self.direct_writes:
            return None
        return getattr(self.server.eio.sockets.get(eio_sid), "wall_direct", None)

    def send_packet(self, eio_sid, packet):
        """Send one engine.io packet of an event; the frame of the last packet is reused.

        python-socketio's manager, like :meth:`send`, hands the same packet
        object to every recipient of an emit, so its frame is built once.
        A send that raises closes that one session (see :meth:`_failed`)
        and never stops the others.
        """
        try:
            direct = self._writer(eio_sid)
            if (
                direct is not None
                and packet.packet_type == eio_packet.MESSAGE
                and not packet.binary
            ):
                if packet is not self._last_packet:
                    self._last_packet = packet
                    self._last_frame = text_frame(packet.encode().encode("utf-8"))
                if direct.write(self._last_frame):
                    self.direct += 1
                    return
            self.queued += 1
            self._queue(eio_sid, packet)
        except Exception:
            self._failed(eio_sid)

    def _failed(self, eio_sid):
        # The session may have missed this packet: closing it makes its
        # client reconnect and re-join with ``after``, which fills the gap
        # from the stream. Logged once per LOG_EVERY seconds at most.
        self.failed += 1
        now = time.monotonic()
        if now - self._last_log >= LOG_EVERY:
            self._last_log = now
            log.exception(
                "broadcast: a send to %s failed; closing that session (%d so far)",
                eio_sid,
                self.failed,
            )
        try:
            close_session(self.server.eio, eio_sid)
        except Exception:
            log.debug("closing %s after a failed send failed too", eio_sid, exc_info=True)

    def send_one(self, eio_sid, packet):
        """Send a Socket.IO packet (an ack, a connect reply) to one client."""
        direct = self._writer(eio_sid)
        if direct is not None:
            text = packet.encode()
            if isinstance(text, str) and direct.write(text_frame(("4" + text).encode("utf-8"))):
                return
        self._send_one(eio_sid, packet)
