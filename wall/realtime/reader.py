"""The reader of one slot group: the task that follows the streams of the walls
watched here, with one blocking ``XREAD``.

On one Redis there is one group, so one reader follows every wall. On a
Redis Cluster one ``XREAD`` can only name keys of one hash slot, and every
wall's keys are in its group's slot (wall/storage/keys.py): a process has one
reader per group that has a watched wall, a handful at most.
"""

import logging
import time

import redis

log = logging.getLogger(__name__)

LOG_EVERY = 10.0  # seconds between two logs of the same unexpected error


class GroupReader:
    """Reads one group's walls and hands what it read to ``deliver``.

    :param group: the slot group.
    :param stream_reader: a :class:`wall.storage.streams.StreamReader` of that group.
    :param client: a Redis connection of its own, for the blocking read.
    :param round: ``(group, wake_position, block_ms) -> wake_position``: one
        read and its delivery (:meth:`wall.realtime.delivery.Delivery.poll`).
    """

    def __init__(
        self, group, stream_reader, client, round, spawn, block_ms, metrics, on_restart=None
    ):
        self.group = group
        self.stream_reader = stream_reader
        self.client = client
        self.round = round
        self.spawn = spawn
        self.block_ms = block_ms
        self.metrics = metrics
        self.on_restart = on_restart
        self.running = False
        self._alive = False  # the task is in _run
        self._task = None
        self._wake_position = None
        self._started_at = None
        #: time.monotonic() when it last completed a round (None: never)
        self.last_cycle = None
        #: times its task had ended or died and was started again
        self.restarts = 0
        #: a read failed: Redis may have come back without what it had (a
        #: failover, a restart on an AOF that missed its last second), so the
        #: positions are checked before the next delivery
        self.suspect = False

    def start(self):
        # Read before starting, so that a wake-up sent from now on (stop()
        # included) interrupts the first read.
        self._wake_position = self.stream_reader.last_wake()
        self.running = True
        self._start_task()

    def wake(self):
        """Interrupt the blocking read (a wall was added to it)."""
        self.stream_reader.wake()

    def stalled_for(self):
        """Seconds since its last round, if that is past twice its blocking read; else None."""
        if not self.running:
            return None
        since = time.monotonic() - (self.last_cycle or self._started_at)
        return since if since > 2 * self.block_ms / 1000 else None

    def watch(self):
        """Start the task again if it ended while it should run."""
        if self.running and not self._alive:
            log.warning(
                "delivery: the reader of group %d had stopped; starting it again", self.group
            )
            self.restarts += 1
            if self.on_restart is not None:
                self.on_restart()
            self._start_task()

    def stop(self):
        self.running = False
        if self._task is not None:
            try:
                self.stream_reader.wake()
            except redis.RedisError:
                pass
            self._task.join()
            self._task = None

    def _start_task(self):
        self._started_at = time.monotonic()
        self._alive = True
        self._task = self.spawn(self._run)

    def _run(self):
        failures = 0
        last_log = 0.0
        try:
            while self.running:
                try:
                    self._wake_position = self.round(self.group, self._wake_position, self.block_ms)
                    self.last_cycle = time.monotonic()
                    failures = 0
                except redis.RedisError as exc:
                    # Reconnect at once, then slowly while Redis stays away; the
                    # positions are kept, so nothing is skipped meanwhile.
                    failures += 1
                    self.suspect = True
                    self.metrics.redis_errors.labels("reader").inc()
                    if failures == 1 or failures % 50 == 0:
                        log.warning("delivery: Redis read failed (%s); retrying", exc)
                    time.sleep(0 if failures == 1 else 0.2)
                except Exception:
                    # A bug, not Redis: positions only move past what was
                    # delivered, so the next round retries from there.
                    now = time.monotonic()
                    if now - last_log >= LOG_EVERY:
                        last_log = now
                        log.exception("delivery: unexpected error; retrying")
                    time.sleep(0.5)
        finally:
            self._alive = False  # watch() starts it again if it should run
