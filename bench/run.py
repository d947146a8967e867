#!/usr/bin/env python3
"""The wall benchmark: the wall and the Node.js Socket.IO peer, side by side.

    .venv/bin/python -m bench              # full run (about 25 minutes)
    QUICK=1 .venv/bin/python -m bench      # quick run (under 2 minutes)
    .venv/bin/python -m bench --only fanout,ingest --servers wall,node
    .venv/bin/python -m bench --only profile   # py-spy profile of the wall

Every scenario runs each server in turn (the order alternates from one
measurement to the next, so a noisy neighbour hurts both alike) against a
dedicated redis-server on a free port (no persistence: --save "" --appendonly
no). Writes bench/results/<timestamp>.json, .md and PNG plots, and prints the
table. See docs/performance.md.
"""

import argparse
import datetime
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
import traceback

if __package__ in (None, ""):  # run as bench/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

from bench import hist, infra, report  # noqa: E402
from bench.infra import BenchError  # noqa: E402

SCENARIOS = [
    "fanout",
    "ceiling",
    "ingest",
    "connections",
    "scaleout",
    "delivery",
    "deflate",
    "sharding",
    "storm",
    "speedpage",
]
QUICK_SCENARIOS = ["fanout", "ceiling", "ingest", "connections", "delivery", "storm"]

# Settings of a run; QUICK=1 picks the second column.
SETTINGS = {
    #                          full                 quick
    "fanout_sizes": ([100, 1000, 5000], [100, 1000]),
    "fanout_rate": (5.0, 5.0),
    "fanout_seconds": (10.0, 2.0),
    "warmup_seconds": (2.0, 1.0),
    "ceiling_subscribers": (1000, 1000),
    "ceiling_seconds": (6.0, 2.0),
    "ceiling_start": (1.0, 1.0),
    "ceiling_max": (1024.0, 64.0),
    "ceiling_bisect": (3, 0),
    "ceiling_min_posts": (10, 3),
    "ceiling_retry": (True, False),
    "ceiling_p99_ms": (100.0, 100.0),
    "ingest_clients": (50, 50),
    "ingest_seconds": (10.0, 2.0),
    "connection_steps": ([1000, 2000, 5000, 10000], [1000]),
    "scaleout_subscribers": (1000, 1000),
    "scaleout_seconds": (10.0, 3.0),
    "scaleout_ceiling": (True, False),
    "delivery_subscribers": (1000, 1000),
    "delivery_rate": (2.0, 2.0),
    "delivery_seconds": (10.0, 2.0),
    "delivery_repeats": (3, 1),
    "deflate_repeats": (2, 1),
    "profile_seconds": (20.0, 10.0),
    "sharding_walls": (120, 60),
    "sharding_seconds": (15.0, 5.0),
    "profile_rate": (5.0, 5.0),
    "storm_clients": (10000, 2000),
    "storm_procs": (2, 2),
    "storm_rate": (2.0, 2.0),
    "storm_jitter_ms": (1000, 1000),
    "storm_deadline_s": (10.0, 10.0),
    "ingest_limits": (True, False),
    "speedpage_rounds": (1000, 200),
    "speedpage_runs": (3, 1),
}

# Ingest with the rate limits on: every check the shipped limits make on a post
# (per socket, per client, per address, in Redis), with thresholds above what
# the benchmark's one address sends, so that every post is still acknowledged.
LIMITS_ON = {
    "WALL_RATE_LIMITS": "on",
    "WALL_RATE_LIMIT_SOCKET": "1000000/10 seconds",
    "WALL_RATE_LIMIT_CLIENT": "1000000/10 seconds",
    "WALL_RATE_LIMIT_IP": "100000000/minute",
}

# A server under test: (kind, extra environment).
CONTENDERS = {
    "wall": ("wall", {"WALL_ASYNC_MODE": "eventlet"}),
    "wall-gevent": ("wall", {"WALL_ASYNC_MODE": "gevent"}),
    # posts over pub/sub instead of the streams (bench/peers/wall_pubsub.py)
    "wall-pubsub": ("wall-pubsub", {"WALL_ASYNC_MODE": "eventlet"}),
    # the stock engine.io queue for every recipient (before wall/broadcast.py's direct writes)
    "wall-queue": ("wall", {"WALL_ASYNC_MODE": "eventlet", "WALL_DIRECT_WRITES": "off"}),
    "node": ("node", {}),
}

