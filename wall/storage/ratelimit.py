"""Rate limits, counted in Redis so that every process shares them.

Built on the ``limits`` library (the engine behind Flask-Limiter) with its
Redis storage, so a flood spread over several processes is counted once.
Which limits apply to what is decided by the callers (:mod:`wall.domain`);
this module only counts and says when to try again.
"""

import collections
import math
import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from ..errors import RateLimited

#: who a limit is counted for when a request carries no client address
UNKNOWN = "unknown"


class Limit:
    """One limit (e.g. ``"5/10 seconds"``) on one kind of key (``"socket"``, ``"ip"``...).

    :param limiter: a ``limits`` strategy over the shared storage.
    :param message: what a person reads, with ``%d`` for the seconds to wait.
    """

    def __init__(self, limiter, limit, kind, message):
        self._limiter = limiter
        self._item = parse(limit)
        self._kind = kind
        self._message = message

    def hit(self, who):
        """Count one for ``who``; raise :class:`RateLimited` past the limit."""
        who = who or UNKNOWN
        if not self._limiter.hit(self._item, self._kind, who):
            self._refuse(who)

    def check(self, who):
        """Raise :class:`RateLimited` if ``who`` is past the limit, counting nothing."""
        who = who or UNKNOWN
        if not self._limiter.test(self._item, self._kind, who):
            self._refuse(who)

    def _refuse(self, who):
        # The same key as the hit, or the wait would be read off an empty window.
        reset = self._limiter.get_window_stats(self._item, self._kind, who).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        raise RateLimited(self._message % retry_after, retry_after=retry_after)


class SocketWindow:
    """A moving window per Socket.IO session, counted in this process.

    A session lives in one process, so its count is exact here without a
    Redis round trip (one of a post's three, about a third of ingest's cost
    with the limits on: docs/performance.md). Its timestamps go with the
    session (:meth:`forget`), not with a sweep of every key, which is what
    ``limits``' memory storage does ten times a second while hits come in.
    """

    def __init__(self, limit, message, clock=time.monotonic):
        item = parse(limit)
        self._amount = item.amount
        self._seconds = item.get_expiry()
        self._message = message
        self._clock = clock
        self._hits = {}  # session -> deque of its last ``amount`` hits
        self._lock = threading.Lock()

    def hit(self, sid):
        """Count one for ``sid``; raise :class:`RateLimited` past the limit."""
        with self._lock:
            now = self._clock()
            hits = self._hits.get(sid)
            if hits is None:
                hits = self._hits[sid] = collections.deque(maxlen=self._amount)
            elif len(hits) == self._amount and now - hits[0] < self._seconds:
                retry_after = max(1, math.ceil(hits[0] + self._seconds - now))
                raise RateLimited(self._message % retry_after, retry_after=retry_after)
            hits.append(now)

    def forget(self, sid):
        """The session ended."""
        self._hits.pop(sid, None)

    def __len__(self):
        """Sessions counted now."""
        return len(self._hits)


def moving_window(storage, limit, kind, message):
    """A :class:`Limit` on a moving window: exact, a few Redis calls a hit."""
    return Limit(MovingWindowRateLimiter(storage), limit, kind, message)


def fixed_window(storage, limit, kind, message):
    """A :class:`Limit` on a fixed window: one Redis call a hit, for busy paths."""
    return Limit(FixedWindowRateLimiter(storage), limit, kind, message)


def memory_storage():
    """A ``limits`` storage in this process's memory (counts per process)."""
    from limits.storage import MemoryStorage

    return MemoryStorage()


class NoLimit:
    """Stands in for a :class:`Limit` when ``WALL_RATE_LIMITS=off``."""

    def hit(self, who):
        pass

    def check(self, who):
        pass

    def forget(self, who):
        pass
