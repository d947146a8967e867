"""Many walls on one Redis against a three-master Redis Cluster (docs/scaling.md).

The same load on both: two wall processes, ``walls`` walls with a few
watchers each (WebSocket), and ``posters`` clients each posting to a wall of
its own as fast as its acks come back, for ``seconds``. Measured over that
window: posts acknowledged per second, deliveries per second, and the CPU of
each Redis node per 1,000 posts (psutil), the app processes' too.

    .venv/bin/python -m bench.sharding [--walls 120] [--seconds 15]

``make bench`` runs it as the ``sharding`` scenario (bench/run.py).
"""

import argparse
import asyncio
import json
import os
import time

import psutil

from bench import infra
from deploy.topologies import RedisCluster
from tests.support.aio_client import AioWallClient
from wall.storage.embedded import RedisProcess


class Counter(AioWallClient):
    delivered = 0

    def on_post(self, post):
        Counter.delivered += 1


def _cpu(pids):
    total = {}
    for name, pid in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
            total[name] = times.user + times.system
        except psutil.Error:
            total[name] = 0.0
    return total


async def _load(urls, walls, watchers, posters, seconds, pids):
    Counter.delivered = 0
    clients = [
        Counter(urls[i % len(urls)], "websocket", keep=False) for i in range(len(walls) * watchers)
    ]
    for start in range(0, len(clients), 50):
        await asyncio.gather(*(c.connect() for c in clients[start : start + 50]))
    await asyncio.gather(*(c.join(walls[i % len(walls)]) for i, c in enumerate(clients)))
    senders = [Counter(urls[i % len(urls)], "websocket", keep=False) for i in range(posters)]
    await asyncio.gather(*(s.connect() for s in senders))
    acked = [0]
    failed = [0]

    async def post_loop(sender, wall, until):
        n = 0
        while time.monotonic() < until:
            n += 1
            try:
                reply = await sender.post(wall, "bench %d" % n)
            except Exception:
                failed[0] += 1
                continue
            if reply.get("ok"):
                acked[0] += 1
            else:
                failed[0] += 1

    # warm up (scripts loaded, pools filled), then the measured window
    until = time.monotonic() + 2
    await asyncio.gather(
        *(post_loop(s, walls[i % len(walls)], until) for i, s in enumerate(senders))
    )
    acked[0] = failed[0] = 0
    delivered0, cpu0, t0 = Counter.delivered, _cpu(pids), time.monotonic()
    until = t0 + seconds
    await asyncio.gather(
        *(post_loop(s, walls[i % len(walls)], until) for i, s in enumerate(senders))
    )
    elapsed = time.monotonic() - t0
    await asyncio.sleep(1)  # the last deliveries
    delivered, cpu1 = Counter.delivered - delivered0, _cpu(pids)
    await asyncio.gather(
        *(asyncio.wait_for(c.close(), 5) for c in clients + senders), return_exceptions=True
    )
    cpu = {name: cpu1[name] - cpu0[name] for name in pids}
    return {
        "posts_per_s": acked[0] / elapsed,
        "deliveries_per_s": delivered / elapsed,
        "failed": failed[0],
        "cpu_s": cpu,
        "redis_cpu_ms_per_1k_posts": {
            n: 1e6 * c / max(1, acked[0]) for n, c in cpu.items() if n.startswith("redis")
        },
        "redis_cpu_pct": {n: 100 * c / elapsed for n, c in cpu.items() if n.startswith("redis")},
        "app_cpu_pct": {n: 100 * c / elapsed for n, c in cpu.items() if n.startswith("app")},
        "seconds": elapsed,
    }


def run_one(topology, workdir, walls=120, watchers=3, posters=24, seconds=15.0):
    """One measurement; ``topology`` is ``single`` or ``cluster``."""
    os.makedirs(workdir, exist_ok=True)
    redis_pids = {}
    if topology == "single":
        redis = RedisProcess(os.path.join(workdir, "redis"), persist=False, prefer_system=True)
        url = redis.start()
        redis_pids["redis-0"] = redis.pid
        stop = redis.stop
    else:
        redis = RedisCluster(os.path.join(workdir, "cluster"), replicas=0, persist=False).start()
        url = redis.url
        for i, server in enumerate(redis.servers):
            redis_pids["redis-%d" % i] = server.pid
        stop = redis.stop
    servers = []
    try:
        servers = [
            infra.Server("wall", url, workdir, name="app-%s-%d" % (topology, i)) for i in range(2)
        ]
        pids = dict(redis_pids)
        pids.update({"app-%d" % i: s.pid for i, s in enumerate(servers)})
        names = ["w%d" % i for i in range(walls)]
        result = asyncio.run(
            _load([s.url for s in servers], names, watchers, posters, seconds, pids)
        )
        result.update(topology=topology, walls=walls, watchers=watchers, posters=posters)
        return result
    finally:
        for server in servers:
            server.stop()
        stop()


def markdown(results):
    lines = [
        "| Redis | posts/s | deliveries/s | Redis CPU per node (% of a core) "
        "| Redis CPU ms per 1,000 posts (all nodes) | app CPU (% of a core, each) |",
        "| --- | ---: | ---: | --- | ---: | --- |",
    ]
    for r in results:
        per_node = ", ".join("%.0f" % v for v in r["redis_cpu_pct"].values())
        apps = ", ".join("%.0f" % v for v in r["app_cpu_pct"].values())
        lines.append(
            "| %s | %.0f | %.0f | %s | %.0f | %s |"
            % (
                "one Redis" if r["topology"] == "single" else "cluster, 3 masters",
                r["posts_per_s"],
                r["deliveries_per_s"],
                per_node,
                sum(r["redis_cpu_ms_per_1k_posts"].values()),
                apps,
            )
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walls", type=int, default=120)
    parser.add_argument("--watchers", type=int, default=3)
    parser.add_argument("--posters", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--out", default=os.path.join(infra.BENCH, "results"))
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = os.path.join(args.out, stamp + "-sharding-logs")
    results = [
        run_one(t, os.path.join(work, t), args.walls, args.watchers, args.posters, args.seconds)
        for t in ("single", "cluster")
    ]
    with open(os.path.join(args.out, stamp + "-sharding.json"), "w") as f:
        json.dump(results, f, indent=1)
    table = markdown(results)
    with open(os.path.join(args.out, stamp + "-sharding.md"), "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
