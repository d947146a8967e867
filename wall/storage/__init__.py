"""Storage: everything the wall keeps in Redis, and the Redis it may start itself.

- :mod:`keys`: every key and channel; :mod:`lua` and ``scripts/``: the Lua scripts.
- :mod:`posts`: a wall's posts (one stream per wall); :mod:`entries`: stream
  entries as post objects; :mod:`streams`: the blocking multi-wall read.
- :mod:`presence`: online counts per process; :mod:`ratelimit`: counters of
  the rate limits. (Flask-SocketIO's Redis queue is in wall/drivers/message_queue.py;
  its channel is in :mod:`keys`.)
- :mod:`embedded`: a ``redis-server`` owned by this process (no ``REDIS_URL``),
  and the Redis launcher of the tests and tools.

Nothing here knows Socket.IO or Flask requests.
"""

import logging
import os

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)


#: connections one client keeps to Redis at most (see :func:`connect`)
POOL_SIZE = 64
#: how long a command waits for a free pooled connection, in seconds
POOL_WAIT = 10


def connect(url, socket_timeout=5.0, retry_writes=False, pool_size=POOL_SIZE):
    """Return a Redis client for ``url`` tuned for the wall.

    The post path must never repeat a write on its own (a timed-out XADD may
    have been applied), so retries are off unless asked for. The pool is
    bounded: thousands of sockets joining at once (a hall arriving, a
    reconnect storm) share ``pool_size`` connections and wait their turn,
    instead of each opening a connection of its own and timing out on a
    connect storm.
    """
    options = dict(
        socket_connect_timeout=2.0,
        socket_timeout=socket_timeout,
        socket_keepalive=True,
        health_check_interval=30,
        decode_responses=True,
        # Bytes that are not UTF-8 (a stream entry someone else wrote) must
        # not fail a whole read: they decode to lone surrogates, which
        # wall/storage/entries.py refuses entry by entry.
        encoding_errors="surrogateescape",
    )
    if not retry_writes:
        options["retry"] = Retry(NoBackoff(), 0)
        options["retry_on_error"] = []
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=pool_size, timeout=POOL_WAIT, **options
    )
    return redis.Redis(connection_pool=pool)


class Storage:
    """The app's Redis: its URL, a client for short commands, and the stores on it.

    :param url: the Redis URL (``REDIS_URL``, or the embedded server's).
    :param embedded: the :class:`~wall.storage.embedded.EmbeddedRedis` this
        app started, or None.
    """

    def __init__(self, url, history, embedded=None, on_skip=None):
        from .entries import EntryLog
        from .posts import PostStore
        from .presence import PresenceStore

        self.url = url
        self.embedded = embedded
        self.redis = connect(url)
        #: stream entries this version does not understand: logged once, counted
        self.entries = EntryLog(on_skip)
        self.posts = PostStore(self.redis, history=history, entries=self.entries)
        self.presence = PresenceStore(self.redis)
        self._limits = None

    @property
    def limits(self):
        """The ``limits`` library's storage, made on first use."""
        if self._limits is None:
            from . import ratelimit

            self._limits = ratelimit.storage(self.url)
        return self._limits

    def blocking_client(self, read_timeout):
        """A connection of its own for a blocking read of ``read_timeout`` seconds.

        Its socket timeout is longer, so a dead connection is noticed (and
        replaced) within one read.
        """
        return connect(self.url, socket_timeout=read_timeout + 5)

    def stop(self):
        """Stop the embedded Redis, if this app started one."""
        if self.embedded is not None:
            self.embedded.stop()


def init_app(app, settings, metrics=None):
    """Connect to ``REDIS_URL``, or start the embedded Redis; register ``wall.storage``."""
    embedded = None
    url = settings.redis_url
    if url is None:
        from .embedded import EmbeddedRedis

        data_dir = settings.data_dir or os.path.join(app.instance_path, "redis")
        embedded = EmbeddedRedis(data_dir, fsync=settings.redis_fsync)
        url = embedded.start()
        log.info("embedded Redis %s on %s (data in %s)", embedded.binary, url, data_dir)
    on_skip = metrics.entries_skipped.inc if metrics is not None else None
    storage = app.extensions["wall.storage"] = Storage(url, settings.history, embedded, on_skip)
    return storage


def get_storage(app):
    """The :class:`Storage` of ``app``."""
    return app.extensions["wall.storage"]
