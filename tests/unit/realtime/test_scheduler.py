"""The scheduler: jobs run at their interval, a failure never stops a job."""

import logging
import threading
import time

from wall.realtime import scheduler as scheduler_module
from wall.realtime.scheduler import Scheduler

from ...support.helpers import wait_for


class Tasks:
    """What the scheduler needs of Flask-SocketIO: background tasks (threads here)."""

    def start_background_task(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread


def test_jobs_run_repeatedly_once_started_and_stop_with_it():
    runs = []
    scheduler = Scheduler(Tasks())
    job = scheduler.every(0.02, "count", lambda: runs.append(time.monotonic()))
    time.sleep(0.1)
    assert runs == [], "a job ran before the start"
    scheduler.start()
    scheduler.start()  # idempotent: one task per job
    wait_for(lambda: len(runs) >= 3)
    assert job.last_ok is not None
    scheduler.stop()
    stopped = len(runs)
    time.sleep(0.1)
    assert len(runs) == stopped


def test_a_job_that_raises_runs_again_and_is_logged_once_a_minute(caplog, monkeypatch):
    monkeypatch.setattr(scheduler_module, "LOG_EVERY", 60.0)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) <= 3:
            raise RuntimeError("boom %d" % len(calls))

    scheduler = Scheduler(Tasks())
    job = scheduler.every(0.01, "flaky", flaky)
    with caplog.at_level(logging.ERROR, logger="wall.realtime.scheduler"):
        scheduler.start()
        wait_for(lambda: job.last_ok is not None, message="a run after the failures")
        scheduler.stop()
    assert job.failures == 3
    logged = [r for r in caplog.records if "flaky failed" in r.getMessage()]
    assert len(logged) == 1 and "boom 1" in logged[0].exc_text
