"""Posting: what happens between a validated post and its ack.

The same for the Socket.IO event and the REST call: the rate limits are
counted, the wall's settings decide (closed, held for approval, the word
filter), then the post is stored once (its ``client_id`` makes a retry
harmless) in a batch with whatever else is being posted at that moment; the
store's script checks what must be exact at that moment (the settings'
version, bans, slow mode). Delivery is not done here: every process's
reader picks the post up from the wall's stream (:mod:`wall.realtime.delivery`).
"""

import logging
import math

from .. import protocol
from ..errors import Banned, Closed, Forbidden, RateLimited, Rejected, Unavailable
from ..storage import ratelimit
from ..storage.posts import NewPost

log = logging.getLogger(__name__)

_STALE_RETRIES = 3


class PostLimits:
    """The post limits, client first: one per Socket.IO connection (counted in
    this process, where the session lives), one per client
    (its ``wall_client`` cookie; a session without it, or an HTTP call without
    it, is its own client: the session, or the address), and a much higher
    ceiling per address, since a conference hall on one Wi-Fi is one address.

    :param storage: the ``limits`` storage (:func:`wall.storage.connection.limits_storage`),
        or None when ``WALL_RATE_LIMITS=off``.
    """

    def __init__(self, storage, per_socket, per_client, per_address):
        self.hits = None
        if storage is None:
            self.per_socket = self.per_client = self.per_address = ratelimit.NoLimit()
        else:
            self.hits = ratelimit.Hits(storage)
            message = "Too many posts; wait %d s before posting again."
            self.per_socket = ratelimit.SocketWindow(per_socket, message)
            self.per_client = ratelimit.moving_window(storage, per_client, "client", message)
            self.per_address = ratelimit.moving_window(storage, per_address, "ip", message)

    def forget(self, sid):
        """A Socket.IO session ended: its own count goes with it."""
        self.per_socket.forget(sid)

    def hit(self, address, sid=None, who=None):
        """Count one post; raise :class:`RateLimited` if a limit is exceeded.

        :param who: the client (:func:`wall.domain.clients.who`).
        """
        if self.hits is None:
            return
        if sid is not None:
            self.per_socket.hit(sid)
        checks = []
        if who is not None and who != "s:%s" % sid:  # a session without cookie: counted above
            checks.append((self.per_client, who))
        checks.append((self.per_address, address))
        self.hits.hit(checks)


class PostService:
    """Stores posts for the handlers of both transports.

    :param batch: a :class:`wall.domain.post_batch.PostBatch`.
    :param limits: a :class:`PostLimits`.
    :param walls: the :class:`wall.domain.walls.WallService`.
    :param metrics: a :class:`wall.metrics.Metrics`.
    """

    def __init__(self, batch, limits, walls, metrics):
        self.batch = batch
        self.limits = limits
        self.walls = walls
        self.metrics = metrics

    def add(
        self, wall, username, message, client_id, address, who, sid=None, cookies=None, actor=None
    ):
        """Store a validated post once; return ``(post, created, author_key)``.

        :param address: the client's address; :param who: its identity
            (:func:`wall.domain.clients.who`); :param sid: its Socket.IO
            session, for posts over a socket; :param cookies: its cookies
            (a private wall's grant); :param actor: the organiser posting, who
            needs no grant.
        :raise RateLimited: past a limit or in slow mode; :raise Closed,
            Rejected, Banned, Forbidden: as the wall's settings say. Nothing
            is stored.
        """
        try:
            self.limits.hit(address, sid, who)
        except RateLimited:
            self.metrics.rate_limited.inc()
            raise
        address_who = "a:" + address if address else ""
        for _ in range(_STALE_RETRIES):
            settings = self.walls.cached(wall)
            if not self.walls.may_read(settings, cookies or {}, actor):
                raise Forbidden("This wall is private: unlock it with its passcode.")
            pending, refuse = settings.moderation == "approve", ""
            if settings.moderation == "closed":
                refuse = protocol.CLOSED
            elif settings.filter.match(username, message):
                if settings.blocklist_action == "reject":
                    refuse = protocol.REJECTED
                else:
                    pending = True
            added = self.batch.add(
                NewPost(
                    wall,
                    username,
                    message,
                    client_id,
                    settings.version,
                    who,
                    address_who,
                    settings.slow_mode_s * 1000,
                    pending,
                    refuse,
                )
            )
            if added.kind != "stale":
                break
            self.walls.forget(wall)
        else:
            raise Unavailable("The wall's settings kept changing; try again.")
        if added.kind in ("stored", "exists"):
            post = added.post
            if added.created:
                self.metrics.posts_stored.inc()
                return post, True, self.walls.author_key(wall, post["id"])
            # A repeat of a client_id (which every watcher sees in the post):
            # its author key only to the client that wrote it.
            author = self.walls.posts.author(wall, post["id"])
            mine = author is not None and author[0] == who
            return post, False, self.walls.author_key(wall, post["id"]) if mine else None
        if added.kind == protocol.CLOSED:
            raise Closed("This wall is closed: it takes no new posts.")
        if added.kind == protocol.REJECTED:
            raise Rejected("The post was not accepted: it contains a word this wall does not take.")
        if added.kind == "banned":
            raise Banned("You cannot post on this wall.")
        retry_after = max(1, math.ceil(added.wait_ms / 1000))
        raise RateLimited(
            "This wall is in slow mode; wait %d s before posting again." % retry_after,
            retry_after=retry_after,
        )
