"""Post rate limits, shared by every process through Redis.

Built on the ``limits`` library (the engine behind Flask-Limiter) with its
Redis storage and moving windows, so a flood spread over several processes
is counted once. Two limits apply to socket posts: one per connection, and a
generous per-address ceiling (a conference's Wi-Fi is one address); HTTP posts
have no connection and count against the per-address ceiling only.
"""

import math
import time

from limits import parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from .errors import RateLimited


def storage(redis_url):
    """The ``limits`` storage in the wall's Redis, under its own key prefix."""
    return RedisStorage(
        redis_url, key_prefix="wall:limits", socket_connect_timeout=2, socket_timeout=5
    )


class PostLimits:
    """Checks and counts posts against the configured limits.

    :param storage: the ``limits`` storage that holds the counters (see :func:`storage`).
    :param per_socket: e.g. ``"5/10 seconds"``.
    :param per_address: e.g. ``"600/minute"``.
    """

    def __init__(self, storage, per_socket, per_address):
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_socket = parse(per_socket)
        self._per_address = parse(per_address)

    def hit(self, address, sid=None):
        """Count one post; raise :class:`RateLimited` if a limit is exceeded."""
        checks = [(self._per_address, "ip", address or "unknown")]
        if sid is not None:
            checks.insert(0, (self._per_socket, "socket", sid))
        for item, kind, who in checks:
            if not self._limiter.hit(item, kind, who):
                reset = self._limiter.get_window_stats(item, kind, who).reset_time
                retry_after = max(1, math.ceil(reset - time.time()))
                raise RateLimited(
                    "Too many posts; wait %d s before posting again." % retry_after,
                    retry_after=retry_after,
                )


class AddressLimit:
    """One limit per client address, on a fixed window (one Redis call a check).

    :param storage: a ``limits`` storage (shared with :class:`PostLimits`).
    """

    def __init__(self, storage, limit, what):
        self._limiter = FixedWindowRateLimiter(storage)
        self._item = parse(limit)
        self._what = what

    def hit(self, address, sid=None):
        if not self._limiter.hit(self._item, self._what, address or "unknown"):
            reset = self._limiter.get_window_stats(self._item, self._what, address).reset_time
            retry_after = max(1, math.ceil(reset - time.time()))
            raise RateLimited(
                "Too many %s; wait %d s." % (self._what, retry_after), retry_after=retry_after
            )


class NoLimits:
    """Stands in when ``WALL_RATE_LIMITS=off`` (load tests, trusted setups)."""

    def hit(self, address, sid=None):
        pass
