"""A conference behind one address: two thousand people on one network watch and
post with the shipped limits, while one client that floods is still stopped.

Heavy (thousands of sockets): run from .ci/run after ``make test``
(``make test-heavy``). Every client comes from 127.0.0.1, as a whole hall comes
from one NAT address; they have no cookie, so each session is its own client.
"""

import asyncio
import time

import pytest
import requests

from ..support.aio_client import AioWallClient
from ..support.servers import metric

pytestmark = [pytest.mark.server, pytest.mark.heavy, pytest.mark.usefixtures("enough_files")]

HALL = 2000
WALLS = 100  # the hall spread over walls: 20 watchers a wall, so deliveries stay small
SHIPPED = {"WALL_RATE_LIMITS": "on"}  # every other limit as shipped


async def connect_all(urls, n):
    clients = [
        AioWallClient(urls[i % len(urls)], "polling" if i % 10 == 0 else "websocket")
        for i in range(n)
    ]
    for start in range(0, n, 250):  # as a hall arrives: in waves, not all in one instant
        await asyncio.gather(*(c.connect(timeout=60) for c in clients[start : start + 250]))
    return clients


@pytest.mark.timeout(600)
@pytest.mark.parametrize("processes", [1, 2])
def test_two_thousand_people_on_one_address_watch_and_post(start_server, wall_name, processes):
    servers = [start_server(env=SHIPPED) for _ in range(processes)]
    urls = [s.url for s in servers]
    figures = {}

    async def scenario():
        started = time.monotonic()
        clients = await connect_all(urls, HALL)
        figures["connect_s"] = time.monotonic() - started
        try:
            walls = ["%s-%d" % (wall_name, i % WALLS) for i in range(HALL)]
            await asyncio.gather(*(c.join(w) for c, w in zip(clients, walls)))
            # the speaker asks the room a question: everyone answers at once
            started = time.monotonic()
            replies = await asyncio.gather(
                *(c.post(w, "answer %d" % i) for i, (c, w) in enumerate(zip(clients, walls)))
            )
            figures["burst_s"] = time.monotonic() - started
            refused = [r for r in replies if not r["ok"]]
            assert not refused, refused[:3]
            # one client floods; everyone else keeps posting meanwhile
            flooder, others = clients[1], clients[2:402]
            flood = asyncio.gather(*(flooder.post(walls[1], "flood %d" % i) for i in range(40)))
            second = asyncio.gather(*(c.post(w, "second") for c, w in zip(others, walls[2:])))
            flooded, after = await flood, await second
            limited = [r for r in flooded if not r["ok"]]
            assert limited and all(
                r["error"] == "rate_limited" and r["retry_after"] >= 1 for r in limited
            )
            assert all(r["ok"] for r in after), [r for r in after if not r["ok"]][:3]
            figures["flood_limited"] = len(limited)
            # and a newcomer still gets in
            newcomer = await AioWallClient(urls[-1]).connect()
            clients.append(newcomer)
            await newcomer.join(walls[0])
            assert (await newcomer.post(walls[0], "just arrived"))["ok"]
            return figures
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    figures = asyncio.run(scenario())
    held = sum(metric(s, 'wall_connections{transport="websocket"}', 0) for s in servers)
    print(
        "\n%d process(es): %d clients connected in %.1f s; %d posts acknowledged in %.2f s; "
        "the flooder was refused %d of 40"
        % (
            processes,
            HALL,
            figures["connect_s"],
            HALL,
            figures["burst_s"],
            figures["flood_limited"],
        )
    )
    assert all(requests.get(s.url + "/healthz", timeout=5).status_code == 200 for s in servers)
    assert held >= 0