GEN_SATURATED_PCT = 90.0  # a generator process above this share of a core saturated
QUIET_CORE_PCT = 30.0  # a full run waits (a while) for other jobs to use less than this
MESSAGE_CHARS = 200  # each post's text: "<step>:<index>:<sent us> " padded to this


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def sub_workers_for(subscribers):
    if subscribers <= 200:
        return 1
    if subscribers <= 2000:
        return 2
    return 4


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.s = {k: v[1 if self.quick else 0] for k, v in SETTINGS.items()}
        if args.rate:
            self.s["fanout_rate"] = args.rate
        if args.sizes:
            self.s["fanout_sizes"] = [int(x) for x in args.sizes.split(",")]
        self.servers = args.servers
        self.stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.outdir = args.out
        os.makedirs(self.outdir, exist_ok=True)
        self.logdir = os.path.join(self.outdir, self.stamp + "-logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.records = []
        self.step_id = 0
        self.turn = 0  # alternation of the server order
        self.deflate = not args.no_deflate
        self.wall_dir = os.path.abspath(args.wall_dir)

    # -- plumbing ------------------------------------------------------------------

    def next_step(self):
        self.step_id += 1
        return self.step_id

    def order(self, names):
        """The servers in alternating order: A B, then B A, then A B..."""
        self.turn += 1
        return list(names) if self.turn % 2 else list(reversed(names))

    def start(self, contender, procs=1, extra_env=None):
        kind, env = CONTENDERS[contender]
        env = dict(env, **(extra_env or {}))
        self.redis.flush()
        return [
            infra.Server(
                kind,
                self.redis.url,
                self.logdir,
                env=env,
                name="%s-%d" % (contender, i),
                wall_dir=self.wall_dir,
            )
            for i in range(procs)
        ]

    def workers(self, n, prefix, deflate=None):
        deflate = self.deflate if deflate is None else deflate
        return [infra.Worker(self.logdir, "%s%d" % (prefix, i), deflate=deflate) for i in range(n)]

    def record(self, scenario, contender, params, result):
        rec = {
            "scenario": scenario,
            "server": contender,
            "params": params,
            **result,
            "at": time.time(),
        }
        self.records.append(rec)
        return rec

    # -- a fan-out session: servers, a poster, subscribers on one wall ---------------

    def open_fanout(self, contender, subscribers, procs=1, deflate=None):
        sess = {
            "contender": contender,
            "subscribers": subscribers,
            "procs": procs,
            "wall": "bench-%d" % self.next_step(),
        }
        sess["servers"] = self.start(contender, procs)
        try:
            sess["poster"] = self.workers(1, "poster-", deflate)[0]
            sess["subs"] = self.workers(sub_workers_for(subscribers), "sub-", deflate)
            post_url = sess["servers"][0].url
            r = sess["poster"].call("connect", urls=[post_url], n=2, role="poster", timeout=60)
            if r["failed"]:
                raise BenchError("poster could not connect: %s" % r["errors"])
            urls = [s.url for s in sess["servers"]]
            rss0 = sum(infra.proc_mem(s.pid)[0] or 0 for s in sess["servers"])
            n = len(sess["subs"])
            shares = [subscribers // n + (1 if i < subscribers % n else 0) for i in range(n)]
            t0 = time.monotonic()
            replies = infra.call_all(
                sess["subs"],
                "connect",
                timeout=600,
                args=[{"n": k} for k in shares],
                urls=urls,
                wall=sess["wall"],
                concurrency=50,
                timeout_ms=10000,
                max_failures=20,
            )
            sess["connect_seconds"] = time.monotonic() - t0
            ok = sum(r["ok"] for r in replies)
            sess["connected"] = ok
            time.sleep(0.5)
            rss1 = sum(infra.proc_mem(s.pid)[0] or 0 for s in sess["servers"])
            sess["kb_per_subscriber"] = (rss1 - rss0) / ok / 1024 if ok else None
            sess["connect_errors"] = _merge_counts(r["errors"] for r in replies)
        except BaseException:
            self.close_fanout(sess)
            raise
        return sess

    def close_fanout(self, sess):
        for w in sess.get("subs", []) + ([sess["poster"]] if "poster" in sess else []):
            try:
                w.call("close", timeout=30)
            except Exception:
                pass
            w.stop()
        for s in sess.get("servers", []):
            s.stop()

    def fanout_step(self, sess, rate, seconds, drain_s=None):
        """Post at ``rate`` for ``seconds``; wait for every delivery; measure."""
        step = self.next_step()
        servers = sess["servers"]
        usage = infra.Usage(
            {
                "server": [s.pid for s in servers],
                "redis": [self.redis.pid],
                "generator": [w.pid for w in sess["subs"]],
                "poster": [sess["poster"].pid],
            }
        )
        t0_us = time.monotonic_ns() // 1000
        posted = sess["poster"].call(
            "post",
            timeout=seconds + 120,
            url=servers[0].url,
            wall=sess["wall"],
            rate=rate,
            duration_s=seconds,
            step=step,
            pad=MESSAGE_CHARS,
        )
        drain_ms = 1000 * (drain_s if drain_s is not None else max(10.0, 3 * seconds))
        drains = infra.call_all(
            sess["subs"],
            "drain",
            timeout=drain_ms / 1000 + 60,
            step=step,
            expected=posted["acked"],
            timeout_ms=drain_ms,
        )
        use = usage.stop()
        h = hist.merge(d["hist"] for d in drains)
        lat = hist.summary(h)
        unique = sum(d["unique"] for d in drains)
        expected = posted["acked"] * sess["connected"]
        last_us = max((d["last_us"] for d in drains if d["last_us"]), default=t0_us)
        window = max(1e-6, (last_us - t0_us) / 1e6)
        srv = use["groups"]["server"]
        gen_max = max(
            use["groups"]["generator"]["max_core_pct"], use["groups"]["poster"]["max_core_pct"]
        )
        flags = []
        if gen_max > GEN_SATURATED_PCT:
            flags.append("generator saturated (%.0f%% of a core)" % gen_max)
        lost = sum(d["lost"] for d in drains)
        dups = sum(d["dups"] for d in drains)
        order = sum(d["order_violations"] for d in drains)
        dropped = _merge_counts(d["dropped"] for d in drains)
        if lost:
            flags.append("%d deliveries missing after %.0f s" % (lost, drain_ms / 1000))
        if dups or order:
            flags.append("%d duplicates, %d out of order" % (dups, order))
        if posted["errors"]:
            flags.append("%d posts refused: %s" % (posted["errors"], posted["error_kinds"]))
        if dropped:
            flags.append("connections dropped: %s" % dropped)
        achieved = posted["sent"] / posted["send_seconds"] if posted.get("send_seconds") else rate
        if posted["sent"] > 1 and achieved < 0.95 * rate:
            flags.append("poster fell behind (%.1f of %.1f posts/s)" % (achieved, rate))
        return {
            "step": step,
            "rate": rate,
            "kb_per_subscriber": sess.get("kb_per_subscriber"),
            "seconds": seconds,
            "latency_ms": lat,
            "hist": hist.compact(h),
            "posts": {
                "sent": posted["sent"],
                "acked": posted["acked"],
                "errors": posted["errors"],
                "achieved_rate": achieved,
                "ack_ms": hist.summary(posted["ack"]),
                "lag_max_ms": posted["lag_max_ms"],
            },
            "deliveries": {
                "expected": expected,
                "unique": unique,
                "lost": lost,
                "dups": dups,
                "order_violations": order,
                "dropped": dropped,
            },
            "delivered_per_s": unique / window,
            "cpu": _cpu(use, unique),
            "server_rss": srv["rss"],
            "server_rss_peak": sum(p["rss_peak"] or 0 for p in srv["procs"]),
            "machine": {
                "others_core_pct": use["others_core_pct"],
                "busy_pct": use["machine_busy_pct"],
            },
            "flags": flags,
            "passed": None,
        }

    # -- scenarios ---------------------------------------------------------------------

    def scenario_fanout(self):
        rate = self.s["fanout_rate"]
        for size in self.s["fanout_sizes"]:
            for contender in self.order(self.servers):
                log(
                    "fanout S=%d %s: %.1f posts/s for %.0f s"
                    % (size, contender, rate, self.s["fanout_seconds"])
                )
                params = {"subscribers": size, "rate": rate}
                sess = self.open_fanout(contender, size)
                try:
                    if sess["connected"] < size:
                        rec = self.record("fanout", contender, params, _no_connect(sess, size))
                    else:
                        self.fanout_step(sess, rate, self.s["warmup_seconds"])
                        res = self.fanout_step(sess, rate, self.s["fanout_seconds"])
                        res["connect_seconds"] = sess["connect_seconds"]
                        rec = self.record("fanout", contender, params, res)
                finally:
                    self.close_fanout(sess)
                log("   ", report.one_line(rec))

    def _ceiling_search(self, contender, subscribers, procs, scenario):
        """Highest post rate with p99 under the bound and nothing lost."""
        bound = self.s["ceiling_p99_ms"]
        seconds = self.s["ceiling_seconds"]
        steps = []
        sess = self.open_fanout(contender, subscribers, procs)
        params = {"subscribers": subscribers, "procs": procs, "p99_bound_ms": bound}
        try:
            if sess["connected"] < subscribers:
                return self.record(scenario, contender, params, _no_connect(sess, subscribers))
            self.fanout_step(sess, self.s["ceiling_start"], self.s["warmup_seconds"])

            def trial(rate, again=True):
                nonlocal sess
                # at least a few posts, so that one post is not the whole tail
                length = max(seconds, self.s["ceiling_min_posts"] / rate)
                res = self.fanout_step(sess, rate, length, drain_s=max(5.0, 2 * length))
                lat = res["latency_ms"]
                serious = [f for f in res["flags"] if not f.startswith("generator saturated")]
                ok = lat["p99"] is not None and lat["p99"] < bound and not serious
                res["passed"] = ok
                steps.append(res)
                log(
                    "    %-8s %7.2f posts/s: p99 %s ms %s%s"
                    % (
                        contender,
                        rate,
                        _fmt(lat["p99"]),
                        "pass" if ok else "FAIL",
                        (" [" + "; ".join(res["flags"]) + "]") if res["flags"] else "",
                    )
                )
                if res["deliveries"]["lost"]:
                    # a backlog is still flowing: start afresh for the next trial
                    self.close_fanout(sess)
                    sess = self.open_fanout(contender, subscribers, procs)
                    self.fanout_step(sess, self.s["ceiling_start"], self.s["warmup_seconds"])
                elif not ok and again and not serious and self.s["ceiling_retry"]:
                    # Only the latency bound failed: a noisy neighbour can do
                    # that to one trial, so the rate gets a second chance.
                    return trial(rate, again=False)
                return ok

            good, bad = None, None
            rate = self.s["ceiling_start"]
            if trial(rate):
                good = rate
                while rate * 2 <= self.s["ceiling_max"]:
                    rate *= 2
                    if trial(rate):
                        good = rate
                    else:
                        bad = rate
                        break
            else:
                # Below the start rate every post is fanned out alone: if half
                # the rate fails too, a single post is already over the bound.
                bad = rate
                if trial(rate / 2):
                    good = rate / 2
                else:
                    bad = rate / 2
            if good is not None and bad is not None:
                for _ in range(self.s["ceiling_bisect"]):
                    mid = _round2(math.sqrt(good * bad))
                    if mid <= good or mid >= bad:
                        break
                    if trial(mid):
                        good = mid
                    else:
                        bad = mid
            best = max((s for s in steps if s["passed"]), key=lambda s: s["rate"], default=None)
            res = {
                "ceiling_rate": good or 0.0,
                "first_failing_rate": bad,
                "steps": steps,
                "at_ceiling": best,
                "flags": sorted({f for s in steps if s["passed"] for f in s["flags"]}),
            }
            return self.record(scenario, contender, params, res)
        finally:
            self.close_fanout(sess)

    def scenario_ceiling(self):
        for contender in self.order(self.servers):
            log("ceiling S=%d %s" % (self.s["ceiling_subscribers"], contender))
            rec = self._ceiling_search(contender, self.s["ceiling_subscribers"], 1, "ceiling")
            log("   ", report.one_line(rec))

    def scenario_ingest(self):
        clients = self.s["ingest_clients"]
        seconds = self.s["ingest_seconds"]
        runs = [(c, "off") for c in self.servers]
        if self.s["ingest_limits"]:
            runs += [(c, "on") for c in self.servers if CONTENDERS[c][0] == "wall"]
        for contender, limits in self.order(runs):
            log(
                "ingest %s: %d posting clients for %.0f s, rate limits %s"
                % (contender, clients, seconds, limits)
            )
            servers = self.start(contender, extra_env=LIMITS_ON if limits == "on" else None)
            posters = self.workers(2, "ingest-")
            try:
                shares = [clients // 2 + clients % 2, clients // 2]
                replies = infra.call_all(
                    posters,
                    "connect",
                    timeout=120,
                    args=[{"n": k} for k in shares],
                    urls=[servers[0].url],
                    role="poster",
                    concurrency=25,
                )
                if sum(r["failed"] for r in replies):
                    raise BenchError("ingest posters could not connect: %s" % replies)
                wall = "ingest-%d" % self.next_step()
                infra.call_all(
                    posters,
                    "ingest",
                    timeout=120,
                    url=servers[0].url,
                    wall=wall,
                    duration_s=self.s["warmup_seconds"],
                    step=0,
                )
                usage = infra.Usage(
                    {
                        "server": [servers[0].pid],
                        "redis": [self.redis.pid],
                        "generator": [w.pid for w in posters],
                    }
                )
                replies = infra.call_all(
                    posters,
                    "ingest",
                    timeout=seconds + 120,
                    url=servers[0].url,
                    wall=wall,
                    duration_s=seconds,
                    step=self.next_step(),
                    pad=MESSAGE_CHARS,
                )
                use = usage.stop()
                acked = sum(r["acked_in_window"] for r in replies)
                errors = sum(r["errors"] for r in replies)
                ack = hist.merge(r["ack"] for r in replies)
                gen_max = use["groups"]["generator"]["max_core_pct"]
                flags = []
                if gen_max > GEN_SATURATED_PCT:
                    flags.append("generator saturated (%.0f%% of a core)" % gen_max)
                if errors:
                    flags.append(
                        "%d posts refused: %s"
                        % (errors, _merge_counts(r["error_kinds"] for r in replies))
                    )
                res = {
                    "posts_per_s": acked / seconds,
                    "acked": acked,
                    "errors": errors,
                    "ack_ms": hist.summary(ack),
                    "hist": hist.compact(ack),
                    "cpu": _cpu(use, acked, per="post"),
                    "server_rss": use["groups"]["server"]["rss"],
                    "machine": {
                        "others_core_pct": use["others_core_pct"],
                        "busy_pct": use["machine_busy_pct"],
                    },
                    "flags": flags,
                }
                params = {"clients": clients, "seconds": seconds}
                if limits == "on":
                    params["rate_limits"] = "on"
                rec = self.record("ingest", contender, params, res)
            finally:
                for w in posters:
                    w.stop()
                for s in servers:
                    s.stop()
            log("   ", report.one_line(rec))

    def scenario_connections(self):
        targets = self.s["connection_steps"]
        for contender in self.order(self.servers):
            log("connections %s: up to %d idle sockets" % (contender, targets[-1]))
            servers = self.start(contender)
            server = servers[0]
            gens = self.workers(4 if targets[-1] > 2000 else 2, "idle-")
            wall = "idle-%d" % self.next_step()
            points = []
            try:
                time.sleep(1.0)
                base_rss = infra.proc_mem(server.pid)[0]
                held = 0
                flags = []
                for target in targets:
                    add = target - held
                    n = len(gens)
                    shares = [add // n + (1 if i < add % n else 0) for i in range(n)]
                    t0 = time.monotonic()
                    usage = infra.Usage(
                        {"server": [server.pid], "generator": [w.pid for w in gens]}
                    )
                    replies = infra.call_all(
                        gens,
                        "connect",
                        timeout=900,
                        args=[{"n": k} for k in shares],
                        urls=[server.url],
                        wall=wall,
                        concurrency=25,
                        timeout_ms=30000,
                        max_failures=20,
                    )
                    took = time.monotonic() - t0
                    time.sleep(2.0)  # let memory settle
                    use = usage.stop()
                    ok = sum(r["ok"] for r in replies)
                    failed = sum(r["failed"] for r in replies)
                    held += ok
                    stats = infra.call_all(gens, "stats", step=-1)
                    dropped = _merge_counts(s["dropped"] for s in stats)
                    alive = held - sum(dropped.values())
                    rss = infra.proc_mem(server.pid)[0]
                    point = {
                        "target": target,
                        "held": alive,
                        "failed": failed,
                        "errors": _merge_counts(r["errors"] for r in replies),
                        "dropped": dropped,
                        "connect_seconds": took,
                        "connects_per_s": ok / took if took else None,
                        "server_rss": rss,
                        "server_alive": server.alive(),
                        "server_cpu_s": use["groups"]["server"]["cpu_s"],
                        "generator_max_core_pct": use["groups"]["generator"]["max_core_pct"],
                        "others_core_pct": use["others_core_pct"],
                    }
                    points.append(point)
                    log(
                        "    %-8s target %5d: held %5d, failed %d %s, RSS %.0f MB"
                        % (contender, target, alive, failed, point["errors"] or "", rss / 2**20)
                    )
                    if failed or dropped or not server.alive():
                        flags.append(
                            "stopped at %d: %d failed (%s)%s"
                            % (
                                target,
                                failed,
                                point["errors"],
                                ", dropped %s" % dropped if dropped else "",
                            )
                        )
                        break
                best = max(points, key=lambda p: p["held"])
                full = [p for p in points if not p["failed"]]
                top = full[-1] if full else best
                res = {
                    "held": best["held"],
                    "base_rss": base_rss,
                    "points": points,
                    "kb_per_connection": (
                        (top["server_rss"] - base_rss) / top["held"] / 1024 if top["held"] else None
                    ),
                    "kb_per_connection_marginal": _slope_kb(full) if len(full) > 1 else None,
                    "flags": flags,
                }
                rec = self.record("connections", contender, {"targets": targets}, res)
            finally:
                _stop(gens, servers)
            log("   ", report.one_line(rec))

    def scenario_storm(self):
        """Issue 18's reconnect storm: N clients on two processes drop their
        sockets at once and re-join (with ``after``) within a second's jitter
        while posts keep coming; how long until all are joined again, the
        ``online`` events each got, and every post held once by every client."""
        n = self.s["storm_clients"]
        procs = self.s["storm_procs"]
        rate = self.s["storm_rate"]
        deadline = self.s["storm_deadline_s"]
        for contender in self.order(self.servers):
            log("storm %s: %d clients on %d processes re-join at once" % (contender, n, procs))
            params = {"clients": n, "procs": procs, "rate": rate}
            servers = self.start(contender, procs)
            urls = [s.url for s in servers]
            poster = self.workers(1, "storm-poster-")[0]
            gens = self.workers(4, "storm-")
            wall = "storm-%d" % self.next_step()
            try:
                r = poster.call("connect", urls=[urls[0]], n=1, role="poster", timeout=60)
                if r["failed"]:
                    raise BenchError("storm poster could not connect: %s" % r["errors"])
                replies = infra.call_all(
                    gens,
                    "connect",
                    timeout=900,
                    args=[{"n": k} for k in _shares(n, len(gens))],
                    urls=urls,
                    wall=wall,
                    concurrency=25,
                    timeout_ms=30000,
                    max_failures=20,
                )
                held = sum(r["ok"] for r in replies)
                if held < n:
                    sess = {
                        "connected": held,
                        "connect_errors": _merge_counts(r["errors"] for r in replies),
                    }
                    rec = self.record("storm", contender, params, _no_connect(sess, n))
                    log("   ", report.one_line(rec))
                    continue
                time.sleep(2.0)
                infra.call_all(gens, "online")  # counts start at the storm
                step = self.next_step()
                # posts from 2 s before the storm until well after its deadline
                post_s = 2.0 + deadline + 6.0
                cid = poster.send(
                    "post",
                    url=urls[0],
                    wall=wall,
                    rate=rate,
                    duration_s=post_s,
                    step=step,
                    pad=MESSAGE_CHARS,
                )
                time.sleep(2.0)
                usage = infra.Usage(
                    {"server": [s.pid for s in servers], "generator": [w.pid for w in gens]}
                )
                storms = infra.call_all(
                    gens,
                    "storm",
                    timeout=300,
                    urls=urls,
                    wall=wall,
                    jitter_ms=self.s["storm_jitter_ms"],
                    timeout_ms=30000,
                )
                use = usage.stop()
                posted = poster.wait(cid, post_s + 120)
                drains = infra.call_all(
                    gens,
                    "drain",
                    timeout=90,
                    step=step,
                    expected=posted["acked"],
                    timeout_ms=30000,
                )
                online = infra.call_all(gens, "online")
                res = _storm_result(storms, drains, online, posted, use, deadline, n)
                res["alive"] = all(s.alive() for s in servers)
                rec = self.record("storm", contender, params, res)
            finally:
                _stop(gens + [poster], servers)
            log("   ", report.one_line(rec))

    def scenario_speedpage(self):
        """The /speed page in headless Chromium, as a visitor runs it (bench/speedpage.py).

        With the shipped configuration (rate limits on), not the bench's:
        the page is what a newcomer tries first. Node's peer has no such page.
        """
        from bench import speedpage

        rounds, runs = self.s["speedpage_rounds"], self.s["speedpage_runs"]
        for contender in self.order([c for c in self.servers if CONTENDERS[c][0] == "wall"]):
            log("speedpage %s: %d runs of %d round trips per method" % (contender, runs, rounds))
            servers = self.start(contender, extra_env={"WALL_RATE_LIMITS": "on"})
            try:
                res = speedpage.run_one(servers[0].url, rounds, runs)
                res["alive"] = servers[0].alive()
            finally:
                _stop([], servers)
            rec = self.record("speedpage", contender, {"rounds": rounds, "runs": runs}, res)
            log("   ", report.one_line(rec))

    def scenario_scaleout(self):
        size = self.s["scaleout_subscribers"]
        rate = self.s["fanout_rate"]
        combos = [(c, p) for c in self.servers for p in (1, 2)]
        for contender, procs in self.order(combos):
            log("scaleout %s x%d: S=%d at %.1f posts/s" % (contender, procs, size, rate))
            params = {"subscribers": size, "procs": procs, "rate": rate}
            sess = self.open_fanout(contender, size, procs)
            try:
                if sess["connected"] < size:
                    rec = self.record("scaleout", contender, params, _no_connect(sess, size))
                else:
                    self.fanout_step(sess, rate, self.s["warmup_seconds"])
                    res = self.fanout_step(sess, rate, self.s["scaleout_seconds"])
                    rec = self.record("scaleout", contender, params, res)
            finally:
                self.close_fanout(sess)
            log("   ", report.one_line(rec))
            if self.s["scaleout_ceiling"]:
                log("scaleout ceiling %s x%d" % (contender, procs))
                rec = self._ceiling_search(contender, size, procs, "scaleout-ceiling")
                log("   ", report.one_line(rec))

    def scenario_delivery(self):
        """The wall's stream delivery against the pub/sub contender (issue 8's cost)."""
        size = self.s["delivery_subscribers"]
        rate = self.s["delivery_rate"]
        for rep in range(self.s["delivery_repeats"]):
            for contender in self.order(["wall", "wall-pubsub"]):
                log(
                    "delivery %s (%d/%d): S=%d at %.1f posts/s"
                    % (contender, rep + 1, self.s["delivery_repeats"], size, rate)
                )
                params = {
                    "subscribers": size,
                    "rate": rate,
                    "repeat": rep,
                    "delivery": "pubsub" if contender.endswith("pubsub") else "stream",
                }
                sess = self.open_fanout(contender, size)
                try:
                    if sess["connected"] < size:
                        rec = self.record("delivery", contender, params, _no_connect(sess, size))
                    else:
                        self.fanout_step(sess, rate, self.s["warmup_seconds"])
                        res = self.fanout_step(sess, rate, self.s["delivery_seconds"])
                        rec = self.record("delivery", contender, params, res)
                finally:
                    self.close_fanout(sess)
                log("   ", report.one_line(rec))

    def scenario_sharding(self):
        """Many walls on one Redis against a three-master cluster (bench/sharding.py)."""
        from bench import sharding

        for topology in self.order(["single", "cluster"]):
            log("sharding: %d walls on %s" % (self.s["sharding_walls"], topology))
            res = sharding.run_one(
                topology,
                os.path.join(self.logdir, "sharding-" + topology),
                walls=self.s["sharding_walls"],
                seconds=self.s["sharding_seconds"],
            )
            self.record("sharding", "wall", {"topology": topology}, res)
            log(
                "    %.0f posts/s, %.0f deliveries/s, Redis CPU %s"
                % (res["posts_per_s"], res["deliveries_per_s"], res["redis_cpu_pct"])
            )

    def scenario_deflate(self):
        """The wall when clients offer permessage-deflate (browsers do) and when not."""
        size = self.s["delivery_subscribers"]
        rate = self.s["delivery_rate"]
        for rep in range(self.s["deflate_repeats"]):
            for offer in self.order([True, False]):
                log(
                    "deflate offered=%s (%d/%d): wall, S=%d at %.1f posts/s"
                    % (offer, rep + 1, self.s["deflate_repeats"], size, rate)
                )
                params = {"subscribers": size, "rate": rate, "repeat": rep, "client_deflate": offer}
                sess = self.open_fanout("wall", size, deflate=offer)
                try:
                    if sess["connected"] < size:
                        rec = self.record("deflate", "wall", params, _no_connect(sess, size))
                    else:
                        self.fanout_step(sess, rate, self.s["warmup_seconds"])
                        res = self.fanout_step(sess, rate, self.s["delivery_seconds"])
                        rec = self.record("deflate", "wall", params, res)
                finally:
                    self.close_fanout(sess)
                log("   ", report.one_line(rec))

    def scenario_profile(self):
        """py-spy on each wall contender (``--servers``) while it fans out to 1,000
        subscribers, at ``--rate`` posts/s if given."""
        from bench import profile

        size = self.s["ceiling_subscribers"]
        rate = self.args.rate or self.s["profile_rate"]
        seconds = self.s["profile_seconds"]
        for contender in [c for c in self.order(self.servers) if CONTENDERS[c][0] == "wall"]:
            log(
                "profile %s: S=%d at %.1f posts/s for %.0f s under py-spy"
                % (contender, size, rate, seconds)
            )
            suffix = "" if contender == "wall" else "-" + contender
            sess = self.open_fanout(contender, size)
            try:
                self.fanout_step(sess, rate, self.s["warmup_seconds"])
                spy = profile.start(
                    sess["servers"][0].pid,
                    seconds + 1,
                    os.path.join(self.outdir, self.stamp + "-profile" + suffix),
                )
                res = self.fanout_step(sess, rate, seconds)
                res["profile"] = profile.finish(spy)
                rec = self.record("profile", contender, {"subscribers": size, "rate": rate}, res)
            finally:
                self.close_fanout(sess)
            log("   ", report.one_line(rec))

    def wait_quiet(self, max_wait, threshold=QUIET_CORE_PCT, window=5.0):
        """Wait (up to ``max_wait`` s) until other jobs use less than ``threshold``% of a core."""
        if max_wait <= 0:
            return 0.0
        t0 = time.monotonic()
        while True:
            busy0, total0 = infra.machine_cpu()
            time.sleep(window)
            busy1, total1 = infra.machine_cpu()
            ncpu = os.cpu_count() or 1
            pct = 100 * (busy1 - busy0) / ((total1 - total0) / ncpu) if total1 > total0 else 0
            waited = time.monotonic() - t0
            if pct < threshold:
                log("machine quiet enough (%.0f%% of a core busy); starting" % pct)
                return waited
            if waited >= max_wait:
                log(
                    "machine still busy (%.0f%% of a core) after %.0f s; starting anyway"
                    % (pct, waited)
                )
                return waited
            log("machine busy (%.0f%% of a core used by other jobs); waiting" % pct)

    def scenario_profile_ingest(self):
        """py-spy on the wall while 50 clients post as fast as it acknowledges."""
        from bench import profile

        clients = self.s["ingest_clients"]
        seconds = self.s["profile_seconds"]
        log("profile wall: ingest, %d posting clients for %.0f s under py-spy" % (clients, seconds))
        servers = self.start("wall")
        posters = self.workers(2, "ingest-")
        try:
            shares = [clients // 2 + clients % 2, clients // 2]
            infra.call_all(
                posters,
                "connect",
                timeout=120,
                args=[{"n": k} for k in shares],
                urls=[servers[0].url],
                role="poster",
                concurrency=25,
            )
            wall = "ingest-%d" % self.next_step()
            infra.call_all(
                posters,
                "ingest",
                timeout=120,
                url=servers[0].url,
                wall=wall,
                duration_s=self.s["warmup_seconds"],
                step=0,
            )
            spy = profile.start(
                servers[0].pid,
                seconds + 1,
                os.path.join(self.outdir, self.stamp + "-profile-ingest"),
            )
            replies = infra.call_all(
                posters,
                "ingest",
                timeout=seconds + 120,
                url=servers[0].url,
                wall=wall,
                duration_s=seconds,
                step=self.next_step(),
                pad=MESSAGE_CHARS,
            )
            acked = sum(r["acked_in_window"] for r in replies)
            res = {
                "posts_per_s": acked / seconds,
                "acked": acked,
                "errors": sum(r["errors"] for r in replies),
                "ack_ms": hist.summary(hist.merge(r["ack"] for r in replies)),
                "profile": profile.finish(spy),
                "flags": [],
            }
            rec = self.record("profile-ingest", "wall", {"clients": clients}, res)
        finally:
            for w in posters:
                w.stop()
            for s in servers:
                s.stop()
        log("    profile-ingest wall: %s acked posts/s under py-spy" % _fmt(rec["posts_per_s"]))

    # -- the run ---------------------------------------------------------------------------

    def run(self, only):
        started = time.time()
        limit = infra.raise_fd_limit()
        infra.npm_install(infra.NODE_PEER, log)
        infra.npm_install(infra.LOADGEN, log)
        waited = self.wait_quiet(
            self.args.wait_quiet if self.args.wait_quiet is not None else (0 if self.quick else 600)
        )
        self.redis = infra.Redis(self.logdir)
        meta = machine_info(self, limit)
        meta["waited_for_quiet_s"] = waited
        log(
            "wall benchmark (%s): servers %s, scenarios %s; Redis %s %s on port %d"
            % (
                "quick" if self.quick else "full",
                ",".join(self.servers),
                ",".join(only),
                self.redis.version,
                self.redis.binary,
                self.redis.port,
            )
        )
        errors = []
        try:
            for name in only:
                try:
                    getattr(self, "scenario_" + name)()
                except BenchError as exc:
                    log("scenario %s failed: %s" % (name, exc))
                    errors.append({"scenario": name, "error": str(exc)})
                except Exception as exc:  # a bug here must not lose the other scenarios
                    log("scenario %s crashed:\n%s" % (name, traceback.format_exc()))
                    errors.append({"scenario": name, "error": repr(exc)})
        finally:
            self.redis.stop()
            infra.stop_all()
        meta["duration_s"] = time.time() - started
        meta["loadavg_end"] = os.getloadavg()
        result = {"meta": meta, "settings": self.s, "records": self.records, "errors": errors}
        base = os.path.join(self.outdir, self.stamp)
        with open(base + ".json", "w") as f:
            json.dump(result, f, indent=1)
        table = report.markdown(result)
        with open(base + ".md", "w") as f:
            f.write(table)
        plots = [] if self.args.no_plots else report.plots(result, base)
        print()
        print(table)
        log(
            "wrote %s.json, %s.md%s (%.0f s)"
            % (base, base, "".join(", " + os.path.basename(p) for p in plots), meta["duration_s"])
        )
        return 1 if errors else 0


def machine_info(bench, fd_limit):
    def version(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return None

    def pkg(name):
        try:
            from importlib import metadata

            return metadata.version(name)
        except Exception:
            return None

    def npm_version(folder, name):
        try:
            with open(os.path.join(folder, "node_modules", name, "package.json")) as f:
                return json.load(f)["version"]
        except OSError:
            return None

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = version(["git", "-C", bench.wall_dir, "rev-parse", "--short", "HEAD"])
    dirty = version(["git", "-C", bench.wall_dir, "status", "--porcelain", "--", "wall", "app.py"])
    return {
        "stamp": bench.stamp,
        "quick": bench.quick,
        "servers": bench.servers,
        "client_deflate": bench.deflate,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": version(["node", "--version"]),
        "redis": "%s (%s, --save '' --appendonly no)" % (bench.redis.version, bench.redis.binary),
        "git": "%s%s" % (commit, " (wall/ or app.py modified)" if dirty else ""),
        "wall_dir": bench.wall_dir,
        "wall_settings": infra.WALL_SETTINGS,
        "fd_limit": list(fd_limit),
        "loadavg_start": os.getloadavg(),
        "packages": {
            "eventlet": pkg("eventlet"),
            "gevent": pkg("gevent"),
            "flask-socketio": pkg("Flask-SocketIO"),
            "python-socketio": pkg("python-socketio"),
            "python-engineio": pkg("python-engineio"),
            "redis-py": pkg("redis"),
            "socket.io (node)": npm_version(infra.NODE_PEER, "socket.io"),
            "@socket.io/redis-adapter": npm_version(infra.NODE_PEER, "@socket.io/redis-adapter"),
            "socket.io-client (generator)": npm_version(infra.LOADGEN, "socket.io-client"),
            "ws (generator)": npm_version(infra.LOADGEN, "ws"),
        },
    }


# -- helpers ----------------------------------------------------------------------------------


def _merge_counts(dicts):
    out = {}
    for d in dicts:
        for k, v in (d or {}).items():
            out[k] = out.get(k, 0) + v
    return out


def _cpu(use, units, per="delivery"):
    g = use["groups"]
    srv = g["server"]
    gen = g["generator"]
    out = {
        "server_core_pct": srv["core_pct"],
        "server_runq_wait_pct": srv.get("runq_wait_pct"),
        "server_cpu_s": srv["cpu_s"],
        "server_us_per_" + per: 1e6 * srv["cpu_s"] / units if units else None,
        "redis_core_pct": g["redis"]["core_pct"] if "redis" in g else None,
        "generator_core_pct": gen["core_pct"],
        "generator_us_per_" + per: 1e6 * gen["cpu_s"] / units if units else None,
        "generator_max_core_pct": gen["max_core_pct"],
        "generator_procs": len(gen["procs"]),
    }
    if "poster" in g:
        out["poster_core_pct"] = g["poster"]["core_pct"]
    return out


def _stop(workers, servers):
    """Close the workers' sockets, then stop them and the servers."""
    for w in workers:
        try:
            w.call("close", timeout=60)
        except Exception:
            pass
        w.stop()
    for s in servers:
        s.stop()


def _shares(n, parts):
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def _storm_result(storms, drains, online, posted, use, deadline, n):
    joined = sum(s["ok"] for s in storms)
    all_joined = max((s["all_joined_s"] or 0) for s in storms) if joined else None
    lost = sum(d["lost"] for d in drains)
    dups = sum(d["dups"] for d in drains)
    order = sum(d["order_violations"] for d in drains)
    dropped = _merge_counts(d["dropped"] for d in drains)
    online_max = max(o["online_max"] for o in online)
    online_sum = sum(o["online_sum"] for o in online)
    ack_old = sum(s["ack_old"] for s in storms)
    flags = []
    if joined < n:
        flags.append(
            "%d of %d did not re-join: %s"
            % (n - joined, n, _merge_counts(s["errors"] for s in storms))
        )
    if lost:
        flags.append("%d deliveries missing" % lost)
    if dups or order:
        flags.append("%d duplicates, %d out of order" % (dups, order))
    if dropped:
        flags.append("connections dropped: %s" % dropped)
    if posted["errors"]:
        flags.append("%d posts refused: %s" % (posted["errors"], posted["error_kinds"]))
    srv = use["groups"]["server"]
    return {
        "rejoined": joined,
        "all_joined_s": all_joined,
        "rejoins_per_s": joined / all_joined if all_joined else None,
        "join_ms": hist.summary(hist.merge(s["join"] for s in storms)),
        "within_deadline": bool(joined == n and all_joined is not None and all_joined <= deadline),
        "deadline_s": deadline,
        "online_events": {"max_per_client": online_max, "mean_per_client": online_sum / n},
        "ack_repeated_old_posts": ack_old,
        "posts": {"sent": posted["sent"], "acked": posted["acked"], "errors": posted["errors"]},
        "deliveries": {
            "expected": posted["acked"] * n,
            "lost": lost,
            "dups": dups,
            "order_violations": order,
            "dropped": dropped,
        },
        "server_cpu_s": srv["cpu_s"],
        "machine": {"others_core_pct": use["others_core_pct"], "busy_pct": use["machine_busy_pct"]},
        "flags": flags,
    }


def _no_connect(sess, wanted):
    return {
        "connected": sess["connected"],
        "wanted": wanted,
        "connect_errors": sess["connect_errors"],
        "flags": [
            "could not connect %d subscribers: %d held (%s)"
            % (wanted, sess["connected"], sess["connect_errors"])
        ],
        "skipped": True,
    }


def _slope_kb(points):
    xs = [p["held"] for p in points]
    ys = [p["server_rss"] for p in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den / 1024 if den else None


def _round2(x):
    """Two significant digits."""
    return float("%.2g" % x) if x > 0 else x


def _fmt(v):
    return "-" if v is None else "%.1f" % v


def main(argv=None):
    env_quick = os.environ.get("QUICK", "").strip().lower() not in ("", "0", "no", "false")
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--quick", action="store_true", default=env_quick, help="the quick run (also QUICK=1)"
    )
    p.add_argument(
        "--only",
        default=None,
        help="comma-separated scenarios: %s, profile, profile_ingest (default: all "
        "but the profiles; "
        "quick: %s)" % (", ".join(SCENARIOS), ", ".join(QUICK_SCENARIOS)),
    )
    p.add_argument(
        "--servers",
        default="wall,wall-gevent,node",
        help="comma-separated: wall (eventlet), wall-gevent, wall-queue, wall-pubsub, node",
    )
    p.add_argument("--rate", type=float, default=None, help="fan-out post rate (posts/s)")
    p.add_argument(
        "--sizes",
        default=None,
        help="fan-out subscriber counts, comma-separated (default 100,1000,5000)",
    )
    p.add_argument(
        "--no-deflate",
        action="store_true",
        help="clients do not offer permessage-deflate (browsers do)",
    )
    p.add_argument(
        "--wall-dir",
        default=infra.ROOT,
        help="run the wall from this checkout (e.g. a git worktree of another "
        "commit); default: this repository",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait up to this long for other jobs to calm down before starting "
        "(default: 600 for a full run, 0 for a quick one)",
    )
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--out", default=os.path.join(infra.BENCH, "results"))
    args = p.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    if args.only is None:
        args.only = ",".join(QUICK_SCENARIOS if args.quick else SCENARIOS)
    only = [s for s in args.only.split(",") if s]
    for name in args.servers:
        if name not in CONTENDERS:
            p.error("unknown server %r" % name)
    for name in only:
        if name not in SCENARIOS + ["profile", "profile_ingest"]:
            p.error("unknown scenario %r" % name)

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        return Bench(args).run(only)
    finally:
        infra.stop_all()


if __name__ == "__main__":
    sys.exit(main())
