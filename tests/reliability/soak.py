"""make soak: hundreds of pages on three app processes behind nginx, and a fault every so often.

``python -m tests.reliability.soak`` (``SOAK_S=120 make soak`` for a short run):

1. Starts, with deploy/launch.py, a Redis of its own with AOF and
   ``appendfsync always`` (so that a SIGKILL loses nothing acknowledged),
   three eventlet app processes (WALL_ENV=production, rate limits on) and
   nginx from deploy/nginx.conf in front of them.
2. Starts the client processes (crowd.py): ``SOAK_CLIENTS`` pages (default
   510), a third on long-polling, one in five on two walls and one in twenty
   on three, each from its own 127.0.x.y address so that nginx's ``hash
   $remote_addr consistent`` spreads them; plus one canary page per app
   process, connected to it directly, on a wall of its own. Pages behave as
   static/js does (page.py): reconnect, re-join with ``after``, catch up,
   retry posts with their client_id.
3. Posts ``SOAK_RATE`` posts/s (default 5) over ``SOAK_WALLS`` walls
   (default 5) for ``SOAK_S`` seconds (default 1800), and runs the faults of
   schedule.py in their fixed order (faults.py), logging each.
4. Stops posting, lets every post be acknowledged, waits until every page
   holds the newest post of its walls, and checks: the streams against every
   post made (stored.py), what every page saw (views.py), memory and open
   files (resources.py).
5. Writes ``test-artifacts/soak/<timestamp>/``: result.json, report.md,
   soak.png, soak.log and every process's log; exits 1 if anything was lost,
   doubled or reordered or a bound was passed, 2 if the run itself broke
   (a process that would not start, the global deadline).

Every wait has a timeout, and the whole run a deadline (``SOAK_S`` + 330 s).
"""

import gzip
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from datetime import datetime

import psutil
import redis

from deploy.launch import ROOT, Cluster, RedisProcess, nginx_binary
from tests.support.servers import clean_environ
from wall.storage import keys

from . import faults, report, resources, schedule
from .stored import FAILURES as STORED_FAILURES
from .stored import check_stored
from .timeline import Timeline, merge_hist, percentile
from .views import Findings

PROGRESS_EVERY_S = 5.0
SAMPLE_EVERY_S = 2.0
READY_TIMEOUT_S = 150.0
DRAIN_TIMEOUT_S = 60.0  # every post acknowledged after the last fault
SYNC_TIMEOUT_S = 60.0  # every page holding the newest posts
DONE_TIMEOUT_S = 150.0
IDLE_AFTER_S = 10.0  # after the clients closed, before the last open-files count
DEADLINE_EXTRA_S = 330.0
CANARY_WALL = "soak-canary"


def _env_number(name, default, kind=float):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        sys.exit("%s must be a number, not %r" % (name, raw))


class Config:
    def __init__(self):
        self.soak_s = _env_number("SOAK_S", 1800.0)
        self.clients = _env_number("SOAK_CLIENTS", 510, int)
        self.crowds = max(1, _env_number("SOAK_CLIENT_PROCESSES", 2, int))
        self.rate = _env_number("SOAK_RATE", 5.0)
        self.walls = ["soak-%d" % (i + 1) for i in range(_env_number("SOAK_WALLS", 5, int))]
        self.apps = 3
        self.seed = _env_number("SOAK_SEED", 1, int)
        self.plan = schedule.plan(self.soak_s)

    def to_json(self):
        return {
            "soak_s": self.soak_s,
            "clients": self.clients,
            "client_processes": self.crowds,
            "rate": self.rate,
            "walls": self.walls,
            "apps": self.apps,
            "seed": self.seed,
            "plan": {
                "warmup_s": self.plan.warmup_s,
                "tail_s": self.plan.tail_s,
                "spacing_s": round(self.plan.spacing_s, 2),
                "burst_s": self.plan.burst_s,
                "faults": [
                    {"at": round(at, 2), "name": name, "what": self.plan.describe(name)}
                    for at, name in self.plan.starts
                ],
            },
        }


