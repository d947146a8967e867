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

from . import connection, keys

log = logging.getLogger(__name__)


def connect(url, socket_timeout=5.0, retry_writes=False, pool_size=connection.POOL_SIZE):
    """A Redis client for ``url`` (any form of wall/storage/connection.py), tuned
    for the wall: no retried writes, a bounded pool."""
    return connection.client(connection.parse(url), socket_timeout, retry_writes, pool_size)


class Storage:
    """The app's Redis: its URL, a client for short commands, and the stores on it.

    :param url: the Redis URL (``REDIS_URL``, or the embedded server's).
    :param embedded: the :class:`~wall.storage.embedded.EmbeddedRedis` this
        app started, or None.
    """

    def __init__(
        self, url, history, embedded=None, on_skip=None, min_replicas=0, replica_timeout_ms=1000
    ):
        from .durable import Durability
        from .entries import EntryLog
        from .posts import PostStore
        from .presence import PresenceStore

        self.url = url
        #: where Redis is: one server, Sentinel or Cluster (wall/storage/connection.py)
        self.topology = connection.parse(url)
        keys.configure(self.topology.cluster)
        self.embedded = embedded
        self.redis = connection.client(self.topology)
        #: stream entries this version does not understand: logged once, counted
        self.entries = EntryLog(on_skip)
        durability = None
        if min_replicas or self.topology.cluster:
            durability = Durability(self.redis, min_replicas, replica_timeout_ms)
        self.posts = PostStore(
            self.redis, history=history, entries=self.entries, durability=durability
        )
        self.presence = PresenceStore(self.redis)
        self._limits = None

    def check(self):
        """Refuse a Redis too old for the wall (raise TopologyError)."""
        return connection.check_version(self.redis, self.topology)

    @property
    def limits(self):
        """The ``limits`` library's storage, made on first use."""
        if self._limits is None:
            self._limits = connection.limits_storage(self.topology)
        return self._limits

    def blocking_client(self, read_timeout):
        """A connection of its own for a blocking read of ``read_timeout`` seconds.

        Its socket timeout is longer, so a dead connection is noticed (and
        replaced) within one read.
        """
        return connection.client(self.topology, socket_timeout=read_timeout + 5, pool_size=2)

    def pubsub_client(self, socket_timeout):
        """A client for the message queue's publishes and subscription (bytes:
        python-socketio pickles its messages)."""
        return connection.client(
            self.topology,
            socket_timeout=socket_timeout,
            retry_writes=True,
            pool_size=8,
            decode=False,
        )

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
    storage = app.extensions["wall.storage"] = Storage(
        url,
        settings.history,
        embedded,
        on_skip,
        min_replicas=settings.redis_min_replicas,
        replica_timeout_ms=settings.redis_replica_timeout_ms,
    )
    storage.check()
    return storage


def get_storage(app):
    """The :class:`Storage` of ``app``."""
    return app.extensions["wall.storage"]
