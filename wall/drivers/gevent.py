"""Everything specific to gevent: simple-websocket's limits and per-socket costs.

Under gevent, engine.io serves WebSockets through simple-websocket (when
gevent-websocket is not installed). Six patches, each checked before it
is applied (:mod:`wall.drivers`):

- **message cap**: engine.io passes simple-websocket no message size limit
  at all: one client could make the server hold any amount of memory before
  engine.io's own size check ran. Here it gets engine.io's
  ``max_http_buffer_size``. (With gevent-websocket installed instead, that
  library's own limit applies.)
- **direct writes**: engine.io gives every WebSocket a writer greenlet fed
  by a queue, and simple-websocket builds each frame in Python (wsproto)
  for each socket. Here every WebSocket's socket is wrapped in a
  :class:`GuardedSocket`, through which every send of simple-websocket goes
  (the writer's frames, pongs, the close frame): it sends whole frames
  (simple-websocket calls ``send`` once and drops whatever the kernel did
  not take) one at a time, and counts the sends that are under way. A frame
  of a broadcast may then skip the queue when that cannot reorder or
  interleave anything: the session is upgraded and open, its queue is empty
  and no send is under way or waiting (the writer greenlet pops its queue
  and starts its sends without yielding in between). Greenlets switch only
  where they block, so nothing can change between that check and the
  non-blocking ``send`` that follows. A send the kernel takes only in part
  is finished by a greenlet of its own that holds the socket's send lock,
  so the writer and later frames wait behind it and a broadcast never waits
  for a slow client. :class:`wall.realtime.broadcast.Broadcast` uses the
  ``wall_direct`` writer this puts on each session. Sessions that negotiated
  an extension (permessage-deflate, ``WALL_WEBSOCKET_COMPRESSION=on``), or
  whose socket is not a plain gevent socket (TLS), keep the queue for their
  frames (their sends are still whole).
- **writer on demand**: engine.io's writer greenlet per WebSocket waits on
  its queue for the connection's life; here one runs only while something
  is queued (:mod:`wall.drivers.writer_tasks`; it too pops and starts its
  sends without yielding in between).
- **released buffers**: gevent's WSGI server keeps the request's 8 kB
  buffered file for a connection's life; simple-websocket uses a duplicate
  of the socket, so the file and the request's own socket are closed once
  the WebSocket is set up (one open file per WebSocket instead of two).
- **inline reads**: simple-websocket's reader greenlet per WebSocket
  handed each message to the request's greenlet through an event (two
  greenlets woken per message, two stacks per idle connection); here the
  request's greenlet reads and parses itself (:mod:`wall.drivers.inline_reads`).
- **ping timers**: engine.io sends each session's next PING from a greenlet
  that sleeps for the ping interval, so every idle connection holds a
  started greenlet with its own saved stack. Here a bare timer of gevent's
  loop waits, and a greenlet is spawned only when the ping is due.

This module imports gevent only when :func:`install` or :class:`Serving`
runs, so it can be loaded anywhere to check its targets.
"""

import importlib

from . import Patch, Target, inline_reads, ping_timers, replaces, writer_tasks

TESTED = {"python-engineio": "4.15.1", "simple-websocket": "1.1.0", "gevent": "26.9.0"}

MESSAGE_CAP = Patch(
    "gevent.message_cap",
    "simple-websocket's messages are capped at engine.io's max_http_buffer_size",
    [
        Target(
            "engineio.async_drivers._websocket_wsgi",
            "SimpleWebSocketWSGI.__init__",
            "python-engineio",
            "658724d7a30a",
            sets=("server_args",),
        ),
    ],
    TESTED,
    protection=True,
)

