"""Everything specific to eventlet: its WebSocket's and engine.io's per-socket costs.

Seven patches, each checked before it is applied (:mod:`wall.drivers`):

- **direct writes**: engine.io gives every WebSocket a writer greenlet fed by
  a queue. A frame may skip that queue when doing so cannot reorder or
  interleave anything: the session is upgraded and open, its queue is empty
  and nothing is writing to the socket (eventlet's per-WebSocket send lock
  is free). Greenlets switch only where they block, so nothing can change
  between that check and the non-blocking ``send`` that follows. A send the
  kernel takes only in part is finished by a task of its own holding the
  send lock, so the writer and later frames wait behind it and a broadcast
  never waits for a slow client; one that stops reading is then handled by
  the queue limit (the gate). :class:`wall.realtime.broadcast.Broadcast`
  uses the ``wall_direct`` writer this puts on each session.
- **buffered reads**: eventlet reads each incoming frame in three or four
  ``recv`` calls (header, length, mask, payload), each a syscall and often a
  trip through the hub, and unmasks the payload one byte at a time in a
  Python generator (about 0.1 us a byte: a 300-byte post cost more to read
  than to store). Here each WebSocket reads what the kernel has in one call
  and serves from that buffer, and unmasks the payload as one integer.
- **ping timers**: engine.io sends each session's next PING from a task
  that sleeps for the ping interval, so every idle connection holds a
  started greenlet with its own saved stack for its whole life. A bare
  timer of the hub that spawns the send only when it is due holds a few
  hundred bytes.
- **writer on demand**: engine.io's writer task per WebSocket waits on its
  queue for the connection's life; here one runs only while something is
  queued (:mod:`wall.drivers.writer_tasks`).
- **released buffers**: eventlet's WSGI server keeps the request's buffered
  read and write files (24 kB) for a connection's life; an upgraded
  WebSocket uses the socket itself, so they are closed at the upgrade.
- **message cap**: eventlet checks each frame against ``max_frame_length``
  but joins the fragments of a message without limit; here the whole
  message is capped, so one client cannot make the server hold any amount
  of memory before engine.io's own size check runs.
- **no tracebacks**: eventlet's WSGI server defaults to ``debug=True``,
  which writes the traceback of any exception that escapes the app into
  the client's 500 (and into an upgraded WebSocket, whose handshake it
  never saw). Flask-SocketIO's ``run`` keeps ``debug`` for Flask's own, so
  the server is given ``debug=False`` here: a 500 has an empty body.

This module imports eventlet only when :func:`install` runs (``app.py``,
after monkey-patching), so it can be loaded anywhere to check its targets.
"""

import functools
import logging
import weakref

from . import Patch, Target, replaces, writer_tasks
from .ping_timers import ping_from_timers, spawn_when_due

log = logging.getLogger(__name__)

TESTED = {"eventlet": "0.41.3", "python-engineio": "4.15.1"}
READ_SIZE = 16384

_WEBSOCKET_INIT = Target(
    "eventlet.websocket",
    "RFC6455WebSocket.__init__",
    "eventlet",
    "94f5579952f3",
    sets=("client", "extensions"),
)
_WEBSOCKET_BASE_INIT = Target(
    "eventlet.websocket",
    "WebSocket.__init__",
    "eventlet",
    "93b64676c16d",
    sets=("socket", "_sendlock"),
)

DIRECT_WRITES = Patch(
    "eventlet.direct_writes",
    "live frames are written straight to idle WebSockets instead of each socket's queue",
    [
        Target(
            "engineio.socket",
            "Socket._websocket_handler",
            "python-engineio",
            "58afe1227192",
            sets=("upgraded", "upgrading"),
        ),
        # looked up on the class the sessions are, so a new override shows
        Target(
            "engineio.socket",
            "Socket.__init__",
            "python-engineio",
            "8532b631a4dc",
            sets=("queue", "closed", "upgraded", "upgrading"),
        ),
        _WEBSOCKET_INIT,
        _WEBSOCKET_BASE_INIT,
        # every frame eventlet sends itself takes the lock that direct writes check
        Target("eventlet.websocket", "RFC6455WebSocket._send", "eventlet", "82ffb8d0a4c2"),
        Target(
            "eventlet.greenio.base",
            "GreenSocket.__init__",
            "eventlet",
            "691018ed039a",
            sets=("fd",),
        ),
    ],
    TESTED,
)

