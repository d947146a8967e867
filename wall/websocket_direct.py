"""Direct writes of ready frames to eventlet WebSockets, for :mod:`wall.broadcast`.

engine.io gives every WebSocket a writer greenlet fed by a queue. A frame
may skip that queue only when doing so cannot reorder or interleave
anything: the session is upgraded and open, its queue is empty and nothing
is writing to the socket (eventlet's per-WebSocket send lock is free).
Greenlets switch only where they block, so nothing can change between that
check and the non-blocking ``send`` that follows. A send the kernel takes
only in part is finished by a task of its own holding the send lock, so
the writer and later frames wait behind it and the broadcast never waits
for a slow client; a client that stops reading is then handled by the
queue limit, as before (``wall/gate.py``).

``app.py`` installs this under eventlet only; everywhere else the broadcast
uses the queue. The package never imports eventlet itself.
"""

import logging

log = logging.getLogger(__name__)


class DirectWriter:
    """Writes whole frames to one engine.io session's eventlet WebSocket."""

    __slots__ = ("session", "ws", "fd", "spawn")

    def __init__(self, session, ws, spawn):
        self.session = session
        self.ws = ws
        self.fd = ws.socket.fd  # the non-blocking socket under eventlet's GreenSocket
        self.spawn = spawn

    def write(self, frame):
        """Write ``frame`` now and return True, or return False to have it queued."""
        session = self.session
        if (
            not session.upgraded
            or session.upgrading
            or session.closed
            or session.queue.qsize()
            or self.ws._sendlock.locked()
        ):
            return False
        try:
            sent = self.fd.send(frame)
        except OSError:
            # Would block, or the connection is gone: the queue path copes
            # with both (and the read side notices a dead connection).
            return False
        if sent < len(frame):
            # The lock is free (checked above, nothing ran since): take it
            # so that nothing else reaches this socket before the rest.
            self.ws._sendlock.acquire()
            self.spawn(self._finish, memoryview(frame)[sent:])
        return True

    def _finish(self, rest):
        try:
            self.ws.socket.sendall(rest)
        except OSError:
            pass  # the connection is gone; its read loop closes the session
        finally:
            self.ws._sendlock.release()


def install(engineio_socket_class, websocket_class, spawn):
    """Give every plain eventlet WebSocket session a ``wall_direct`` writer.

    :param engineio_socket_class: ``engineio.socket.Socket``.
    :param websocket_class: ``eventlet.websocket.RFC6455WebSocket``.
    :param spawn: ``eventlet.spawn_n``.

    Sessions with permessage-deflate (``WALL_WEBSOCKET_COMPRESSION=on``) or
    a socket eventlet does not wrap as a plain ``GreenSocket`` keep the
    queue: their frames cannot be prepared once for all.
    """
    if getattr(engineio_socket_class, "_wall_direct_installed", False):
        return
    handler = engineio_socket_class._websocket_handler
    engineio_socket_class.wall_direct = None

    def websocket_handler(self, ws):
        if _plain(ws, websocket_class):
            self.wall_direct = DirectWriter(self, ws, spawn)
        try:
            return handler(self, ws)
        finally:
            self.wall_direct = None

    engineio_socket_class._websocket_handler = websocket_handler
    engineio_socket_class._wall_direct_installed = True


def _plain(ws, websocket_class):
    if type(ws) is not websocket_class or ws.extensions:
        return False
    fd = getattr(ws.socket, "fd", None)
    return fd is not None and hasattr(fd, "send") and not hasattr(fd, "do_handshake")
