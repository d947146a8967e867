"""The per-app services: store, delivery, presence and limits, built once in create_app."""

import logging
import time

from flask import current_app

from . import store as store_module
from .broadcast import Broadcast
from .delivery import Delivery, new_process_id
from .errors import RateLimited
from .metrics import Metrics
from .packet_guard import close_session
from .post_batch import PostBatch
from .presence import Presence
from . import ratelimit

log = logging.getLogger(__name__)

# The blocking read waits this long; its socket timeout is longer, so a
# dead connection is noticed and replaced within one read.
READ_BLOCK_MS = 5000
READ_SOCKET_TIMEOUT = READ_BLOCK_MS / 1000 + 5


class Runtime:
    """Everything a request or a socket handler needs, for one app."""

    def __init__(self, app, socketio, redis_url):
        config = app.config
        self.redis_url = redis_url
        self.process_id = new_process_id()
        self.metrics = Metrics()
        #: socket handlers running now (a drain waits for them)
        self.inflight = 0
        #: the ConnectionGate in front of Socket.IO (set by create_app)
        self.gate = None
        self.store = store_module.WallStore(
            store_module.connect(redis_url), history=config["HISTORY"]
        )
        self.posts = PostBatch(self.store)
        self.presence = Presence(
            socketio, self.store, self.process_id, timeout=config["PRESENCE_TIMEOUT"],
            every_tick=self._close_slow_sessions,
        )
        self.broadcast = Broadcast(socketio.server, "/wall")
        self.broadcast.install()
        self.delivery = Delivery(
            socketio,
            self.store,
            store_module.connect(redis_url, socket_timeout=READ_SOCKET_TIMEOUT),
            self.presence,
            self.metrics,
            self.broadcast,
            block_ms=READ_BLOCK_MS,
        )
        if config["DELIVERY"] not in ("stream", "pubsub"):
            raise ValueError("WALL_DELIVERY must be stream or pubsub")
        self.pubsub_delivery = config["DELIVERY"] == "pubsub"
        if self.pubsub_delivery:
            log.warning("WALL_DELIVERY=pubsub: posts are delivered at most once")
            self.delivery.reading = False
        self.socketio = socketio
        if config["RATE_LIMITS"]:
            limits_storage = ratelimit.storage(redis_url)
            self.limits = ratelimit.PostLimits(
                limits_storage, config["RATE_LIMIT_SOCKET"], config["RATE_LIMIT_IP"]
            )
            self.echo_limits = ratelimit.AddressLimit(
                limits_storage, config["RATE_LIMIT_ECHO"], "echoes"
            )
        else:
            self.limits = self.echo_limits = ratelimit.NoLimits()

    def add_post(self, wall, username, message, client_id, address, sid=None):
        """Store a validated post once; return ``(post, created)``.

        Delivery to sockets is not done here: every process's reader picks
        the post up from the stream (unless ``WALL_DELIVERY=pubsub``).
        """
        try:
            self.limits.hit(address, sid)
        except RateLimited:
            self.metrics.rate_limited.inc()
            raise
        post, created = self.posts.add_post(wall, username, message, client_id)
        if created:
            self.metrics.posts_stored.inc()
        if created and self.pubsub_delivery:
            self.socketio.emit("new post", post, to=wall, namespace="/wall")
        return post, created

    def _close_slow_sessions(self):
        if self.gate is not None:
            self.gate.close_slow_sessions(close_session)

    @property
    def draining(self):
        return self.gate is not None and self.gate.draining

    def drain(self, timeout=10.0):
        """Shut down gracefully: refuse new sessions, close the open ones, leave presence.

        Sessions are closed at the engine.io level, which socket.io-client
        treats as a lost transport and reconnects (elsewhere, behind a load
        balancer); a Socket.IO-level disconnect would make it give up. A post
        whose ack is cut off here was stored or not; the client retries it
        with its ``client_id``, so it is stored once either way.
        """
        self.gate.draining = True
        # let load balancers see /healthz turn 503 before sessions go
        self.socketio.sleep(0.5)
        eio = self.socketio.server.eio
        sessions = list(eio.sockets.items())
        for sid, _ in sessions:
            try:
                close_session(eio, sid)
            except Exception:
                log.exception("drain: closing session %s failed", sid)
        # handlers already running finish their Redis work
        deadline = time.monotonic() + timeout
        while self.inflight and time.monotonic() < deadline:
            self.socketio.sleep(0.05)
        self.stop()
        log.info("drained: %d sessions closed", len(sessions))

    def stop(self):
        """Stop the background tasks and leave presence (tests; shutdown)."""
        self.delivery.stop()
        self.presence.stop()


def get_runtime():
    """The :class:`Runtime` of the current app."""
    return current_app.extensions["wall"]
