"""The per-app services: store, delivery, presence and limits, built once in create_app."""

import logging

from flask import current_app

from . import store as store_module
from .delivery import Delivery, new_process_id
from .presence import Presence
from .ratelimit import NoLimits, PostLimits

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
        self.store = store_module.WallStore(
            store_module.connect(redis_url), history=config["HISTORY"]
        )
        self.presence = Presence(
            socketio, self.store, self.process_id, timeout=config["PRESENCE_TIMEOUT"]
        )
        self.delivery = Delivery(
            socketio,
            self.store,
            store_module.connect(redis_url, socket_timeout=READ_SOCKET_TIMEOUT),
            self.presence,
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
            self.limits = PostLimits(
                redis_url, config["RATE_LIMIT_SOCKET"], config["RATE_LIMIT_IP"]
            )
        else:
            self.limits = NoLimits()

    def add_post(self, wall, username, message, client_id, address, sid=None):
        """Store a validated post once; return ``(post, created)``.

        Delivery to sockets is not done here: every process's reader picks
        the post up from the stream (unless ``WALL_DELIVERY=pubsub``).
        """
        self.limits.hit(address, sid)
        post, created = self.store.add_post(wall, username, message, client_id)
        if created and self.pubsub_delivery:
            self.socketio.emit("new post", post, to=wall, namespace="/wall")
        return post, created

    def stop(self):
        """Stop the background tasks (tests; graceful shutdown)."""
        self.delivery.stop()
        self.presence.stop()


def get_runtime():
    """The :class:`Runtime` of the current app."""
    return current_app.extensions["wall"]