BUFFERED_READS = Patch(
    "eventlet.buffered_reads",
    "incoming WebSocket frames are read in one recv per batch and unmasked as one integer",
    [
        _WEBSOCKET_INIT,
        _WEBSOCKET_BASE_INIT,
        Target("eventlet.websocket", "RFC6455WebSocket._apply_mask", "eventlet", "f6ac2b9da0f0"),
        Target("eventlet.websocket", "RFC6455WebSocket._recv_frame", "eventlet", "b7e54e98049d"),
    ],
    TESTED,
)

PING_TIMERS = Patch(
    "eventlet.ping_timers",
    "engine.io pings come from timers instead of a sleeping greenlet per session",
    [
        Target(
            "engineio.socket",
            "Socket.schedule_ping",
            "python-engineio",
            "fe316639159c",
            sets=("last_ping",),
        ),
    ],
    TESTED,
)

WRITER_ON_DEMAND = Patch(
    "eventlet.writer_on_demand",
    "engine.io's writer task per WebSocket runs only while something is queued",
    writer_tasks.TARGETS,
    TESTED,
)

MESSAGE_CAP = Patch(
    "eventlet.message_cap",
    "a fragmented WebSocket message is capped as a whole at max_frame_length",
    [
        Target("eventlet.websocket", "RFC6455WebSocket.Message.push", "eventlet", "92542c80ec9f"),
        Target(
            "eventlet.websocket",
            "RFC6455WebSocket.Message.__init__",
            "eventlet",
            "a38d79b3a958",
            sets=("max_frame_length",),
        ),
        Target("eventlet.websocket", "FailedConnectionError", "eventlet"),
    ],
    TESTED,
    protection=True,
)


RELEASED_BUFFERS = Patch(
    "eventlet.released_buffers",
    "an upgraded WebSocket gives back its HTTP request's buffered files (about 24 kB)",
    [
        # makes the buffered files, and the environ the release travels in
        Target(
            "eventlet.wsgi",
            "HttpProtocol.setup",
            "eventlet",
            "a016670ef277",
            sets=("rfile", "wfile", "connection"),
        ),
        Target("eventlet.wsgi", "HttpProtocol.get_environ", "eventlet", "b8865250e21c"),
        # stopping, it closes the sockets of connections it thinks idle
        Target("eventlet.wsgi", "server", "eventlet", "8db9f629ea68"),
        # after the app, an upgraded request writes nothing and reads no body
        Target("eventlet.wsgi", "HttpProtocol.handle_one_response", "eventlet", "b2ae04db91bb"),
        # the handshake's reply goes out on the socket itself, not the files
        Target(
            "eventlet.websocket", "WebSocketWSGI._handle_hybi_request", "eventlet", "c21772ffb631"
        ),
        _WEBSOCKET_INIT,
        Target(
            "eventlet.websocket",
            "WebSocket.__init__",
            "eventlet",
            "93b64676c16d",
            sets=("socket", "environ"),
        ),
    ],
    TESTED,
)

NO_TRACEBACKS = Patch(
    "eventlet.no_tracebacks",
    "eventlet's WSGI server sends no traceback to clients (debug=False)",
    # Flask-SocketIO's run calls eventlet.wsgi.server by attribute at each start
    [Target("eventlet.wsgi", "server", "eventlet", "8db9f629ea68")],
    TESTED,
    protection=True,
)