DIRECT_WRITES = Patch(
    "gevent.direct_writes",
    "live frames are written straight to idle WebSockets instead of each socket's queue; "
    "simple-websocket's sends are whole and one at a time",
    [
        Target(
            "engineio.socket",
            "Socket._websocket_handler",
            "python-engineio",
            "58afe1227192",
            sets=("upgraded", "upgrading"),
        ),
        Target(
            "engineio.socket",
            "Socket.__init__",
            "python-engineio",
            "8532b631a4dc",
            sets=("queue", "closed", "upgraded", "upgrading"),
        ),
        # the session's ws.ws is simple-websocket's Server
        Target(
            "engineio.async_drivers._websocket_wsgi",
            "SimpleWebSocketWSGI.__call__",
            "python-engineio",
            "bab910f5249d",
            sets=("ws",),
        ),
        Target(
            "simple_websocket.ws",
            "Base.__init__",
            "simple-websocket",
            "25f57ef0b5f8",
            sets=("sock", "connected"),
        ),
        Target(
            "simple_websocket.ws",
            "Server.__init__",
            "simple-websocket",
            "daea66f7fe24",
            sets=("environ",),
        ),
        # everything simple-websocket sends goes through self.sock.send
        Target("simple_websocket.ws", "Base.send", "simple-websocket", "5dd75a306f1f"),
        Target("simple_websocket.ws", "Base.close", "simple-websocket", "c3b710ade527"),
        Target("simple_websocket.ws", "Base._thread", "simple-websocket", "da9a912028a4"),
        Target("simple_websocket.ws", "Base._handle_events", "simple-websocket", "fa982a271583"),
        # the non-blocking socket under gevent's
        Target("gevent._socket3", "socket.__init__", "gevent", "187a3fe6b61a", sets=("_sock",)),
    ],
    TESTED,
)

RELEASED_BUFFERS = Patch(
    "gevent.released_buffers",
    "an upgraded WebSocket gives back its HTTP request's buffered file (about 8 kB) "
    "and the request's socket, which simple-websocket duplicated (one open file)",
    [
        # takes a dup of the request's socket, read and written from then on
        Target(
            "simple_websocket.ws",
            "Server.__init__",
            "simple-websocket",
            "daea66f7fe24",
            sets=("environ", "mode"),
        ),
        # the request's buffered file; a closed one ends the connection's requests
        Target("gevent.pywsgi", "WSGIHandler.__init__", "gevent", "c3d9e1009c3a", sets=("rfile",)),
        Target("gevent.pywsgi", "WSGIHandler.handle_one_request", "gevent", "14e946e9fb33"),
        # an upgrade's wsgi.input is that file itself
        Target("gevent.pywsgi", "WSGIHandler.get_environ", "gevent", "fbd39b74e42d"),
        Target("gevent.pywsgi", "WSGIHandler.handle_one_response", "gevent", "16fcb501fa89"),
    ],
    TESTED,
)

PING_TIMERS = Patch(
    "gevent.ping_timers",
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
    "gevent.writer_on_demand",
    "engine.io's writer task per WebSocket runs only while something is queued",
    writer_tasks.TARGETS,
    TESTED,
)

INLINE_READS = Patch(
    "gevent.inline_reads",
    "simple-websocket reads in the request's own greenlet instead of a reader greenlet "
    "per WebSocket",
    inline_reads.TARGETS,
    TESTED,
)


def install():
    """Apply every gevent patch whose targets hold (idempotent)."""
    driver = importlib.import_module("engineio.async_drivers.gevent")
    if WRITER_ON_DEMAND.usable() and not WRITER_ON_DEMAND.active:
        import gevent

        writer_tasks.apply(gevent.spawn_raw)
        WRITER_ON_DEMAND.active = True
    if MESSAGE_CAP.usable() and not MESSAGE_CAP.active:
        if cap_messages(driver):
            MESSAGE_CAP.active = True
    if _simple_websocket_serves(driver) and DIRECT_WRITES.usable() and not DIRECT_WRITES.active:
        import engineio.socket
        import gevent
        import gevent.lock
        import gevent.socket

        write_directly(
            engineio.socket.Socket, gevent.socket.socket, gevent.lock.Semaphore, gevent.spawn
        )
        DIRECT_WRITES.active = True
    if _simple_websocket_serves(driver) and INLINE_READS.usable() and not INLINE_READS.active:
        import engineio.socket
        import gevent
        import simple_websocket.ws
        from wsproto.utilities import LocalProtocolError

        inline_reads.read_inline(
            simple_websocket.ws.Base, (LocalProtocolError,), gevent.Timeout, gevent.spawn
        )
        inline_reads.without_readers(driver.WebSocketWSGI)
        inline_reads.finish_on_return(engineio.socket.Socket)
        INLINE_READS.active = True
    if RELEASED_BUFFERS.usable() and not RELEASED_BUFFERS.active:
        import simple_websocket.ws

        release_upgraded_buffers(simple_websocket.ws.Server)
        RELEASED_BUFFERS.active = True
    if PING_TIMERS.usable() and not PING_TIMERS.active:
        import engineio.socket
        import gevent

        ping_from_timers(
            engineio.socket.Socket, ping_timers.spawn_when_due(_loop_timer, gevent.spawn_raw)
        )
        PING_TIMERS.active = True


