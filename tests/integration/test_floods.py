"""Floods: too many connections from one address, reconnect storms, clients that never read."""

import asyncio
import threading
import time

import aiohttp
import psutil
import pytest
import requests

from ..support import raw_websocket, servers
from ..support.aio_client import AioWallClient
from ..support.helpers import wait_for

pytestmark = pytest.mark.server


def test_connections_per_address_are_capped(start_server):
    server = start_server(env={"WALL_MAX_CONNECTIONS_PER_IP": "5"})

    async def scenario():
        mine = [
            await AioWallClient(server.url, "websocket", "127.0.0.2").connect() for _ in range(5)
        ]
        try:
            refused = requests.get(
                server.url + "/socket.io/?EIO=4&transport=polling",
                timeout=5,
            )  # from 127.0.0.1: another address, let in
            assert refused.status_code == 200
            with pytest.raises(Exception, match="429"):
                await AioWallClient(server.url, "polling", "127.0.0.2").connect()
            await mine[0].close()
            await asyncio.sleep(0.3)
            mine[0] = await AioWallClient(server.url, "polling", "127.0.0.2").connect()
        finally:
            await asyncio.gather(*(c.close() for c in mine))

    asyncio.run(scenario())
    assert servers.metric(server, "wall_connections_refused") >= 1


def test_a_reconnect_storm_leaves_the_server_serving(start_server, make_client, wall_name):
    server = start_server()
    watcher = make_client(server, "polling")
    watcher.join(wall_name)

    async def storm():
        for _ in range(5):
            clients = [
                AioWallClient(
                    server.url, ("websocket", "polling")[i % 2], "127.0.1.%d" % (i % 200 + 1)
                )
                for i in range(200)
            ]
            await asyncio.gather(*(c.connect() for c in clients))
            await asyncio.gather(*(c.join(wall_name) for c in clients))
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(storm())
    post = make_client(server).post(wall_name, "after the storm")["post"]
    wait_for(lambda: post["id"] in watcher.ids())
    wait_for(
        lambda: watcher.online and watcher.online[-1]["count"] == 1,
        timeout=10,
        message="online back to 1",
    )
    # presence announcements stayed coalesced: one a second, not one per join
    assert len(watcher.online) < 40, len(watcher.online)


def never_reading_client(url, wall):
    """A WebSocket client that joins a wall and then never reads again."""
    sock = raw_websocket.wall_session(url, rcvbuf=4096)
    sock.sendall(raw_websocket.frame('42/wall,1["join",{"wall":"%s"}]' % wall))
    return sock


@pytest.mark.heavy  # a long run: make test-heavy (.ci/run)
@pytest.mark.timeout(120)
@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_a_client_that_never_reads_is_cut_off(start_server, make_client, wall_name, async_mode):
    server = start_server(env={"WALL_MAX_QUEUE": "50"}, async_mode=async_mode)
    watcher = make_client(server)
    watcher.join(wall_name)
    slow = never_reading_client(server.url, wall_name)
    wait_for(
        lambda: servers.metric(server, "wall_joined_sockets") == 2, message="the slow client joined"
    )
    rss = psutil.Process(server.process.pid).memory_info().rss
    message = "x" * 1000
    ids, lock = [], threading.Lock()

    def poster(n):
        with requests.Session() as http:
            for _ in range(n):
                reply = http.post(
                    server.url + "/api/walls/%s/posts" % wall_name,
                    json={"username": "flood", "message": message},
                    timeout=10,
                )
                with lock:
                    ids.append(reply.json()["post"]["id"])

    threads = [threading.Thread(target=poster, args=(1000,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(
        lambda: servers.metric(server, "wall_slow_sessions_closed") >= 1,
        timeout=10,
        message="the slow session closed",
    )
    wait_for(lambda: len(watcher.ids()) == len(ids), timeout=30, message="the watcher kept up")
    assert sorted(watcher.ids(), key=lambda i: tuple(map(int, i.split("-")))) == watcher.ids()
    grown = psutil.Process(server.process.pid).memory_info().rss - rss
    assert grown < 60 * 1024 * 1024, grown
    slow.close()


async def page_loads(url, n, concurrency=20):
    """``n`` loads of ``url``, each by a new browser (no cookie sent back); their
    ``Set-Cookie`` headers (None where there was none)."""
    jar = aiohttp.DummyCookieJar()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:

        async def load():
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as resp:
                assert resp.status == 200, resp.status
                await resp.read()
                return resp.headers.get("Set-Cookie")

        return await asyncio.gather(*(load() for _ in range(n)))


@pytest.mark.timeout(120)  # about 7 s; 2,000 pages at ~4 ms each
def test_a_hall_arriving_at_once_gets_its_cookies_at_the_shipped_limit(start_server):
    # WALL_RATE_LIMIT_COOKIES as shipped: a hall of 2,000 from one address
    # loads the page within 30 s, and every browser gets its cookie.
    server = start_server(env={"WALL_RATE_LIMITS": "on"})
    started = time.monotonic()
    given = asyncio.run(page_loads(server.url + "/", 2000))
    took = time.monotonic() - started
    assert took < 30, took
    without = [c for c in given if not (c or "").startswith("wall_client=")]
    assert not without, "%d of 2000 got no cookie" % len(without)
    print("\n2,000 page loads from one address in %.1f s, all with a cookie" % took)
