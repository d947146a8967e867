"""Posting: what happens between a validated post and its ack.

The same for the Socket.IO event and the REST call: the rate limits are
counted, then the post is stored once (its ``client_id`` makes a retry
harmless) in a batch with whatever else is being posted at that moment.
Delivery is not done here: every process's reader picks the post up from
the wall's stream (:mod:`wall.realtime.delivery`).
"""

import logging

from ..errors import RateLimited
from ..storage import ratelimit

log = logging.getLogger(__name__)


class PostLimits:
    """The post limits: one per Socket.IO connection, and a generous ceiling per
    client address (a conference's Wi-Fi is one address). HTTP posts have no
    connection and count against the per-address ceiling only.

    :param storage: the ``limits`` storage (:func:`wall.storage.ratelimit.storage`),
        or None when ``WALL_RATE_LIMITS=off``.
    """

    def __init__(self, storage, per_socket, per_address):
        if storage is None:
            self.per_socket = self.per_address = ratelimit.NoLimit()
        else:
            message = "Too many posts; wait %d s before posting again."
            self.per_socket = ratelimit.moving_window(storage, per_socket, "socket", message)
            self.per_address = ratelimit.moving_window(storage, per_address, "ip", message)

    def hit(self, address, sid=None):
        """Count one post; raise :class:`RateLimited` if a limit is exceeded."""
        if sid is not None:
            self.per_socket.hit(sid)
        self.per_address.hit(address)


class PostService:
    """Stores posts for the handlers of both transports.

    :param batch: a :class:`wall.domain.post_batch.PostBatch`.
    :param limits: a :class:`PostLimits`.
    :param metrics: a :class:`wall.metrics.Metrics`.
    """

    def __init__(self, batch, limits, metrics):
        self.batch = batch
        self.limits = limits
        self.metrics = metrics

    def add(self, wall, username, message, client_id, address, sid=None):
        """Store a validated post once; return ``(post, created)``.

        :param address: the client's address; :param sid: its Socket.IO
            session, for posts over a socket.
        :raise RateLimited: past a limit (nothing is stored).
        """
        try:
            self.limits.hit(address, sid)
        except RateLimited:
            self.metrics.rate_limited.inc()
            raise
        post, created = self.batch.add_post(wall, username, message, client_id)
        if created:
            self.metrics.posts_stored.inc()
        return post, created
