"""Stream entries the wall did not write (another program, a newer version in a
rolling deploy) are skipped: every process keeps delivering what follows."""

import asyncio

import pytest
import requests

from ..support.aio_client import AioWallClient
from ..support.servers import metric

pytestmark = pytest.mark.server


def test_foreign_entries_are_skipped_and_the_posts_after_them_reach_everyone(
    start_server, rdb, wall_name
):
    servers = [start_server(), start_server()]

    async def scenario():
        clients = [AioWallClient(s.url, t) for s in servers for t in ("websocket", "polling")]
        await asyncio.gather(*(c.connect() for c in clients))
        try:
            await asyncio.gather(*(c.join(wall_name) for c in clients))
            stream = "wall:posts:" + wall_name
            rdb.xadd(stream, {"foo": "bar"})  # fields the wall does not use
            rdb.xadd(stream, {"u": "only a name"})  # fields missing
            rdb.execute_command("XADD", stream, "*", "u", b"\xff\xfe", "m", b"\xc3\x28")
            sent = []
            for i in range(5):
                reply = await clients[i % len(clients)].post(wall_name, "after %d" % i)
                assert reply["ok"], reply
                sent.append(reply["post"]["id"])
            deadline = asyncio.get_running_loop().time() + 15
            while any(c.live != sent for c in clients):
                assert asyncio.get_running_loop().time() < deadline, [c.live for c in clients]
                await asyncio.sleep(0.05)
            # a wall joined afterwards is served too
            fresh = "f" + wall_name
            await asyncio.gather(*(c.join(fresh) for c in clients))
            reply = await clients[0].post(fresh, "on a fresh wall")
            while any(reply["post"]["id"] not in c.live for c in clients):
                assert asyncio.get_running_loop().time() < deadline + 10
                await asyncio.sleep(0.05)
            return sent
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    sent = asyncio.run(scenario())
    page = requests.get(servers[1].url + "/api/walls/%s/posts" % wall_name, timeout=5)
    assert page.status_code == 200
    assert [p["id"] for p in page.json()["posts"]] == sent  # no half-built post
    for server in servers:
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        assert metric(server, "wall_stream_entries_skipped_total") == 3
