"""The broadcast fast path: frames written straight to idle WebSockets, in order.

``wall/realtime/broadcast.py`` builds each live event's frame once and writes it to
every local WebSocket whose writer is idle; long-polling sessions and busy
writers get the same packet through engine.io's queue. These tests check
that both paths deliver everything once and in order (``online`` and other
emits of the server's manager take the same paths), that the fast path
is really taken under eventlet and gevent (and not with ``WALL_DIRECT_WRITES=off``),
and that a join's reply always reaches the socket before any live post.
"""

import asyncio
import threading

import pytest
import requests

from ..support.aio_client import AioWallClient
from ..support.helpers import wait_for
from ..support.servers import metric

pytestmark = pytest.mark.server

MODES = pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])


def frames(server):
    return (
        metric(server.url, 'wall_broadcast_frames{path="direct"}'),
        metric(server.url, 'wall_broadcast_frames{path="queued"}'),
    )


def fan_out(server, wall, websockets, pollers, posts):
    """Join, let ``online`` settle, post.

    Returns the frames of the posts alone (direct, queued) and the direct
    frames before them (``online`` announcements, through the manager).
    """

    async def scenario():
        clients = [AioWallClient(server.url) for _ in range(websockets)]
        clients += [AioWallClient(server.url, "polling") for _ in range(pollers)]
        await asyncio.gather(*(c.connect() for c in clients))
        try:
            await asyncio.gather(*(c.join(wall) for c in clients))
            # the announcement of the full count reaches everyone (at most one
            # a second per wall, so it may take a tick or two on a busy machine)
            total = len(clients)
            deadline = asyncio.get_running_loop().time() + 10
            while not all(("online", {"wall": wall, "count": total}) in c.events for c in clients):
                assert asyncio.get_running_loop().time() < deadline, "online never settled"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            before = frames(server)
            sent = [(await clients[0].post(wall, "p%d" % i))["post"]["id"] for i in range(posts)]
            deadline = asyncio.get_running_loop().time() + 15
            while any(c.live != sent for c in clients):
                assert asyncio.get_running_loop().time() < deadline, "posts missing"
                await asyncio.sleep(0.05)
            after = frames(server)
            return after[0] - before[0], after[1] - before[1], before[0]
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    return asyncio.run(scenario())


@pytest.mark.timeout(60)
@MODES
def test_websockets_get_frames_directly_and_polling_through_the_queue(
    start_server, wall_name, async_mode
):
    server = start_server(async_mode=async_mode)
    direct, queued, online_direct = fan_out(server, wall_name, websockets=40, pollers=4, posts=10)
    assert online_direct >= 40, "online announcements did not take the direct path"
    # Every WebSocket delivery went straight out, save the odd one that met
    # a ping or an ack in its queue; every long-polling one was queued.
    assert direct >= 40 * 10 * 0.9, (direct, queued)
    assert queued >= 4 * 10, (direct, queued)
    assert direct + queued == 44 * 10


@pytest.mark.timeout(60)
@MODES
def test_direct_writes_can_be_switched_off(start_server, wall_name, async_mode):
    server = start_server(env={"WALL_DIRECT_WRITES": "off"}, async_mode=async_mode)
    assert fan_out(server, wall_name, websockets=10, pollers=1, posts=5) == (0, 11 * 5, 0)


@pytest.mark.heavy  # a long run: make test-heavy (.ci/run)
@pytest.mark.timeout(90)
@pytest.mark.parametrize("transport", ["websocket", "polling"])
@MODES
def test_the_join_reply_comes_before_any_live_post(start_server, wall_name, transport, async_mode):
    """Sockets join while posts flow (about a hundred a second: every join
    meets posts in flight, and polling clients keep up with the flow on a
    slow 2-core host too; an unbounded flow of three posters starved the
    polling clients' connections there)."""
    server = start_server(async_mode=async_mode)
    stop = threading.Event()

    def flow():
        with requests.Session() as http:
            while not stop.is_set():
                http.post(
                    server.url + "/api/walls/%s/posts" % wall_name,
                    json={"username": "flow", "message": "m"},
                    timeout=10,
                )
                stop.wait(0.02)

    async def scenario():
        clients = [AioWallClient(server.url, transport) for _ in range(60)]
        await asyncio.gather(*(c.connect() for c in clients))
        try:
            for group in range(0, 60, 10):
                await asyncio.gather(*(c.join(wall_name) for c in clients[group : group + 10]))
            await asyncio.sleep(0.5)
            return [(c.last_ack_id, c.arrivals) for c in clients]
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    threads = [threading.Thread(target=flow) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        wait_for(
            lambda: requests.get(server.url + "/api/walls/%s/posts" % wall_name, timeout=5).json()[
                "posts"
            ],
            message="the flow",
        )
        results = asyncio.run(scenario())
    finally:
        stop.set()
        for t in threads:
            t.join()
    live = 0
    for join_ack_id, arrivals in results:
        posts = [i for i, (kind, _) in enumerate(arrivals) if kind == "post"]
        live += len(posts)
        if posts:
            assert arrivals.index(("ack", join_ack_id)) < posts[0], arrivals[:5]
    assert live > 60, "the flow was too slow to test anything"