def install():
    """Apply every eventlet patch whose targets hold (idempotent)."""
    import engineio.socket
    import eventlet
    import eventlet.websocket
    import eventlet.wsgi

    if NO_TRACEBACKS.usable() and not NO_TRACEBACKS.active:
        serve_without_tracebacks(eventlet.wsgi)
        NO_TRACEBACKS.active = True

    websocket_class = eventlet.websocket.RFC6455WebSocket
    if MESSAGE_CAP.usable() and not MESSAGE_CAP.active:
        cap_messages(websocket_class.Message, eventlet.websocket.FailedConnectionError)
        MESSAGE_CAP.active = True
    if BUFFERED_READS.usable() and not BUFFERED_READS.active:
        buffer_reads(websocket_class)
        BUFFERED_READS.active = True
    if WRITER_ON_DEMAND.usable() and not WRITER_ON_DEMAND.active:
        writer_tasks.apply(eventlet.spawn_n)
        WRITER_ON_DEMAND.active = True
    if PING_TIMERS.usable() and not PING_TIMERS.active:
        # engine.io's writer closed a WebSocket that sent nothing for a ping
        # interval and timeout; without it, a timer checks each pong
        ping_from_timers(
            engineio.socket.Socket,
            spawn_when_due(_hub_timer, eventlet.spawn_n),
            check_pong=WRITER_ON_DEMAND.active,
        )
        PING_TIMERS.active = True
    if RELEASED_BUFFERS.usable() and not RELEASED_BUFFERS.active:
        release_upgraded_buffers(eventlet.wsgi.HttpProtocol, websocket_class)
        RELEASED_BUFFERS.active = True
    if DIRECT_WRITES.usable() and not DIRECT_WRITES.active:
        write_directly(engineio.socket.Socket, websocket_class, eventlet.spawn_n)
        DIRECT_WRITES.active = True


# -- direct writes -------------------------------------------------------------


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


def write_directly(engineio_socket_class, websocket_class, spawn):
    """Give every plain eventlet WebSocket session a ``wall_direct`` writer.

    Sessions with permessage-deflate (``WALL_WEBSOCKET_COMPRESSION=on``) or
    a socket eventlet does not wrap as a plain ``GreenSocket`` keep the
    queue: their frames cannot be prepared once for all.
    """
    handler = engineio_socket_class._websocket_handler
    engineio_socket_class.wall_direct = None

    @replaces(handler)
    def websocket_handler(self, ws):
        if _plain(ws, websocket_class):
            self.wall_direct = DirectWriter(self, ws, spawn)
        try:
            return handler(self, ws)
        finally:
            self.wall_direct = None

    engineio_socket_class._websocket_handler = websocket_handler


def _plain(ws, websocket_class):
    if type(ws) is not websocket_class or ws.extensions:
        return False
    fd = getattr(ws.socket, "fd", None)
    return fd is not None and hasattr(fd, "send") and not hasattr(fd, "do_handshake")


# -- buffered reads --------------------------------------------------------------


class BufferedReceiver:
    """A socket whose ``recv`` serves from one read of up to :data:`READ_SIZE` bytes.

    Everything else (``sendall``, ``fd``, ``close``...) is the wrapped socket's.
    """

    __slots__ = ("_sock", "_buf", "_pos")

    def __init__(self, sock):
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, size):
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            buf = self._sock.recv(max(size, READ_SIZE))
            if not buf:
                return buf
            self._buf, pos = buf, 0
        end = min(pos + size, len(buf))
        self._pos = end
        return buf[pos:end]

    def __getattr__(self, name):
        return getattr(self._sock, name)


