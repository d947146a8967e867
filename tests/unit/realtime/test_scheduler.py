"""The scheduler: jobs run at their interval, a failure never stops a job."""

import logging
import threading
import time

import redis

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


def test_a_job_that_meets_a_redis_outage_logs_one_line_without_a_traceback(caplog, monkeypatch):
    # A failover makes every Redis job fail for a few seconds: that is news,
    # not a bug, so a warning without the traceback.
    monkeypatch.setattr(scheduler_module, "LOG_EVERY", 60.0)
    calls = []

    def outage():
        calls.append(1)
        if len(calls) <= 2:
            raise redis.ConnectionError("Connection refused")

    scheduler = Scheduler(Tasks())
    job = scheduler.every(0.01, "likes flush", outage)
    with caplog.at_level(logging.WARNING, logger="wall.realtime.scheduler"):
        scheduler.start()
        wait_for(lambda: job.last_ok is not None, message="a run after the outage")
        scheduler.stop()
    logged = [r for r in caplog.records if r.getMessage().startswith("likes flush")]
    assert len(logged) == 1
    assert logged[0].levelno == logging.WARNING and logged[0].exc_info is None
    assert "Connection refused" in logged[0].getMessage()