def _simple_websocket_serves(driver_module):
    base = importlib.import_module("engineio.async_drivers._websocket_wsgi").SimpleWebSocketWSGI
    cls = getattr(driver_module, "WebSocketWSGI", None)
    return isinstance(cls, type) and issubclass(cls, base)


# -- released buffers --------------------------------------------------------------


def release_upgraded_buffers(server_class):
    """Close the request's buffered file once simple-websocket has its own socket.

    gevent's WSGI server reads each request through an 8 kB buffered file
    and keeps it for the connection's life; simple-websocket reads and
    writes a duplicate of the socket, so for an idle connection the file
    was only memory, and the request's own socket an open file that nothing
    reads or writes. Closing both frees the buffer and one of the two file
    descriptors (the connection stays open on the duplicate); the server
    then takes no further request on that connection, and its last reads
    and close on the closed socket fail quietly as on a socket the peer shut.
    """
    init = server_class.__init__

    @replaces(init)
    def releasing_init(self, environ, *args, **kwargs):
        init(self, environ, *args, **kwargs)
        if self.mode == "gevent":
            # where simple-websocket found the socket it duplicated
            rfile = environ.get("wsgi.input")
            if not hasattr(rfile, "raw") and hasattr(rfile, "rfile"):
                rfile = rfile.rfile
            if hasattr(rfile, "raw"):
                original = getattr(rfile.raw, "_sock", None)  # gone once the file closes
                rfile.close()
                # a socket that could not be duplicated (TLS) is the WebSocket's own
                if original is not None and original is not self.sock:
                    original.close()

    server_class.__init__ = releasing_init


# -- message cap -------------------------------------------------------------------


def cap_messages(driver_module):
    """Give engine.io's simple-websocket server its ``max_message_size``.

    :param driver_module: ``engineio.async_drivers.gevent``, already imported.
    :return: False when gevent-websocket serves (it has its own limit).
    """
    if not _simple_websocket_serves(driver_module):
        return False
    cls = driver_module.WebSocketWSGI
    init = cls.__init__

    @replaces(init)
    def capped_init(self, handler, server):
        init(self, handler, server)
        self.server_args["max_message_size"] = int(server.max_http_buffer_size)

    cls.__init__ = capped_init
    return True


# -- direct writes -------------------------------------------------------------------


