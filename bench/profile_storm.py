"""Where a reconnect storm's server time goes: py-spy on one app process
while N joined Socket.IO WebSockets drop at once (no close frame, as the
bench's storm drops them) and then re-join their wall with ``after``.

    .venv/bin/python -m bench.profile_storm [N] [eventlet|gevent]

Needs py-spy (``.venv/bin/pip install py-spy``) and a Redis at REDIS_URL
(default the local one, database 9). The storm of the bench overlaps the
drops and the re-joins; here they are two phases, profiled apart, so that
each one's CPU per client is its own: the drops until the server is idle
again, then the re-joins until every ack is in. Prints both, with the
full collections of the garbage collector in each (from ``/metrics``), and
the functions with the largest inclusive share of samples in each, and
the server's RSS along the way (closed connections' cycles wait for the
next full collection).
"""

import asyncio
import os
import sys
import tempfile
import time

from bench.infra import proc_cpu, profile_env
from bench.profile_handshakes import recording, shares
from bench.profile_memory import rss
from deploy.launch import AppProcess, free_port
from tests.support.aio_client import AioWallClient, open_websockets
from tests.support.servers import metric

WALL = "profile-storm"


def full_collections(url):
    return metric(url, 'python_gc_collections_total{generation="2"}')


def drop(client):
    """Drop the connection without a Socket.IO or WebSocket goodbye, the
    TCP connection closed at once (as the bench's ``ws.terminate()`` does)."""
    client.reconnect = False
    client._task.cancel()
    transport = client._ws._response.connection.transport
    transport.abort()


async def storm(url, n, pid, profile):
    clients = await open_websockets(url, n, batch=200, timeout=60)
    await asyncio.gather(*(c.join(WALL) for c in clients))
    for i in range(5):
        await clients[0].post(WALL, "before the storm %d" % i)
    after = clients[0].ids()[-1]
    await asyncio.sleep(1)
    memory = {"joined": rss(pid)}
    addresses = [c.local_addr for c in clients]

    phases = {}
    with profile("drops"):
        cpu, started, full = proc_cpu(pid), time.monotonic(), full_collections(url)
        for c in clients:
            drop(c)
        # the server is done when its CPU stays still for half a second
        last = proc_cpu(pid)
        while True:
            await asyncio.sleep(0.5)
            now = proc_cpu(pid)
            if now - last < 0.01:
                break
            last = now
        phases["drops"] = (
            proc_cpu(pid) - cpu,
            time.monotonic() - started - 0.5,
            full_collections(url) - full,
        )
    for c in clients:
        await c._session.close()
    memory["dropped"] = rss(pid)

    with profile("re-joins"):
        cpu, started, full = proc_cpu(pid), time.monotonic(), full_collections(url)
        again = [AioWallClient(url, "websocket", a) for a in addresses]

        async def rejoin(c):
            await c.connect(timeout=60)
            await c.join(WALL, after=after)

        await asyncio.gather(*(rejoin(c) for c in again))
        phases["re-joins"] = (
            proc_cpu(pid) - cpu,
            time.monotonic() - started,
            full_collections(url) - full,
        )
    memory["re-joined"] = rss(pid)
    await asyncio.gather(*(c.close() for c in again))
    await asyncio.sleep(2)
    memory["all closed"] = rss(pid)
    return phases, memory


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    mode = sys.argv[2] if len(sys.argv) > 2 else "eventlet"
    workdir = tempfile.mkdtemp(prefix="wall-storm-")
    port = free_port()
    server = AppProcess(port, profile_env(mode), os.path.join(workdir, "server.log"))
    server.start()
    raws = {}

    def profile(phase):
        raws[phase] = os.path.join(workdir, phase + ".txt")
        return recording(server.pid, raws[phase])

    try:
        phases, memory = asyncio.run(storm("http://127.0.0.1:%d" % port, n, server.pid, profile))
    finally:
        server.stop()
    print(
        "server RSS (MB): "
        + ", ".join("%s %.0f" % (when, size / 1e6) for when, size in memory.items())
    )
    for phase, (cpu, took, full) in phases.items():
        total, top = shares(raws[phase])
        print(
            "\n%s of %d clients under %s: %.2f s, server CPU %.2f s (%.0f us each), "
            "%d full collections; %d samples"
            % (phase, n, mode, took, cpu, 1e6 * cpu / n, full, total)
        )
        for share, name in top:
            print("%5.1f%% %s" % (share, name))


if __name__ == "__main__":
    main()
