"""Realtime: the ``/wall`` namespace and everything that serves its sockets.

- :mod:`namespace`: the event handlers (``join``, ``leave``, ``add to wall``).
- :mod:`delivery` with :mod:`rooms`: one reader per process follows the
  walls' streams and emits what is new to the sockets watching them.
- :mod:`broadcast`: each event framed once, written straight to idle sockets.
- :mod:`presence`: online counts across processes.
- :mod:`gate`: admission (limits, draining) and slow clients;
  :mod:`packet_guard`: binary and malformed packets.
- :mod:`scheduler`: the periodic jobs.

This layer uses :mod:`wall.domain` and :mod:`wall.storage`; the private
hooks it needs on python-socketio are in :mod:`wall.drivers.socketio`, and
engine.io's handling of bad input in :mod:`wall.drivers.engineio`.
"""

import logging
import time
import uuid

from flask_socketio import SocketIO

from .. import errors, protocol
from ..drivers import engineio as engineio_driver
from ..drivers import message_queue
from ..drivers import socketio as socketio_driver
from ..storage import keys
from ..storage.streams import StreamReader
from .broadcast import Broadcast
from .delivery import Delivery, SocketRooms
from .gate import ConnectionGate
from .namespace import Inflight, WallNamespace
from .packet_guard import PacketGuard
from .presence import Presence
from .scheduler import Scheduler
from .sessions import close_session

log = logging.getLogger(__name__)

#: the app's Flask-SocketIO extension (one server per ``init_app``)
socketio = SocketIO()


class Realtime:
    """The realtime parts of one app, and their lifecycle (stop, drain)."""

    def __init__(self, socketio, gate, delivery, presence, broadcast, scheduler, inflight):
        self.socketio = socketio
        self.gate = gate
        self.delivery = delivery
        self.presence = presence
        self.broadcast = broadcast
        self.scheduler = scheduler
        self.inflight = inflight

    @property
    def server(self):
        return self.socketio.server

    @property
    def draining(self):
        return self.gate.draining

    def degraded(self):
        """Why this process cannot be trusted to deliver right now, or None.

        The delivery reader past its deadline (twice its blocking read), or
        the message queue's listener that has not heard its own heartbeat
        within twice its interval. A process that watches no wall, or that
        no socket has reached yet, waits for nothing and is not degraded.
        """
        stalled = self.delivery.stalled_for()
        if stalled is not None:
            return "The delivery reader has not completed a round for %.0f s." % stalled
        manager = self.server.manager if self.server is not None else None
        silent_for = getattr(manager, "silent_for", None)
        silent = silent_for() if silent_for is not None else None
        if silent is not None and silent > 2 * manager.heartbeat:
            return "The message queue has not heard its heartbeat for %.0f s." % silent
        return None

    def drain(self, timeout=10.0):
        """Shut down gracefully: refuse new sessions, close the open ones, leave presence.

        A post whose ack is cut off here was stored or not; the client
        retries it with its ``client_id``, so it is stored once either way.
        """
        self.gate.draining = True
        # let load balancers see /healthz turn 503 before sessions go
        self.socketio.sleep(0.5)
        eio = self.server.eio
        sessions = list(eio.sockets)
        for sid in sessions:
            try:
                close_session(eio, sid)
            except Exception:
                log.exception("drain: closing session %s failed", sid)
        # handlers already running finish their Redis work
        deadline = time.monotonic() + timeout
        while self.inflight.count and time.monotonic() < deadline:
            self.socketio.sleep(0.05)
        self.stop()
        log.info("drained: %d sessions closed", len(sessions))

    def stop(self):
        """Stop the background tasks and leave presence (tests; shutdown)."""
        self.delivery.stop()
        self.scheduler.stop()
        self.presence.stop()


