"""How each fault of the soak is done, on the processes deploy/launch.py started.

Each function takes the :class:`Rig` (Redis, the cluster, the client
processes) and the run's :class:`tests.reliability.schedule.Plan`, does its
fault with a timeout on every wait, and returns what happened (a dict for
the report). A step that fails raises :class:`FaultError`: the soak records
it and fails the run, since a process that does not come back is a finding.
"""

import os
import signal
import subprocess
import time

import psutil
import redis

from .schedule import BURST_FACTOR, PAUSE_S, REDIS_DOWN_S

APP_READY_S = 30.0  # an app process restarted on a busy 2-core machine
DRAIN_S = 20.0  # SIGTERM to exit: its drain takes 0.5 s plus open handlers (10 s at most)


class FaultError(RuntimeError):
    pass


class Rig:
    """What the faults act on. ``send(cmd)`` tells every client process."""

    def __init__(self, redis_process, cluster, send, log):
        self.redis = redis_process
        self.cluster = cluster
        self.send = send
        self.log = log
        self.worker_turn = 0

    def rdb(self):
        return redis.Redis(
            port=self.redis.port, socket_timeout=5, socket_connect_timeout=2, decode_responses=True
        )


def redis_kill(rig, plan):
    old = rig.redis.pid
    rig.redis.kill()  # SIGKILL, as a crash would
    time.sleep(REDIS_DOWN_S)
    started = time.monotonic()
    rig.redis.restart(timeout=30)  # same port, same --dir: the AOF is replayed
    aof = _aof_bytes(rig.redis.data_dir)
    return {
        "old_pid": old,
        "new_pid": rig.redis.pid,
        "down_s": REDIS_DOWN_S,
        "restart_s": round(time.monotonic() - started, 2),
        "aof_bytes": aof,
    }


def redis_pause(rig, plan):
    rig.redis.pause()
    try:
        time.sleep(PAUSE_S)
    finally:
        rig.redis.resume()
    return {"paused_s": PAUSE_S, "pid": rig.redis.pid}


def _client_kill(rig, kind):
    client = rig.rdb()
    try:
        before = [c for c in client.client_list() if _type_of(c) == kind]
        killed = client.client_kill_filter(_type=kind)
    finally:
        client.close()
    return {"type": kind, "killed": killed, "listed": len(before)}


def _type_of(entry):
    flags = entry.get("flags", "")
    return "pubsub" if "P" in flags else ("replica" if "S" in flags else "normal")


def kill_pubsub(rig, plan):
    return _client_kill(rig, "pubsub")


def kill_normal(rig, plan):
    return _client_kill(rig, "normal")


def worker_kill(rig, plan):
    apps = rig.cluster.apps
    app = apps[rig.worker_turn % len(apps)]
    rig.worker_turn += 1
    old = app.pid
    app.kill()  # SIGKILL and wait
    started = time.monotonic()
    new = restart_app(rig.cluster, app)
    return {
        "port": app.port,
        "old_pid": old,
        "new_pid": new.pid,
        "restart_s": round(time.monotonic() - started, 2),
    }


def rolling_restart(rig, plan):
    steps = []
    for app in list(rig.cluster.apps):
        old = app.pid
        started = time.monotonic()
        app.send_signal(signal.SIGTERM)
        try:
            code = app.process.wait(DRAIN_S)
            forced = False
        except subprocess.TimeoutExpired:
            app.process.kill()
            code = app.process.wait()
            forced = True
        drained = time.monotonic() - started
        new = restart_app(rig.cluster, app)
        step = {
            "port": app.port,
            "old_pid": old,
            "new_pid": new.pid,
            "exit_code": code,
            "drain_s": round(drained, 2),
            "forced_sigkill": forced,
            "ready_s": round(time.monotonic() - started - drained, 2),
        }
        steps.append(step)
        rig.log("  rolling: port %(port)d drained in %(drain_s)ss (exit %(exit_code)s)" % step)
        if forced or code != 0:
            raise FaultError(
                "app on port %d did not exit cleanly on SIGTERM (exit %s%s)"
                % (app.port, code, ", needed SIGKILL" if forced else ""),
                steps,
            )
    return {"steps": steps}


def restart_app(cluster, old):
    """A new app process on ``old``'s port, in its place in the cluster's list, ready."""
    index = cluster.apps.index(old)
    new = cluster.add_app(port=old.port)  # appended; put it where the old one was
    cluster.apps.remove(new)
    cluster.apps[index] = new
    try:
        new.wait_ready(APP_READY_S)
    except Exception as exc:
        raise FaultError("app on port %d did not come back: %s" % (old.port, exc))
    return new


def nginx_reload(rig, plan):
    nginx = rig.cluster.nginx
    before = _nginx_workers(nginx.pid)
    nginx.reload()
    deadline = time.monotonic() + 10
    after = before
    while time.monotonic() < deadline:
        after = _nginx_workers(nginx.pid)
        if set(after) - set(before):
            break
        time.sleep(0.1)
    else:
        raise FaultError("nginx started no new worker within 10 s of SIGHUP")
    return {"workers_before": before, "workers_after": after}


def _nginx_workers(pid):
    try:
        return sorted(c.pid for c in psutil.Process(pid).children())
    except psutil.Error:
        return []


def burst(rig, plan):
    rig.send({"cmd": "rate", "factor": BURST_FACTOR})
    try:
        time.sleep(plan.burst_s)
    finally:
        rig.send({"cmd": "rate", "factor": 1.0})
    return {"factor": BURST_FACTOR, "seconds": plan.burst_s}


def _aof_bytes(folder):
    total = 0
    for root, _, files in os.walk(folder):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files if ".aof" in f)
    return total


ACTIONS = {
    "redis-kill": redis_kill,
    "redis-pause": redis_pause,
    "kill-pubsub": kill_pubsub,
    "kill-normal": kill_normal,
    "worker-kill": worker_kill,
    "rolling-restart": rolling_restart,
    "nginx-reload": nginx_reload,
    "burst": burst,
}