class GuardedSocket:
    """One simple-websocket connection's gevent socket: whole sends, one at a time.

    ``pending`` counts the sends under way or waiting for the lock (and a
    direct write's rest, see :class:`DirectWriter`). Everything else
    (``recv``, ``close``, ``fileno``...) is the wrapped socket's.
    """

    __slots__ = ("sock", "lock", "pending")

    def __init__(self, sock, lock):
        self.sock = sock
        self.lock = lock
        self.pending = 0

    def send(self, data):
        self.pending += 1
        try:
            with self.lock:
                self.sock.sendall(data)
        finally:
            self.pending -= 1
        return len(data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


class DirectWriter:
    """Writes whole frames to one engine.io session's simple-websocket socket."""

    __slots__ = ("session", "websocket", "guard", "spawn")

    def __init__(self, session, websocket, guard, spawn):
        self.session = session
        self.websocket = websocket  # simple_websocket.Server
        self.guard = guard
        self.spawn = spawn

    def write(self, frame):
        """Write ``frame`` now and return True, or return False to have it queued."""
        session = self.session
        guard = self.guard
        if (
            not session.upgraded
            or session.upgrading
            or session.closed
            or session.queue.qsize()
            or guard.pending
            or not self.websocket.connected
        ):
            return False
        try:
            # gevent's socket wraps a non-blocking one (a closed one raises)
            sent = guard.sock._sock.send(frame)
        except OSError:
            # Would block, or the connection is gone: the queue path copes
            # with both (and the read side notices a dead connection).
            return False
        if sent < len(frame):
            # Nothing is sending (checked above, nothing ran since): the
            # lock is free. Hold it, so that nothing else reaches this
            # socket before the rest.
            guard.pending += 1
            guard.lock.acquire()
            self.spawn(self._finish, memoryview(frame)[sent:])
        return True

    def _finish(self, rest):
        guard = self.guard
        try:
            guard.sock.sendall(rest)
        except OSError:
            pass  # the connection is gone; its read loop closes the session
        finally:
            guard.lock.release()
            guard.pending -= 1


def write_directly(engineio_socket_class, gevent_socket_class, lock_class, spawn):
    """Guard the socket of every simple-websocket session and give it a ``wall_direct`` writer.

    :param gevent_socket_class: ``gevent.socket.socket``; any other socket
        (TLS) is left as it is.
    :param lock_class: ``gevent.lock.Semaphore``.
    :param spawn: ``gevent.spawn``, for the rest of a partial write.
    """
    handler = engineio_socket_class._websocket_handler
    engineio_socket_class.wall_direct = None

    @replaces(handler)
    def websocket_handler(self, ws):
        guard = guard_socket(getattr(ws, "ws", None), gevent_socket_class, lock_class)
        if guard is not None and not _extensions(ws.ws):
            self.wall_direct = DirectWriter(self, ws.ws, guard, spawn)
        try:
            return handler(self, ws)
        finally:
            self.wall_direct = None

    engineio_socket_class._websocket_handler = websocket_handler


def guard_socket(websocket, gevent_socket_class, lock_class):
    """Wrap the socket of ``websocket`` (simple-websocket's) in a :class:`GuardedSocket`.

    :return: the guard, or None if that socket is not a plain gevent socket.
    """
    sock = getattr(websocket, "sock", None)
    if isinstance(sock, GuardedSocket):
        return sock
    if type(sock) is not gevent_socket_class:
        return None
    guard = GuardedSocket(sock, lock_class())
    websocket.sock = guard
    return guard


def _extensions(websocket):
    # simple-websocket accepts permessage-deflate whenever the client
    # offers it (the gate strips the offer unless compression is on)
    environ = getattr(websocket, "environ", None) or {}
    return bool(environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS"))


# -- ping timers -------------------------------------------------------------------
# (as in wall/drivers/eventlet.py, with gevent's timer, and one more)


def _loop_timer(delay, callback, *args):
    import gevent

    # a started watcher is kept by the loop until it fires
    gevent.get_hub().loop.timer(delay).start(callback, *args)


def ping_from_timers(engineio_socket_class, spawn_later):
    """Replace ``schedule_ping``: a timer (``spawn_later``) instead of a sleeping greenlet.

    Each ping also sets a timer for its timeout. Under eventlet engine.io
    gives the WebSocket a read timeout of a ping interval plus its timeout;
    simple-websocket's socket gets none, so a silent client was only cut
    off when engine.io's service task next came by (up to ``ping_timeout``
    later). The timer closes it when its timeout ends, with engine.io's own
    check (a CLOSE packet, then the WebSocket's close).
    """
    ping_timers.ping_from_timers(engineio_socket_class, spawn_later, check_pong=True)


# -- serving ---------------------------------------------------------------------------


class Serving:
    """gevent's WSGI server: a pool as its connection limit, and a clean stop."""

    @property
    def files_per_session(self):
        """Open files a session may hold at once.

        simple-websocket dup()s the socket of every WebSocket: two each,
        unless the request's own is closed at the upgrade (released buffers).
        """
        return 1 if RELEASED_BUFFERS.active else 2

    def __init__(self):
        self._server = None

    def run(self, socketio, app, host, port, max_connections):
        # Flask-SocketIO's run() makes its listener from an address, with
        # no say in its options; this is its gevent branch (simple-websocket
        # serving) with a listener of our own.
        import socket

        import gevent.socket
        from gevent import pywsgi
        from gevent.pool import Pool

        from . import LISTEN_BACKLOG, no_delay

        family, _, _, _, address = gevent.socket.getaddrinfo(host, port)[0]
        listener = gevent.socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(LISTEN_BACKLOG)
        no_delay(listener)
        self._server = pywsgi.WSGIServer(listener, app, log=None, spawn=Pool(max_connections))
        self._server.serve_forever()

    def stop(self, socketio):
        self._server.stop(timeout=2)
