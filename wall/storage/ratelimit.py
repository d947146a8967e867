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

import redis
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from ..errors import RateLimited
from .batch import Batch

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
            self.refuse(who)

    def counted(self, who):
        """Count one for ``who``; False (and nothing counted) past the limit."""
        return self._limiter.hit(self._item, self._kind, who or UNKNOWN)

    def acquire_call(self, storage, who, now):
        """``(key, args)`` of the moving-window script ``limits`` runs for a hit."""
        key = storage.prefixed_key(self._item.key_for(self._kind, who or UNKNOWN))
        return key, (now, self._item.amount, self._item.get_expiry(), 1)

    def check(self, who):
        """Raise :class:`RateLimited` if ``who`` is past the limit, counting nothing."""
        who = who or UNKNOWN
        if not self._limiter.test(self._item, self._kind, who):
            self.refuse(who)

    def refuse(self, who):
        """Raise :class:`RateLimited` for ``who``, with the seconds its window still runs."""
        who = who or UNKNOWN
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


class Hits:
    """Moving-window limits checked in turn, a post's limits after its socket's.

    Each check is the ``limits`` library's own moving-window script; each
    refused check stops there (what comes after it is not counted). Checks
    of concurrent posts go to Redis together, one pipeline per step
    (:class:`wall.storage.batch.Batch`), where one by one each post's checks
    cost as much server time as storing the post, which is batched.
    Where the storage is a Redis Cluster (keys on many nodes) they go one by
    one, as ``limits`` sends them.

    :param storage: the ``limits`` storage the limits count in.
    """

    def __init__(self, storage):
        self.storage = storage
        self._script = getattr(storage, "lua_acquire_moving_window", None)
        self._batch = Batch(self._one, self._many) if self.batches(storage) else None

    @staticmethod
    def batches(storage):
        """True if checks on ``storage`` can share a pipeline (one Redis, or Sentinel's master)."""
        from limits.storage import RedisClusterStorage, RedisStorage

        return (
            isinstance(storage, RedisStorage)
            and not isinstance(storage, RedisClusterStorage)
            and hasattr(storage, "lua_acquire_moving_window")
            and hasattr(storage, "prefixed_key")
        )

    def hit(self, checks):
        """Count one on each ``(Limit, who)`` in turn; raise :class:`RateLimited`
        at the first that is past its limit."""
        refused = self._batch.call(checks) if self._batch is not None else self._one(checks)
        if refused is not None:
            limit, who = refused
            limit.refuse(who)

    @staticmethod
    def _one(checks):
        for limit, who in checks:
            if not limit.counted(who):
                return limit, who
        return None

    def _many(self, items):
        results = [None] * len(items)
        going, step = list(range(len(items))), 0
        while going:
            pipe = self.storage.get_connection().pipeline(transaction=False)
            now, sent = time.time(), []
            for i in going:
                if step < len(items[i]):
                    limit, who = items[i][step]
                    key, args = limit.acquire_call(self.storage, who, now)
                    pipe.execute_command("EVALSHA", self._script.sha, 1, key, *args)
                    sent.append(i)
            if not sent:
                break
            going = []
            for i, reply in zip(sent, pipe.execute(raise_on_error=False)):
                if isinstance(reply, redis.exceptions.NoScriptError):
                    # Redis lost its script cache: the rest of this post's
                    # checks alone, through the script object, which loads it.
                    try:
                        results[i] = self._one(items[i][step:])
                    except Exception as exc:
                        results[i] = exc
                elif isinstance(reply, Exception):
                    results[i] = reply
                elif not reply:
                    results[i] = items[i][step]
                else:
                    going.append(i)
            step += 1
        return results


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
