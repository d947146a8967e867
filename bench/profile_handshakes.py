"""Where a handshake's server time goes: py-spy on one app process while
clients open Socket.IO WebSockets (engine.io upgrade and the /wall CONNECT).

    .venv/bin/python -m bench.profile_handshakes [N] [eventlet|gevent]

Needs py-spy (``.venv/bin/pip install py-spy``) and a Redis at REDIS_URL
(default the local one, database 9). Prints the rate and the functions with
the largest inclusive share of samples. py-spy stitches greenlet stacks
imperfectly: read the inclusive shares, not the leaves.
"""

import asyncio
import collections
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time

from bench.infra import profile_env
from deploy.launch import ROOT, AppProcess, free_port
from tests.support.aio_client import open_websockets


def shares(raw_path, top=45):
    """``(total samples, [(share %, function)])`` from py-spy's raw output."""
    inclusive, total = collections.Counter(), 0
    with open(raw_path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            total += int(count)
            names = set()
            for frame in stack.split(";"):
                m = re.match(r"(.*?) \((.*?):\d+\)", frame)
                names.add(
                    "%s (%s)" % (m.group(1), re.sub(r".*site-packages/", "", m.group(2)))
                    if m
                    else frame
                )
            for name in names:
                inclusive[name] += int(count)
    return total, [(100 * n / total, name) for name, n in inclusive.most_common(top)]


@contextlib.contextmanager
def recording(pid, raw, rate=200):
    """py-spy records process ``pid`` into ``raw`` (its raw format) while
    the block runs, from a second after it starts sampling."""
    spy = subprocess.Popen(
        [os.path.join(ROOT, ".venv", "bin", "py-spy"), "record", "--pid", str(pid)]
        + ["--rate", str(rate), "--format", "raw", "-o", raw, "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1)
        yield
    finally:
        spy.send_signal(2)
        spy.wait(30)


async def open_sockets(url, n):
    started = time.monotonic()
    clients = await open_websockets(url, n, batch=200, timeout=60)
    took = time.monotonic() - started
    await asyncio.gather(*(c.close() for c in clients))
    return took


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    mode = sys.argv[2] if len(sys.argv) > 2 else "eventlet"
    env = profile_env(mode)
    workdir = tempfile.mkdtemp(prefix="wall-hs-")
    port = free_port()
    server = AppProcess(port, env, os.path.join(workdir, "server.log"))
    server.start()
    raw = os.path.join(workdir, "profile.txt")
    try:
        with recording(server.pid, raw):
            took = asyncio.run(open_sockets("http://127.0.0.1:%d" % port, n))
    finally:
        server.stop()
    total, top = shares(raw)
    print("%d handshakes under %s in %.1f s: %.0f/s; %d samples" % (n, mode, took, n / took, total))
    for share, name in top:
        print("%5.1f%% %s" % (share, name))


if __name__ == "__main__":
    main()
