"""The production shape, end to end: app processes behind real nginx from deploy/nginx.conf.

Clients connect from different loopback addresses (127.0.0.x), so that the
shipped ``hash $remote_addr consistent`` spreads them over the processes.
"""

import asyncio
import os
import re
import signal
import uuid

import pytest
import redis
import requests

from ..support import servers
from ..support.aio_client import AioWallClient, Disconnected

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("enough_files", "nginx")]


def metric(cluster, name):
    """The value of one metric on each app process."""
    return [servers.metric(app, name) for app in cluster.apps]


def joined_per_app(cluster):
    return metric(cluster, "wall_joined_sockets")


async def connect_many(url, n, reconnect=False, first_host=2, transports=("websocket", "polling")):
    clients = [
        AioWallClient(
            url, transports[i % len(transports)], "127.0.0.%d" % (first_host + i), reconnect
        )
        for i in range(n)
    ]
    await asyncio.gather(*(c.connect() for c in clients))
    return clients


async def wait_until(predicate, timeout=20, what="condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.05)


async def post_until_acked(client, wall, message, timeout=30):
    """Retry with one client_id until acknowledged, as the page's outbox does."""
    client_id = uuid.uuid4().hex
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            reply = await client.post(wall, message, client_id)
            if reply["ok"]:
                return reply["post"]["id"]
            assert reply["error"] == "unavailable", reply
        except (TimeoutError, Disconnected):
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("never acknowledged: " + message)


def access_log_statuses(cluster):
    with open(os.path.join(cluster.workdir, "access.log")) as f:
        return [line.split('"')[2].split()[0] for line in f if '"' in line]


def test_nginx_serves_versioned_static_files_for_a_year(make_cluster):
    cluster = make_cluster(n=1)
    page = requests.get(cluster.url + "/", timeout=5).text
    path = re.search(r"/static/v/[0-9a-f]{12}/css/wall\.css", page).group(0)
    served = requests.get(cluster.url + path, timeout=5)
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("text/css")
    assert "immutable" in served.headers["Cache-Control"]
    # nginx itself answered: the app's own static route sends no "immutable"
    assert "immutable" not in requests.get(cluster.apps[0].url + path, timeout=5).headers.get(
        "Cache-Control", ""
    )


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_every_client_gets_every_post_once_through_nginx(make_cluster, wall_name, async_mode):
    cluster = make_cluster(async_mode=async_mode)

    async def scenario():
        clients = await connect_many(cluster.url, 30)
        try:
            for c in clients:
                await c.join(wall_name)
            spread = joined_per_app(cluster)
            assert sum(spread) == 30 and all(spread), spread
            assert sum(metric(cluster, 'wall_connections{transport="websocket"}')) == 15
            acked = []
            for c in clients[::6]:  # posts from several processes and transports
                reply = await c.post(wall_name, "from " + c.local_addr)
                acked.append(reply["post"]["id"])
            await wait_until(lambda: all(c.live == acked for c in clients), what="every post")
            await asyncio.sleep(0.5)
            assert all(c.live == acked for c in clients), "a post arrived twice"
            assert all(c.http_errors == [] for c in clients)
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())
    statuses = access_log_statuses(cluster)
    assert "400" not in statuses, "a long-polling request lost its session (no stickiness)"


def test_killed_process_clients_reconnect_elsewhere_and_catch_up(make_cluster, wall_name):
    cluster = make_cluster()

    async def scenario():
        clients = await connect_many(cluster.url, 24, reconnect=True)
        try:
            for c in clients:
                await c.join(wall_name)
            acked = [await clients[0].post(wall_name, "before")]
            acked = [a["post"]["id"] for a in acked]
            victim = max(range(3), key=lambda i: joined_per_app(cluster)[i])
            cluster.apps[victim].kill()
            survivors = [c for c in clients if c.connected]
            for i in range(6):
                poster = survivors[i % len(survivors)]
                acked.append(await post_until_acked(poster, wall_name, "during %d" % i))
            await wait_until(
                lambda: all(set(acked) <= set(c.ids()) for c in clients),
                timeout=30,
                what="every client to recover every post",
            )
            assert sum(c.reconnects for c in clients) > 0
            for c in clients:
                assert c.ids() == sorted(set(c.ids()), key=lambda i: tuple(map(int, i.split("-"))))
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())


def test_redis_outage_refuses_then_recovers(make_cluster, own_redis, wall_name):
    cluster = make_cluster()

    async def scenario():
        clients = await connect_many(cluster.url, 12)
        try:
            for c in clients:
                await c.join(wall_name)
            acked = [(await clients[0].post(wall_name, "before"))["post"]["id"]]
            own_redis.process.send_signal(signal.SIGTERM)
            own_redis.process.wait()
            reply = await asyncio.wait_for(clients[1].post(wall_name, "during"), 5)
            assert reply["ok"] is False and reply["error"] == "unavailable"
            health = requests.get(cluster.url + "/healthz", timeout=5)
            assert health.status_code == 503
            await asyncio.sleep(2)
            own_redis.restart()
            for c in clients[:6]:  # every process posts again
                acked.append(await post_until_acked(c, wall_name, "after " + c.local_addr))
            await wait_until(
                lambda: all(set(acked) <= set(c.live) for c in clients),
                timeout=30,
                what="posts from every process on every client",
            )
            assert all(c.connected for c in clients)
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())


def test_sigterm_under_load_loses_no_acknowledged_post(make_cluster, own_redis, wall_name):
    cluster = make_cluster()
    acked = []

    async def scenario():
        clients = await connect_many(cluster.url, 12, reconnect=True, transports=("websocket",))
        posters = await connect_many(cluster.url, 6, reconnect=True, first_host=40)
        try:
            for c in clients:
                await c.join(wall_name)
            stop = asyncio.Event()

            async def keep_posting(poster, n):
                i = 0
                while not stop.is_set():
                    acked.append(await post_until_acked(poster, wall_name, "%d-%d" % (n, i)))
                    i += 1
                    await asyncio.sleep(0.02)

            tasks = [asyncio.ensure_future(keep_posting(p, n)) for n, p in enumerate(posters)]
            await asyncio.sleep(1.5)
            victim = cluster.apps[1]
            victim.process.send_signal(signal.SIGTERM)
            await asyncio.get_running_loop().run_in_executor(None, victim.process.wait, 20)
            await asyncio.sleep(1.5)
            stop.set()
            await asyncio.gather(*tasks)
            await wait_until(
                lambda: all(set(acked) <= set(c.ids()) for c in clients),
                timeout=30,
                what="every acknowledged post on every client",
            )
        finally:
            await asyncio.gather(*(c.close() for c in clients + posters))

    asyncio.run(scenario())
    assert cluster.apps[1].process.returncode == 0, cluster.apps[1].log()
    rdb = redis.Redis(port=own_redis.port, decode_responses=True)
    stored = [i for i, f in rdb.xrange("wall:posts:" + wall_name) if "d" not in f]
    rdb.close()
    assert set(acked) <= set(stored)
    assert len(stored) == len(set(acked)), "a retried post was stored twice"
