"""Online counts: sockets joined to a wall, across every live process.

Each process writes its own count per wall into Redis and heartbeats; a
process that stops heartbeating stops counting after ``timeout`` seconds.
Changes are announced with the ``online`` event at most once a second per
wall across all processes, so a reconnect storm of N sockets costs a handful
of messages instead of N². ``online`` travels over the message queue: it may
be coalesced or lost, and the next change or heartbeat corrects it.
"""

import logging
import threading

import redis

from .. import protocol
from .coalesce import Batched

log = logging.getLogger(__name__)


class Presence:
    """This process's share of the online counts.

    :param socketio: the ``flask_socketio.SocketIO`` to announce with (through
                     the message queue, so every process's sockets hear it).
    :param store: a :class:`wall.storage.presence.PresenceStore`.
    :param process_id: this process's name in Redis.
    :param timeout: seconds without heartbeat after which a process is dead.
    """

    #: seconds between two runs of :meth:`tick` (the scheduler's interval)
    TICK = 1.0

    def __init__(self, socketio, store, process_id, timeout=30.0):
        self.socketio = socketio
        self.store = store
        self.process_id = process_id
        self.timeout = timeout
        self.heartbeat_every = max(timeout / 3, self.TICK)
        self._lock = threading.Lock()
        self._counts = {}  # wall -> sockets here
        self._dirty = set()
        self._since_heartbeat = self.heartbeat_every
        self._syncs = Batched()

    def set_local(self, wall, count):
        """Record this process's socket count on ``wall``; announced on the next tick."""
        with self._lock:
            if count:
                self._counts[wall] = count
            else:
                self._counts.pop(wall, None)
            self._dirty.add(wall)

    def sync(self, wall):
        """Write this process's count for ``wall`` now; return the total online.

        Syncs of one wall at the same time (joins in a storm) wait for the one
        running and then make one write for all of them.
        """
        return self._syncs.call(wall, self._sync, wall)

    def _sync(self, wall):
        with self._lock:
            count = self._counts.get(wall, 0)
        total, announce = self.store.sync(wall, self.process_id, count, self.timeout)
        self._after_sync(wall, total, announce)
        return total

    def online(self, wall):
        """Sockets on ``wall`` across live processes, read only (for the API)."""
        return self.store.online(wall, self.timeout)

    def tick(self):
        """Heartbeat when due, and announce the walls whose count changed."""
        self._since_heartbeat += self.TICK
        dirty = set()
        try:
            if self._since_heartbeat >= self.heartbeat_every:
                with self._lock:
                    counts = dict(self._counts)
                    # A dead process's sockets leave the totals without
                    # any event here, so look at every wall now and then.
                    self._dirty.update(counts)
                self.store.heartbeat(self.process_id, counts, self.timeout)
                self._since_heartbeat = 0
            with self._lock:
                dirty, self._dirty = self._dirty, set()
            for wall in dirty:
                self.sync(wall)
        except redis.RedisError as exc:
            log.warning("presence: Redis unavailable (%s); retrying", exc)
            with self._lock:
                self._dirty.update(dirty)
                self._dirty.update(self._counts)
            self._since_heartbeat = self.heartbeat_every  # re-state once back

    def stop(self):
        """Remove this process's counts from Redis (the scheduler stops the ticks)."""
        with self._lock:
            walls = list(self._counts)
        try:
            self.store.forget_process(self.process_id, walls)
        except redis.RedisError:
            pass  # the timeout removes us anyway

    def _after_sync(self, wall, total, announce):
        with self._lock:
            if announce < 0:
                self._dirty.add(wall)  # another process announced just now
            else:
                self._dirty.discard(wall)
        if announce > 0:
            self.socketio.emit(
                protocol.ONLINE,
                {"wall": wall, "count": total},
                to=wall,
                namespace=protocol.NAMESPACE,
            )