def init_app(app, settings, storage, posts, walls, clients, metrics, origins):
    """Serve ``/wall`` on ``app``; register the :class:`Realtime` as ``wall.realtime``.

    Wraps ``app.wsgi_app`` in the admission gate.
    """
    options = dict(
        async_mode=settings.async_mode,
        cors_allowed_origins=origins,
        max_http_buffer_size=protocol.MAX_MESSAGE_BYTES,
        logger=False,
        engineio_logger=False,
        # Events run where they arrive: in the connection's WebSocket reader, or
        # inside the long-polling POST that carried them (python-socketio sets
        # engine.io's async_handlers off). One connection's posts are handled
        # one after another, in the order sent, and no task is spawned per post.
        async_handlers=False,
    )
    if settings.message_queue:
        # Passed as a manager (not message_queue=) so our Redis options apply.
        options["client_manager"] = message_queue.manager(
            storage.url,
            keys.MESSAGE_QUEUE_CHANNEL,
            dict(socket_connect_timeout=2.0, socket_keepalive=True, health_check_interval=30),
            on_restart=metrics.loop_restarts.labels("message queue").inc,
            connect=storage.pubsub_client,
        )
    engineio_driver.install()
    socketio.init_app(app, **options)
    server = socketio.server

    process_id = uuid.uuid4().hex[:12]
    broadcast = Broadcast(server, protocol.NAMESPACE, direct_writes=settings.direct_writes)
    presence = Presence(socketio, storage.presence, process_id, timeout=settings.presence_timeout)
    scheduler = Scheduler(socketio)

    def make_reader(group):
        reader = StreamReader(storage.redis, process_id, storage.entries, group)
        return reader, storage.blocking_client(settings.reader_block_ms / 1000)

    delivery = Delivery(
        storage.posts,
        make_reader,
        SocketRooms(server),
        presence,
        broadcast,
        metrics,
        spawn=socketio.start_background_task,
        block_ms=settings.reader_block_ms,
        on_first_join=scheduler.start,
        on_restart=metrics.loop_restarts.labels("delivery reader").inc,
        access=_Access(server, walls),
    )
    gate = ConnectionGate(
        app.wsgi_app,
        socketio,
        settings.max_connections,
        settings.max_connections_per_ip,
        settings.max_queue,
        compression=settings.websocket_compression,
        per_client=settings.max_connections_per_client,
        clients=clients,
    )
    app.wsgi_app = gate
    scheduler.every(Presence.TICK, "presence", presence.tick)
    scheduler.every(1.0, "slow-session sweep", gate.close_slow_sessions)
    scheduler.every(1.0, "delivery watch", delivery.watch)
    scheduler.every(protocol.LIKES_FLUSH_MS / 1000, "likes flush", walls.flush_likes)
    socketio_driver.hook_sessions(
        server,
        on_connect=gate.connected,
        on_disconnect=gate.disconnected,
        on_message=PacketGuard(server, metrics),
    )
    socketio_driver.refuse_reserved_events(server, _reserved_event)
    socketio_driver.index_rooms(server.manager)
    inflight = Inflight()
    server.register_namespace(
        WallNamespace(
            delivery,
            presence,
            posts,
            walls,
            clients,
            inflight,
            metrics,
            on_connect=scheduler.start,
        )
    )
    realtime = Realtime(socketio, gate, delivery, presence, broadcast, scheduler, inflight)
    app.extensions["wall.realtime"] = realtime
    return realtime


def _reserved_event(event):
    return errors.ack(
        errors.UnknownEvent("%r is the connection's own event; a client does not send it." % event)
    )


class _Access:
    """May a socket stay on a private wall: does its handshake carry the grant?"""

    def __init__(self, server, walls):
        self.server = server
        self.walls = walls

    def __call__(self, sid, wall, grant, salt):
        from ..domain import clients
        from ..domain.walls import grant_cookie

        cookies = clients.cookies(self.server.get_environ(sid, protocol.NAMESPACE) or {})
        return self.walls.granted(wall, int(grant), str(salt), cookies.get(grant_cookie(wall)))


def get_realtime(app):
    """The :class:`Realtime` of ``app``."""
    return app.extensions["wall.realtime"]
