"""The process's periodic jobs (presence heartbeats, the slow-session sweep).

Each job runs in a background task of its own, every ``interval`` seconds,
so a slow job never delays another. A job that raises is logged (once per
minute at most, with a count) and runs again at its next interval: no
single failure stops it. The tasks start with the first session (a
process nobody has reached has nothing to announce, sweep or flush) and stop
with the app.
"""

import logging
import threading
import time

import redis

log = logging.getLogger(__name__)

LOG_EVERY = 60.0


class Job:
    """A function run every ``interval`` seconds by the :class:`Scheduler`."""

    def __init__(self, name, interval, run):
        self.name = name
        self.interval = interval
        self.run = run
        #: time.monotonic() of the last run that returned, or None
        self.last_ok = None
        #: runs that raised, since the start
        self.failures = 0
        self._last_log = 0.0


class Scheduler:
    """:param socketio: the ``flask_socketio.SocketIO`` whose tasks run the jobs."""

    def __init__(self, socketio):
        self.socketio = socketio
        self.jobs = []
        self._stopping = threading.Event()
        self._tasks = []
        self._lock = threading.Lock()
        self._started = False

    def every(self, interval, name, run):
        """Run ``run()`` every ``interval`` seconds once started; return the :class:`Job`."""
        job = Job(name, interval, run)
        self.jobs.append(job)
        return job

    def start(self):
        """Start every job's task (idempotent; cheap enough to call per session)."""
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            self._started = True
            for job in self.jobs:
                self._tasks.append(self.socketio.start_background_task(self._loop, job))

    def stop(self):
        """Stop the tasks and wait for them."""
        self._stopping.set()
        for task in self._tasks:
            task.join()
        self._tasks = []

    def _loop(self, job):
        # threading.Event is green once app.py has monkey-patched
        while not self._stopping.wait(job.interval):
            try:
                job.run()
                job.last_ok = time.monotonic()
            except Exception as exc:
                job.failures += 1
                now = time.monotonic()
                if now - job._last_log >= LOG_EVERY:
                    job._last_log = now
                    if isinstance(exc, redis.RedisError):
                        # an outage or a failover, not a bug: one line, no traceback
                        log.warning(
                            "%s: Redis unavailable (%s; %d failures so far); "
                            "it runs again in %.0f s",
                            job.name,
                            exc,
                            job.failures,
                            job.interval,
                        )
                    else:
                        log.exception(
                            "%s failed (%d failures so far); it runs again in %.0f s",
                            job.name,
                            job.failures,
                            job.interval,
                        )