def client_specs(config, url):
    """Every page: name, transport, source address and walls."""
    specs = []
    walls = config.walls
    for i in range(config.clients):
        mine = [walls[i % len(walls)]]
        if i % 5 == 0 and len(walls) > 1:
            mine.append(walls[(i + 1) % len(walls)])
        if i % 20 == 0 and len(walls) > 2:
            mine.append(walls[(i + 2) % len(walls)])
        specs.append(
            {
                "name": "c%03d" % i,
                "url": url,
                "transport": "polling" if i % 3 == 2 else "websocket",
                "addr": "127.0.%d.%d" % (1 + i // 250, 1 + i % 250),
                "walls": mine,
            }
        )
    return specs


def _die_with_parent():
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class CrowdProcess:
    """One client process (crowd.py), its commands and its status lines."""

    def __init__(self, index, config_path, log_path):
        self.index = index
        self.log_path = log_path
        self.status = {}
        self.history = []  # (t, fewest pages connected in the second before, posts pending)
        self.events = queue.Queue()
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.crowd", config_path],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                preexec_fn=_die_with_parent,
            )
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def _read(self):
        for line in self.process.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "ready" in msg or "done" in msg:
                self.events.put(msg)
            else:
                self.status = msg
                self.history.append(
                    (msg["t"], msg.get("connected_min", msg["connected"]), msg["pending"])
                )
        self.events.put({"exited": self.process.wait()})

    def send(self, cmd):
        with self._lock:
            try:
                self.process.stdin.write((json.dumps(cmd) + "\n").encode())
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                pass

    def wait_event(self, key, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunError(
                    "client process %d: no %r within %.0f s" % (self.index, key, timeout)
                )
            try:
                msg = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if key in msg:
                return msg
            if "exited" in msg:
                raise RunError(
                    "client process %d exited (%s) waiting for %r; see %s"
                    % (self.index, msg["exited"], key, self.log_path)
                )

    def kill(self):
        if self.alive():
            self.process.kill()
            self.process.wait()


def _count(items):
    out = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def compress(path):
    """gzip a big log in place (nginx's access log: one line per polling request)."""
    if not os.path.exists(path):
        return
    with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.remove(path)


class RunError(RuntimeError):
    """The run itself broke (not a finding about the wall)."""


class Soak:
    def __init__(self, config):
        self.config = config
        self.epoch = time.time()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.dir = os.path.join(ROOT, "test-artifacts", "soak", stamp)
        os.makedirs(self.dir, exist_ok=True)
        self.logfile = open(os.path.join(self.dir, "soak.log"), "a")
        self.print_lock = threading.Lock()
        self.redis = None
        self.cluster = None
        self.crowds = []
        self.sampler = None
        self.phase = "start-up"
        self.fault_now = None  # (name, started at)
        self.faults_done = []
        self.soak_start = None
        self.soak_end = None
        self.baseline_fds = {}
        self.end_fds = {}
        self.stop_monitor = threading.Event()

        self.error = None

    # -- output --------------------------------------------------------------------

    def t(self):
        return time.time() - self.epoch

    def log(self, text):
        line = "[%7.1fs] %s" % (self.t(), text)
        with self.print_lock:
            print(line, flush=True)
            self.logfile.write(line + "\n")
            self.logfile.flush()

    # -- the run -------------------------------------------------------------------

    def main(self):
        watchdog = threading.Timer(self.config.soak_s + DEADLINE_EXTRA_S, self._deadline)
        watchdog.daemon = True
        watchdog.start()
        self.log("soak: %s" % self.dir)
        self.log(
            "soak: %d s, %d clients in %d processes, %g posts/s over %d walls, %d faults every %.1f s"
            % (
                self.config.soak_s,
                self.config.clients,
                self.config.crowds,
                self.config.rate,
                len(self.config.walls),
                len(self.config.plan.starts),
                self.config.plan.spacing_s,
            )
        )
        for at, name in self.config.plan.starts:
            self.log("  planned at +%6.1f s: %s" % (at, self.config.plan.describe(name)))
        code = 2
        try:
            self.start_servers()
            self.start_crowds()
            self.run_faults()
            results = self.finish()
            code = self.write_report(results)
        except BaseException as exc:  # KeyboardInterrupt too: report what we have
            self.error = "".join(traceback.format_exception(exc)).strip()
            self.log("soak: the run broke: %s" % exc)
            self.log(self.error)
            try:
                self.write_report(None)
            except Exception:
                self.log("soak: no report either:\n" + traceback.format_exc())
            code = 2
        finally:
            watchdog.cancel()
            self.stop_monitor.set()
            self.stop_everything()
            compress(os.path.join(self.dir, "cluster", "access.log"))
        return code

    def _deadline(self):
        self.log("soak: DEADLINE of %.0f s passed; killing everything" % self.t())
        with open(os.path.join(self.dir, "DEADLINE"), "w") as f:
            f.write("phase %s, fault %r\n" % (self.phase, self.fault_now))
        try:
            self.stop_everything(hard=True)
        finally:
            os._exit(2)

    def stop_everything(self, hard=False):
        for crowd in self.crowds:
            crowd.kill()
        if self.cluster is not None:
            if hard:
                for p in self.cluster.apps + [self.cluster.nginx]:
                    if p is not None and p.alive():
                        p.process.kill()
            else:
                try:
                    self.cluster.stop()
                except Exception:
                    self.log("soak: stopping the cluster: " + traceback.format_exc())
        if self.redis is not None:
            if hard:
                self.redis.process.kill()
            else:
                self.redis.stop()

    def start_servers(self):
        if nginx_binary() is None:
            raise RunError("nginx is not installed (apt-get install nginx)")
        self.redis = RedisProcess(
            os.path.join(self.dir, "redis"),
            fsync="always",
            prefer_system=True,
            args=["--maxclients", "10000"],
        )
        self.redis.start()
        self.log("redis: %s (pid %d, AOF appendfsync always)" % (self.redis.url, self.redis.pid))
        env = clean_environ()
        env.update(
            WALL_ENV="production",
            SECRET_KEY=secrets.token_hex(32),
            WALL_LOG_LEVEL="INFO",
        )
        self.cluster = Cluster(
            self.config.apps, os.path.join(self.dir, "cluster"), redis_url=self.redis.url, env=env
        )
        self.cluster.start()
        self.log(
            "cluster: nginx %s (pid %d) in front of %s"
            % (
                self.cluster.url,
                self.cluster.nginx.pid,
                ", ".join("%d (pid %d)" % (a.port, a.pid) for a in self.cluster.apps),
            )
        )
        self.sampler = resources.Sampler(self.targets, self.epoch)
        time.sleep(1.0)
        self.baseline_fds = {k: v["fds"] for k, v in self.sampler.sample().items()}
        threading.Thread(target=self.monitor, daemon=True).start()

    def targets(self):
        out = {}
        if self.cluster is not None:
            for app in list(self.cluster.apps):
                if app.process is not None and app.alive():
                    out["app:%d" % app.port] = app.pid
            nginx = self.cluster.nginx
            if nginx is not None and nginx.alive():
                pids = [nginx.pid] + faults._nginx_workers(nginx.pid)
                out["nginx"] = pids
        if self.redis is not None and self.redis.process is not None:
            if self.redis.process.poll() is None:
                out["redis"] = self.redis.pid
        for crowd in self.crowds:
            if crowd.alive():
                out["clients:%d" % crowd.index] = crowd.pid
        return out

    def start_crowds(self):
        self.phase = "connecting"
        specs = client_specs(self.config, self.cluster.url)
        n = self.config.crowds
        for index in range(n):
            mine = specs[index::n]
            config = {
                "index": index,
                "epoch": self.epoch,
                "prefix": "s%d" % index,
                "seed": self.config.seed * 100 + index,
                "redis_port": self.redis.port,
                "rate": self.config.rate * len(mine) / max(1, len(specs)),
                "clients": mine,
                "canaries": [
                    {
                        "name": "canary-%d" % app.port,
                        "url": app.url,
                        "transport": "websocket",
                        "walls": [CANARY_WALL],
                    }
                    for app in self.cluster.apps
                ]
                if index == 0
                else [],
                "connect_timeout": READY_TIMEOUT_S - 10,
            }
            path = os.path.join(self.dir, "clients-%d.json" % index)
            with open(path, "w") as f:
                json.dump(config, f)
            self.crowds.append(
                CrowdProcess(index, path, os.path.join(self.dir, "clients-%d.log" % index))
            )
        started = time.monotonic()
        for crowd in self.crowds:
            msg = crowd.wait_event("ready", READY_TIMEOUT_S - (time.monotonic() - started))
            self.log("clients %d: %d pages connected and joined" % (crowd.index, msg["clients"]))
        self.log("clients: all connected in %.1f s" % (time.monotonic() - started))

    def send(self, cmd):
        for crowd in self.crowds:
            crowd.send(cmd)

    def check_alive(self):
        for crowd in self.crowds:
            if not crowd.alive():
                raise RunError(
                    "client process %d died (%s); see %s"
                    % (crowd.index, crowd.process.returncode, crowd.log_path)
                )
        if not self.cluster.nginx.alive():
            self.log("soak: nginx is not running!")

    def sleep_until(self, when):
        while True:
            left = when - time.time()
            if left <= 0:
                return
            self.check_alive()
            time.sleep(min(left, 0.5))

    def run_faults(self):
        plan = self.config.plan
        rig = faults.Rig(self.redis, self.cluster, self.send, self.log)
        self.phase = "soak"
        self.soak_start = time.time()
        self.send({"cmd": "start"})
        self.log("soak: posting started")
        last_end = self.soak_start
        for number, (offset, name) in enumerate(plan.starts, 1):
            at = max(self.soak_start + offset, last_end + schedule.MIN_GAP_S)
            self.sleep_until(at)
            started = time.time()
            self.fault_now = (name, started)
            self.log("FAULT %d/%d %s: %s" % (number, len(plan.starts), name, plan.describe(name)))
            record = {
                "number": number,
                "name": name,
                "what": plan.describe(name),
                "planned_at": round(offset, 2),
                "start": round(started - self.epoch, 3),
            }
            try:
                record["details"] = faults.ACTIONS[name](rig, plan)
                record["ok"] = True
            except faults.FaultError as exc:
                record["ok"] = False
                record["error"] = str(exc.args[0])
                if len(exc.args) > 1:
                    record["details"] = exc.args[1]
                self.log("FAULT %s FAILED: %s" % (name, exc.args[0]))
            last_end = time.time()
            record["end"] = round(last_end - self.epoch, 3)
            self.faults_done.append(record)
            self.fault_now = None
            self.log(
                "FAULT %d %s done in %.1f s: %s"
                % (number, name, last_end - started, json.dumps(record.get("details"))[:300])
            )
        end = max(self.soak_start + self.config.soak_s, last_end + plan.tail_s)
        self.sleep_until(end)
        self.soak_end = time.time()

    def monitor(self):
        """Samples resources every 2 s and prints the progress every 5 s."""
        last_print = 0.0
        while not self.stop_monitor.wait(SAMPLE_EVERY_S):
            try:
                row = self.sampler.sample()
                if "redis" in row:
                    row["redis"]["clients"] = self.redis_clients()
            except Exception:
                pass

            if time.monotonic() - last_print >= PROGRESS_EVERY_S:
                last_print = time.monotonic()
                self.log(self.progress())

    def redis_clients(self):
        """Redis's connected_clients, or None when it does not answer within 0.5 s."""
        try:
            client = redis.Redis(
                port=self.redis.port, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            try:
                return client.info("clients")["connected_clients"]
            finally:
                client.close()
        except redis.RedisError:
            return None

    def save_client_list(self, name):
        """Redis's CLIENT LIST, by app process (who holds which connection), to a file."""
        try:
            client = redis.Redis(port=self.redis.port, socket_timeout=5, decode_responses=True)
            try:
                listed = client.client_list()
            finally:
                client.close()
        except redis.RedisError as exc:
            return {"error": str(exc)}
        owners = {}
        for app in self.cluster.apps:
            try:
                for conn in psutil.Process(app.pid).net_connections("tcp"):
                    if conn.raddr and conn.raddr.port == self.redis.port:
                        owners["%s:%d" % (conn.laddr.ip, conn.laddr.port)] = "app:%d" % app.port
            except psutil.Error:
                pass
        by_owner = {}
        with open(os.path.join(self.dir, name), "w") as f:
            for c in listed:
                owner = owners.get(c.get("addr"), "other")
                by_owner.setdefault(owner, []).append(c)
                f.write("%s %s\n" % (owner, " ".join("%s=%s" % kv for kv in c.items())))
        return {
            owner: {
                "connections": len(cs),
                "oldest_age_s": max(int(c.get("age", 0)) for c in cs),
                "idle_over_60s": sum(1 for c in cs if int(c.get("idle", 0)) > 60),
                "by_cmd": _count(c.get("cmd") for c in cs),
            }
            for owner, cs in sorted(by_owner.items())
        }

    def progress(self):
        statuses = [c.status for c in self.crowds if c.status]
        total = {
            k: sum(s.get(k, 0) for s in statuses)
            for k in ("clients", "connected", "created", "acked", "pending", "delivered")
        }
        total["reconnects"] = sum(s.get("reconnects", 0) for s in statuses)
        recent = {}
        for s in statuses:
            merge_hist(recent, s.get("recent_delivery", {}))
        p99 = percentile(recent, 0.99)
        if self.soak_start is None:
            clock = self.phase
        else:
            clock = "soak %.0f/%.0fs" % (
                (self.soak_end or time.time()) - self.soak_start,
                self.config.soak_s,
            )
        fault = "-"
        if self.fault_now is not None:
            fault = "%s (%.0f s)" % (self.fault_now[0], time.time() - self.fault_now[1])
        cpu = "/".join("%.0f%%" % s.get("cpu", 0) for s in statuses)
        return (
            "[%s] clients %d/%d up, %d reconnects | posts %d made, %d acked, %d pending | "
            "%d delivered, p99 %s | fault %s | client cpu %s"
            % (
                clock,
                total["connected"],
                total["clients"],
                total["reconnects"],
                total["created"],
                total["acked"],
                total["pending"],
                total["delivered"],
                "%.0f ms" % p99 if p99 is not None else "-",
                fault,
                cpu or "-",
            )
        )

    def finish(self):
        self.phase = "draining"
        self.send({"cmd": "quiet"})
        self.log("soak: posting stopped; waiting for every post to be acknowledged")
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        time.sleep(STATUS_GRACE_S)
        while time.monotonic() < deadline:
            self.check_alive()
            if all(c.status.get("pending", 1) == 0 for c in self.crowds):
                break
            time.sleep(0.5)
        pending = sum(c.status.get("pending", 0) for c in self.crowds)
        self.log("soak: %d posts still unacknowledged" % pending)
        self.phase = "checking"
        paths = [os.path.join(self.dir, "clients-%d.result.json" % c.index) for c in self.crowds]
        for crowd, path in zip(self.crowds, paths):
            crowd.send({"cmd": "finish", "timeout": SYNC_TIMEOUT_S, "result": path})
        started = time.monotonic()
        for crowd in self.crowds:
            crowd.wait_event("done", DONE_TIMEOUT_S - (time.monotonic() - started))
        results = []
        for path in paths:
            with open(path) as f:
                results.append(json.load(f))
        self.log(
            "soak: clients checked in %.1f s; waiting %g s for idle"
            % (time.monotonic() - started, IDLE_AFTER_S)
        )
        time.sleep(IDLE_AFTER_S)
        for crowd in self.crowds:
            crowd.process.wait(10)
        self.end_fds = {k: v["fds"] for k, v in self.sampler.sample().items()}
        self.redis_at_end = self.save_client_list("redis-clients-end.txt")
        return results

    # -- the verdict -----------------------------------------------------------------

    def stored_entries(self):
        client = redis.Redis(port=self.redis.port, decode_responses=True, socket_timeout=30)
        try:
            return {
                wall: client.xrange(keys.posts(wall)) for wall in self.config.walls + [CANARY_WALL]
            }
        finally:
            client.close()

    def write_report(self, results):
        summary = {"dir": self.dir, "config": self.config.to_json(), "faults": self.faults_done}
        summary["wall_time_s"] = round(self.t(), 1)
        summary["soak_window"] = [
            round(x - self.epoch, 2) if x else None for x in (self.soak_start, self.soak_end)
        ]
        summary["error"] = self.error
        failures = []
        if self.error:
            failures.append("the run broke: " + self.error.splitlines()[-1])
        for fault in self.faults_done:
            if not fault.get("ok"):
                failures.append("fault %s failed: %s" % (fault["name"], fault.get("error")))
        timeline = None
        if results is not None:
            ledger = {}
            for r in results:
                ledger.update(r["ledger"])
            entries = self.stored_entries()
            counts, samples = check_stored(entries, ledger, self.epoch)
            summary["stored"] = {"counts": counts, "samples": samples}
            for kind in STORED_FAILURES:
                if counts.get(kind):
                    failures.append("stored: %d %s" % (counts[kind], kind.replace("_", " ")))
            views = {}
            for r in results:
                for k, v in r["totals"].items():
                    views[k] = views.get(k, 0) + v
            summary["views"] = {
                "totals": views,
                "failures": [f for r in results for f in r["failures"]][:60],
            }
            for kind in Findings.KINDS + ("incomplete_at_end",):
                if views.get(kind):
                    failures.append("views: %d %s" % (views[kind], kind.replace("_", " ")))
            summary["clients"] = [row for r in results for row in r["clients"]]
            summary["crashes"] = [c for r in results for c in r["crashes"]]
            if summary["crashes"]:
                failures.append("client tasks crashed: %s" % summary["crashes"][:3])
            timeline = Timeline.merged(r["timeline"] for r in results)
            summary["client_status"] = [r["status"] for r in results]
        rows, resource_failures = resources.evaluate(
            self.sampler.samples if self.sampler else [],
            self.sampler.born if self.sampler else {},
            self.baseline_fds,
            self.end_fds,
            self.config.clients,
            self.config.apps,
            tuple(summary["soak_window"]) if self.soak_end else (0, 1e9),
        )
        summary["resources"] = rows
        at_end = summary["redis_clients_at_end"] = getattr(self, "redis_at_end", None)
        bound = resources.redis_connections_bound(self.config.clients, self.config.apps)
        for owner, info in (at_end or {}).items():
            if owner.startswith("app:") and info["connections"] > bound:
                failures.append(
                    "%s holds %d Redis connections at the end (bound %d)"
                    % (owner, info["connections"], bound)
                )
        failures += resource_failures
        summary["logs"] = report.scan_logs(os.path.join(self.dir, "cluster"))
        per_second = report.nginx_statuses(
            os.path.join(self.dir, "cluster", "access.log"), self.epoch
        )
        summary["nginx_per_second"] = per_second
        totals = {}
        for per in per_second.values():
            for status, n in per.items():
                totals[status] = totals.get(status, 0) + n
        summary["nginx_statuses"] = dict(sorted(totals.items()))
        report.recovery(
            self.faults_done,
            report.merge_history([c.history for c in self.crowds]),
            self.config.clients,
            summary["soak_window"][1],
            per_second,
        )
        summary["canaries"] = report.canary_silences(timeline, summary["soak_window"])
        summary["observations"] = report.observations(summary)
        summary["failures"] = failures
        summary["passed"] = not failures and results is not None
        report.write(self.dir, summary, timeline, self.sampler.samples if self.sampler else [])
        self.log("")
        for line in report.summary_lines(summary):
            self.log(line)
        self.log("report: %s" % os.path.join(self.dir, "report.md"))
        return 0 if summary["passed"] else 1


STATUS_GRACE_S = 1.5  # a status line reflects the quiet command


def main():
    config = Config()
    soak = Soak(config)

    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_term)
    sys.exit(soak.main())


if __name__ == "__main__":
    main()
