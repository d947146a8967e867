"""Online counts: sockets joined to a wall, across every live process.

Each process writes its own count per wall into Redis and heartbeats; a
process that stops heartbeating stops counting after ``timeout`` seconds.
Changes are announced with the ``online`` event at most once a second per
wall across all processes, so a reconnect storm of N sockets costs a handful
of messages instead of N².
"""

import logging
import threading

import redis

log = logging.getLogger(__name__)

NAMESPACE = "/wall"


class Presence:
    """This process's share of the online counts.

    :param socketio: the ``flask_socketio.SocketIO`` to announce with (through
                     the message queue, so every process's sockets hear it).
    :param store: a :class:`wall.store.WallStore`.
    :param process_id: this process's name in Redis.
    :param timeout: seconds without heartbeat after which a process is dead.
    """

    TICK = 1.0

    def __init__(self, socketio, store, process_id, timeout=30.0, every_tick=None):
        self.socketio = socketio
        #: called once a tick besides presence (the gate's slow-client check)
        self.every_tick = every_tick
        self.store = store
        self.process_id = process_id
        self.timeout = timeout
        self.heartbeat_every = max(timeout / 3, self.TICK)
        self._lock = threading.Lock()
        self._counts = {}  # wall -> sockets here
        self._dirty = set()
        self._running = False
        self._stopping = threading.Event()
        self._task = None

    def set_local(self, wall, count):
        """Record this process's socket count on ``wall``; announced on the next tick."""
        with self._lock:
            if count:
                self._counts[wall] = count
            else:
                self._counts.pop(wall, None)
            self._dirty.add(wall)
        self._ensure_running()

    def sync(self, wall):
        """Write this process's count for ``wall`` now; return the total online."""
        with self._lock:
            count = self._counts.get(wall, 0)
        total, announce = self.store.sync_presence(
            wall, self.process_id, count, self.timeout
        )
        self._after_sync(wall, total, announce)
        return total

    def stop(self):
        """Stop the ticker and remove this process's counts from Redis."""
        self._running = False
        self._stopping.set()
        if self._task is not None:
            self._task.join()
            self._task = None
        with self._lock:
            walls = list(self._counts)
        try:
            self.store.forget_process(self.process_id, walls)
        except redis.RedisError:
            pass  # the timeout removes us anyway

    def _ensure_running(self):
        with self._lock:
            if self._running:
                return
            self._running = True
        self._task = self.socketio.start_background_task(self._run)

    def _after_sync(self, wall, total, announce):
        with self._lock:
            if announce < 0:
                self._dirty.add(wall)  # another process announced just now
            else:
                self._dirty.discard(wall)
        if announce > 0:
            self.socketio.emit(
                "online", {"wall": wall, "count": total}, to=wall, namespace=NAMESPACE
            )

    def _run(self):
        since_heartbeat = self.heartbeat_every
        while self._running:
            # threading.Event is green once app.py has monkey-patched
            if self._stopping.wait(self.TICK):
                break
            since_heartbeat += self.TICK
            dirty = set()
            if self.every_tick is not None:
                try:
                    self.every_tick()
                except Exception:
                    log.exception("presence: tick hook failed")
            try:
                if since_heartbeat >= self.heartbeat_every:
                    with self._lock:
                        counts = dict(self._counts)
                        # A dead process's sockets leave the totals without
                        # any event here, so look at every wall now and then.
                        self._dirty.update(counts)
                    self.store.heartbeat(self.process_id, counts, self.timeout)
                    since_heartbeat = 0
                with self._lock:
                    dirty, self._dirty = self._dirty, set()
                for wall in dirty:
                    self.sync(wall)
            except redis.RedisError as exc:
                log.warning("presence: Redis unavailable (%s); retrying", exc)
                with self._lock:
                    self._dirty.update(dirty)
                    self._dirty.update(self._counts)
                since_heartbeat = self.heartbeat_every  # re-state once back
            except Exception:
                log.exception("presence: unexpected error")