def unmask(data, mask, length=None, offset=0):
    """``data`` XOR the 4-byte ``mask`` started at ``offset`` (RFC 6455 5.3)."""
    if length is None:
        length = len(data)
    if not length:
        return b""
    key = bytes(mask)
    shift = offset % 4
    key = key[shift:] + key[:shift]
    key = (key * (length // 4 + 1))[:length]
    value = int.from_bytes(data[:length], "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(length, "little")


def buffer_reads(websocket_class):
    """Server-side WebSockets read through a :class:`BufferedReceiver`; fast ``unmask``."""
    original_mask = websocket_class._apply_mask
    websocket_class._apply_mask = staticmethod(replaces(original_mask)(unmask))
    init = websocket_class.__init__

    @replaces(init)
    def buffered_init(self, sock, *args, **kwargs):
        init(self, sock, *args, **kwargs)
        if not self.client:
            self.socket = BufferedReceiver(self.socket)

    websocket_class.__init__ = buffered_init


# -- ping timers ---------------------------------------------------------------------


def _hub_timer(delay, callback, *args):
    import eventlet.hubs

    eventlet.hubs.get_hub().schedule_call_global(delay, callback, *args)


# -- released buffers --------------------------------------------------------------

#: the environ key of an HTTP request's :func:`_release` (popped at the upgrade)
RELEASE_KEY = "wall.release_buffers"


def release_upgraded_buffers(protocol_class, websocket_class):
    """Close the request's buffered files once its WebSocket is set up.

    eventlet's WSGI server reads each request through an 8 kB buffered file
    and writes through a 16 kB one, and keeps both for the connection's
    life; an upgraded WebSocket reads and writes the socket itself, so for
    an idle connection they were a third of its memory. Closing a file
    frees its buffer; unbuffered files take their place, so the socket stays
    open as long as before.
    """
    get_environ = protocol_class.get_environ

    @replaces(get_environ)
    def environ_with_release(self, *args, **kwargs):
        environ = get_environ(self, *args, **kwargs)
        environ[RELEASE_KEY] = functools.partial(_release, weakref.ref(self))
        return environ

    protocol_class.get_environ = environ_with_release
    init = websocket_class.__init__

    @replaces(init)
    def releasing_init(self, sock, environ, *args, **kwargs):
        init(self, sock, environ, *args, **kwargs)
        release = environ.pop(RELEASE_KEY, None)
        if release is not None and not self.client:
            release()

    websocket_class.__init__ = releasing_init


def _release(protocol_ref):
    protocol = protocol_ref()
    if protocol is None:
        return
    # Unbuffered files in their place hold the socket open as the buffered
    # ones did: eventlet's server, when it stops, closes the sockets of the
    # connections it thinks idle, a WebSocket's among them, and relies on
    # the open files to keep the socket until the connection's handler ends.
    old = protocol.rfile, protocol.wfile
    protocol.rfile = protocol.connection.makefile("rb", 0)
    protocol.wfile = protocol.connection.makefile("wb", 0)
    try:
        old[1].flush()
    except OSError:
        pass  # the connection is gone: the WebSocket finds out
    for buffered in old:
        buffered.close()  # frees its buffer, even where it is still referenced


# -- ping timers -------------------------------------------------------------------


# -- message cap ---------------------------------------------------------------------


def cap_messages(message_class, failed_connection_error):
    """Fail a WebSocket whose message grows past ``max_frame_length``."""
    push = message_class.push

    @replaces(push)
    def capped_push(self, data, final=False):
        self.size = getattr(self, "size", 0) + len(data)
        if self.size > self.max_frame_length:
            raise failed_connection_error(
                1009, "Message above the length limit of %d bytes." % self.max_frame_length
            )
        return push(self, data, final)

    message_class.push = capped_push


# -- no tracebacks ---------------------------------------------------------------------


def serve_without_tracebacks(wsgi_module):
    """``wsgi_module.server`` with ``debug=False`` unless a caller asks otherwise."""
    server = wsgi_module.server

    @replaces(server)
    def quiet_server(*args, **kwargs):
        kwargs.setdefault("debug", False)
        return server(*args, **kwargs)

    wsgi_module.server = quiet_server


# -- serving ---------------------------------------------------------------------------


class Serving:
    """eventlet's WSGI server: its connection limit, and a stop from a signal."""

    #: open files a session may hold at once: a WebSocket one, a long-polling
    #: session two while its GET and POST are both in flight (sessions are
    #: mostly WebSockets; the reserve in wall/serve.py covers the rest)
    files_per_session = 1

    def __init__(self):
        import greenlet

        self._main = greenlet.getcurrent()

    def run(self, socketio, app, host, port, max_connections):
        # Flask-SocketIO's run() listens with eventlet's default backlog
        # and has no way to change it; this is its eventlet branch with one.
        import eventlet
        import eventlet.green.socket
        import eventlet.wsgi

        from . import LISTEN_BACKLOG, no_delay

        family, _, _, _, address = eventlet.green.socket.getaddrinfo(host, port)[0]
        listener = eventlet.listen(address, family, backlog=LISTEN_BACKLOG)
        no_delay(listener)
        eventlet.wsgi.server(listener, app, log_output=False, max_size=max_connections)

    def stop(self, socketio):
        import eventlet.hubs

        # eventlet.wsgi.server leaves its accept loop on SystemExit.
        eventlet.hubs.get_hub().schedule_call_global(0, self._main.throw, SystemExit(0))
