"""Where an idle connection's memory goes: tracemalloc in one app process
(bench/memory_server.py) while Socket.IO WebSockets open and join a wall.

    .venv/bin/python -m bench.profile_memory [N] [eventlet|gevent]

Needs a Redis at REDIS_URL (default the local one, database 9). Runs the
server twice: untraced, for the RSS and the greenlets and sockets each added
connection brings (tracing inflates RSS with its own records), then under
tracemalloc, for the Python allocations by package and by line. Each run
takes one measurement after a warm-up of 200 joined sockets and another
after N more. Python allocations include the saved stacks of waiting
greenlets (greenlet keeps them with Python's allocator; they show at the
line that switches); RSS minus them is the allocator's slack, the pages a
buffer has not touched yet and the C libraries' own memory. Writes the same as markdown to bench/results/<stamp>-profile-memory-<mode>.md.
"""

import asyncio
import datetime
import json
import os
import re
import signal
import sys
import tempfile
import time
import tracemalloc

import requests

from bench.infra import profile_env
from deploy.launch import ROOT, AppProcess, free_port
from tests.support.aio_client import open_websockets

WARM = 200


def area(filename):
    """The package (or stdlib module, or wall layer) a traced line belongs to."""
    m = re.search(r"site-packages/([^/]+)", filename)
    if m:
        return m.group(1).replace(".py", "")
    m = re.search(r"/wall/([^/]+)", filename)
    if m and ROOT in filename:
        return "wall." + m.group(1).replace(".py", "")
    m = re.search(r"python3\.\d+/([^/]+)", filename)
    if m:
        return "stdlib " + m.group(1).replace(".py", "")
    return filename


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def dump(server, prefix, n, traced):
    os.kill(server.pid, signal.SIGUSR1)
    path = "%s.%d" % (prefix, n)
    deadline = time.monotonic() + 120
    while not os.path.exists(path + ".json"):
        if time.monotonic() > deadline:
            raise RuntimeError("the server wrote no snapshot (see its log)")
        try:  # wakes the hub, so the main thread runs the handler
            requests.get(server.url + "/healthz", timeout=5)
        except requests.RequestException:
            pass
        time.sleep(0.5)
    time.sleep(0.5)  # the snapshot is written before the counts
    with open(path + ".json") as f:
        counts = json.load(f)
    counts["rss"] = rss(server.pid)
    return (tracemalloc.Snapshot.load(path + ".snapshot") if traced else None), counts


async def hold(url, n, wall, clients):
    more = await open_websockets(url, n, batch=200, timeout=60)
    await asyncio.gather(*(c.join(wall) for c in more))
    clients += more


async def close_all(clients):
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def measure(n, mode, frames):
    """``(snapshot before, after, counts before, after)`` of one server run."""
    workdir = tempfile.mkdtemp(prefix="wall-mem-")
    prefix = os.path.join(workdir, "dump")
    env = profile_env(mode, WALL_MEMORY_DUMP=prefix, WALL_MEMORY_FRAMES=str(frames))
    server = AppProcess(
        free_port(),
        env,
        os.path.join(workdir, "server.log"),
        script=os.path.join(ROOT, "bench", "memory_server.py"),
    )
    clients = []
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    wall = "memory-%d" % os.getpid()
    try:
        server.start(timeout=120)  # tracing every allocation makes imports slow
        loop.run_until_complete(hold(server.url, WARM, wall, clients))
        time.sleep(3)
        before, c0 = dump(server, prefix, 1, frames)
        loop.run_until_complete(hold(server.url, n, wall, clients))
        time.sleep(3)
        after, c1 = dump(server, prefix, 2, frames)
    finally:
        loop.run_until_complete(close_all(clients))
        loop.close()
        server.stop()
    return before, after, c0, c1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    mode = sys.argv[2] if len(sys.argv) > 2 else "eventlet"
    _, _, u0, u1 = measure(n, mode, 0)
    before, after, c0, c1 = measure(n, mode, 1)
    lines = report(n, mode, before, after, c0, c1, u0, u1)
    print("\n".join(lines))
    out = os.path.join(ROOT, "bench", "results")
    os.makedirs(out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(out, "%s-profile-memory-%s.md" % (stamp, mode))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", path)


def report(n, mode, before, after, c0, c1, u0, u1):
    kb = 1024.0
    per = {k: (u1[k] - u0[k]) / n for k in ("rss", "greenlets", "sockets")}
    per["traced"] = (c1["traced"] - c0["traced"]) / n
    areas = {}
    for stat in after.compare_to(before, "filename"):
        name = area(stat.traceback[0].filename)
        areas[name] = areas.get(name, 0) + stat.size_diff
    top_lines = after.compare_to(before, "lineno")[:15]
    out = [
        "# Memory per idle connection: %s, %d joined WebSockets after %d (tracemalloc)"
        % (mode, n, WARM),
        "",
        "| per added connection | |",
        "| --- | ---: |",
        "| RSS (untraced run) | %.1f kB |" % (per["rss"] / kb),
        "| Python allocations (traced run) | %.1f kB |" % (per["traced"] / kb),
        "| RSS minus Python allocations | %.1f kB |" % ((per["rss"] - per["traced"]) / kb),
        "| greenlets | %.2f |" % per["greenlets"],
        "| socket objects | %.2f |" % per["sockets"],
        "",
        "| traced, by package | kB per connection |",
        "| --- | ---: |",
    ]
    for name, size in sorted(areas.items(), key=lambda kv: -kv[1])[:12]:
        out.append("| %s | %.2f |" % (name, size / n / kb))
    out += ["", "| traced, by line | kB per connection |", "| --- | ---: |"]
    for stat in top_lines:
        frame = stat.traceback[0]
        where = re.sub(r".*site-packages/", "", frame.filename).replace(ROOT + "/", "")
        out.append("| `%s:%d` | %.2f |" % (where, frame.lineno, stat.size_diff / n / kb))
    return out


if __name__ == "__main__":
    main()
