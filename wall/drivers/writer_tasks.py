"""engine.io's WebSocket writer as a task only while something is queued.

engine.io starts a writer task per WebSocket session that waits on the
session's queue for the connection's whole life: under eventlet and gevent
a greenlet with its saved stack per idle connection (docs/performance.md,
memory). Most frames never pass it (the direct writes of the eventlet and
gevent drivers write them straight to the socket); what is queued (acks,
pings, a frame behind a busy socket) wakes a writer here that sends what
the queue holds and ends when it is empty.

Guarantees, as engine.io's own writer gives them:

- frames leave in the order they were queued, one writer per session at a
  time (the queue's ``put`` starts one only if none is running);
- the ``None`` that ends a session closes the WebSocket after what was
  queued before it, and the handler returns only after that;
- every ``get`` is matched by ``task_done``, so ``close(wait=True)`` still
  returns.

engine.io's writer also closed a WebSocket on which nothing was sent for a
ping interval and timeout (its ``poll`` timed out); here nothing waits on
the queue, so the drivers keep a timer for each ping's pong instead
(:func:`wall.drivers.ping_timers.ping_from_timers`, ``check_pong``).

Only for cooperative libraries (eventlet, gevent): between two switches no
other task runs, which is what makes the check-and-start below safe without
a lock.
"""

from . import Target, replaces

#: what the eventlet and gevent drivers' ``writer_on_demand`` patches rely on
TARGETS = [
    # copied below, with its writer task replaced
    Target(
        "engineio.socket",
        "Socket._websocket_handler",
        "python-engineio",
        "58afe1227192",
        sets=("upgraded", "upgrading", "connected"),
    ),
    # a session's queue comes from the server's create_queue
    Target("engineio.base_socket", "BaseSocket.__init__", "python-engineio", "8532b631a4dc"),
    Target("engineio.base_server", "BaseServer.create_queue", "python-engineio", "a384470753d5"),
    # every packet reaches the queue through put, and the end is a None
    Target("engineio.socket", "Socket.send", "python-engineio", "f8b2738ee5d4"),
    Target("engineio.socket", "Socket.close", "python-engineio", "05fac5583199"),
]


def kicking_queue_class(base):
    """A subclass of the async library's queue whose ``put`` calls ``wall_on_put``."""

    class KickingQueue(base):
        #: set by the session's writer while its WebSocket serves
        wall_on_put = None

        def put(self, item, *args, **kwargs):
            super().put(item, *args, **kwargs)
            on_put = self.wall_on_put
            if on_put is not None:
                on_put()

    KickingQueue.__name__ = KickingQueue.__qualname__ = "Kicking" + base.__name__
    return KickingQueue


def apply(spawn):
    """Both halves on engine.io's own classes: the kicking queues and the handler.

    Called by the eventlet and gevent drivers before their direct writes and
    engine.io's own patches, which wrap the handler this replaces.

    :param spawn: starts ``fn()`` in a new task, fire-and-forget.
    """
    import engineio.server
    import engineio.socket

    kick_on_put(engineio.server.Server)
    write_on_demand(engineio.socket.Socket, spawn)


def kick_on_put(server_class):
    """Sessions' queues (``Server.create_queue()``) call a writer as packets arrive."""
    create_queue = server_class.create_queue
    classes = {}

    @replaces(create_queue)
    def kicking_create_queue(self, *args, **kwargs):
        base = self._async["queue"]
        cls = classes.get(base)
        if cls is None:
            cls = classes[base] = kicking_queue_class(base)
        return cls(*args, **kwargs)

    server_class.create_queue = kicking_create_queue


class OnDemandWriter:
    """Sends one session's queued packets from a task that runs only while
    the queue holds something."""

    __slots__ = ("session", "ws", "spawn", "empty", "running", "finished", "done")

    def __init__(self, session, ws, spawn):
        self.session = session
        self.ws = ws
        self.spawn = spawn
        self.empty = session.server.get_queue_empty_exception()
        self.running = False
        #: the WebSocket was closed: no writer starts again
        self.finished = False
        self.done = session.server.create_event()

    def kick(self):
        """Start the writer unless it is running (called after each ``put``)."""
        if self.running or self.finished:
            return
        self.running = True
        self.spawn(self._run)

    def join(self):
        """Queue the end of the session and wait until its WebSocket is closed."""
        self.session.queue.put(None)
        self.done.wait()

    def _run(self):
        queue, ws = self.session.queue, self.ws
        while True:
            packets, end = [], False
            while True:
                try:
                    pkt = queue.get(block=False)
                except self.empty:
                    break
                queue.task_done()
                if pkt is None:
                    end = True
                    break
                packets.append(pkt)
            try:
                for pkt in packets:
                    ws.send(pkt.encode())
            except Exception:  # noqa: BLE001 (engine.io's writer stops on any)
                end = True
            if end:
                self._finish()
                return
            if not queue.qsize():
                self.running = False
                return

    def _finish(self):
        self.finished = True
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 (already gone: nothing left to close)
            pass
        finally:
            self.done.set()


def write_on_demand(engineio_socket_class, spawn):
    """Replace engine.io's WebSocket handler with one whose writer runs on demand.

    The handler is engine.io 4.15's (``Socket._websocket_handler``, whose
    digest the drivers' patch declares), with the writer task replaced by an
    :class:`OnDemandWriter`. Applied before the patches that wrap the
    handler, so that they wrap this one.
    """
    original = engineio_socket_class._websocket_handler
    if getattr(original, "_wall_original", None) is not None:
        raise RuntimeError("write_on_demand must replace engine.io's own handler, not a wrapper")

    @replaces(original)
    def websocket_handler(self, ws):
        return _handle(self, ws, spawn)

    engineio_socket_class._websocket_handler = websocket_handler


def _handle(self, ws, spawn):
    from engineio import exceptions, packet

    # From here to the writer, engine.io's own handler, unchanged.
    def websocket_wait():
        data = ws.wait()
        if data and len(data) > self.server.max_http_buffer_size:
            raise ValueError("packet is too large")
        return data

    for attr in ["_sock", "socket"]:
        if hasattr(ws, attr) and hasattr(getattr(ws, attr), "settimeout"):
            getattr(ws, attr).settimeout(self.server.ping_interval + self.server.ping_timeout)

    if self.connected:
        # the socket was already connected, so this is an upgrade
        self.upgrading = True  # hold packet sends during the upgrade

        pkt = websocket_wait()
        decoded_pkt = packet.Packet(encoded_packet=pkt)
        if decoded_pkt.packet_type != packet.PING or decoded_pkt.data != "probe":
            self.server.logger.info("%s: Failed websocket upgrade, no PING packet", self.sid)
            self.upgrading = False
            return []
        ws.send(packet.Packet(packet.PONG, data="probe").encode())
        self.queue.put(packet.Packet(packet.NOOP))  # end poll

        pkt = websocket_wait()
        decoded_pkt = packet.Packet(encoded_packet=pkt)
        if decoded_pkt.packet_type != packet.UPGRADE:
            self.upgraded = False
            self.server.logger.info(
                "%s: Failed websocket upgrade, expected UPGRADE packet, received %s instead.",
                self.sid,
                pkt,
            )
            self.upgrading = False
            return []
        self.upgraded = True
        self.upgrading = False
    else:
        self.connected = True
        self.upgraded = True

    # The writer: started by the queue whenever a packet arrives, and now
    # for what arrived during the upgrade.
    writer = OnDemandWriter(self, ws, spawn)
    queue = self.queue
    queue.wall_on_put = writer.kick
    if queue.qsize():
        writer.kick()

    self.server.logger.info("%s: Upgrade to websocket successful", self.sid)

    while True:
        p = None
        try:
            p = websocket_wait()
        except Exception as e:
            # if the socket is already closed, we can assume this is a
            # downstream error of that
            if not self.closed:
                self.server.logger.info(
                    '%s: Unexpected error "%s", closing connection', self.sid, str(e)
                )
            break
        if p is None:
            # connection closed by client
            break
        pkt = packet.Packet(encoded_packet=p)
        try:
            self.receive(pkt)
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            self.server.logger.info("Receive error -- socket is closed")
            break
        except Exception:
            # if we get an unexpected exception we log the error and exit
            # the connection properly
            self.server.logger.exception("Unknown receive error")
            break

    writer.join()  # engine.io: queue.put(None), then writer_task.join()
    queue.wall_on_put = None
    self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    return []
