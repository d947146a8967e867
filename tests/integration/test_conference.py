"""A conference behind one address: two thousand people on one network watch and
post with the shipped limits, while one client that floods is still stopped.

Heavy (thousands of sockets): run from .ci/run after ``make test``
(``make test-heavy``). Every client comes from 127.0.0.1, as a whole hall comes
from one NAT address; the hall has no cookie, so each session is its own
client; the flooder has one, in several tabs.
"""

import asyncio
import time

import pytest
import requests

from ..support.aio_client import AioWallClient
from ..support.servers import metric

pytestmark = [pytest.mark.server, pytest.mark.heavy, pytest.mark.usefixtures("enough_files")]

HALL = 2000
POLLING = HALL // 10  # one in ten on long-polling (a proxy or network that blocks WebSocket)
WALLS = 100  # the hall spread over walls: 20 watchers a wall, so deliveries stay small
SHIPPED = {"WALL_RATE_LIMITS": "on"}  # every other limit as shipped
SOCKET_LIMIT, CLIENT_LIMIT = 5, 10  # the shipped WALL_RATE_LIMIT_SOCKET and _CLIENT, per 10 s
TABS, TAB_POSTS = 4, 25  # the flooder: one browser (one cookie), four tabs, 25 posts each
OTHERS = 400  # the hall members who post while the flood goes on
ACK_BOUND = 30  # seconds for the whole burst to be acknowledged (see there)


def post(wall, message):
    return {"wall": wall, "username": "aio", "message": message}


class TimedClient(AioWallClient):
    """Notes when its last event went out: written to the WebSocket, or, on
    long-polling, the moment its POST was made (the busy server answers it
    only when it reads it, which is the server's time, not the sender's)."""

    sent_at = None

    async def _send(self, packet):
        if packet.startswith("42") and self._ws is None:
            self.sent_at = time.monotonic()
        await super()._send(packet)
        if packet.startswith("42") and self._ws is not None:
            self.sent_at = time.monotonic()


async def connect_all(urls, n):
    clients = [
        TimedClient(urls[i % len(urls)], "polling" if i % 10 == 0 else "websocket")
        for i in range(n)
    ]
    for start in range(0, n, 250):  # as a hall arrives: in waves, not all in one instant
        await asyncio.gather(*(c.connect(timeout=60) for c in clients[start : start + 250]))
    return clients


async def timed(call):
    started = time.monotonic()
    reply = await call
    return reply, time.monotonic() - started


async def in_waves(*groups, waves=10, gap=0.4):
    """Each group's posts ``(client, wall, message)`` sent in ``waves`` waves,
    ``gap`` s apart, the groups side by side; each group's ``(reply, seconds)``."""
    tasks = [[] for _ in groups]
    for k in range(waves):
        for group, started in zip(groups, tasks):
            size = -(-len(group) // waves)
            started += [
                asyncio.ensure_future(timed(c.post(w, m)))
                for c, w, m in group[k * size : (k + 1) * size]
            ]
        await asyncio.sleep(gap)
    return [await asyncio.gather(*started) for started in tasks]


def refusals_are_rate_limited(replies):
    refused = [r for r in replies if not r["ok"]]
    assert all(r["error"] == "rate_limited" and r["retry_after"] >= 1 for r in refused), refused[:3]
    return len(refused)


def transports(servers):
    return [
        sum(metric(s, 'wall_connections{transport="%s"}' % t) for s in servers)
        for t in ("websocket", "polling")
    ]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("processes", [1, 2])
def test_two_thousand_people_on_one_address_watch_and_post(start_server, wall_name, processes):
    servers = [start_server(env=SHIPPED) for _ in range(processes)]
    urls = [s.url for s in servers]
    # the flooder's browser loaded the page once and has its cookie
    cookies = {"wall_client": requests.get(urls[0] + "/", timeout=10).cookies["wall_client"]}
    figures = {}

    async def scenario():
        clients = []
        try:
            started = time.monotonic()
            clients += await connect_all(urls, HALL)
            figures["connect_s"] = time.monotonic() - started
            walls = ["%s-%d" % (wall_name, i % WALLS) for i in range(HALL)]
            await asyncio.gather(*(c.join(w) for c, w in zip(clients, walls)))
            figures["arrive_s"] = time.monotonic() - started
            # the figure: the whole hall connects and joins within 30 s
            assert figures["arrive_s"] < 30, figures
            # every session is held (none refused, none dropped), on its transport
            assert transports(servers) == [HALL - POLLING, POLLING]

            # the speaker asks the room a question: everyone answers at once
            started = time.monotonic()
            replies = await asyncio.gather(
                *(
                    c.call("add to wall", post(w, "answer %d" % i), timeout=ACK_BOUND)
                    for i, (c, w) in enumerate(zip(clients, walls))
                )
            )
            figures["burst_s"] = time.monotonic() - started
            sent = [c.sent_at for c in clients]
            figures["sent_s"] = max(sent) - min(sent)
            refused = [r for r in replies if not r["ok"]]
            assert not refused, refused[:3]
            # "within the same second": from the first post out to the last,
            # under a second (all are gathered at once; the servers' work on
            # the first ones takes CPU from this client's loop on two cores)
            assert figures["sent_s"] < 1.0, figures
            # Generous (about 3 s on this 2-core machine when quiet), because the
            # machine runs other work beside the test and one run took 15 s: the
            # bound catches a server that stalls on the burst, not a slow run.
            assert figures["burst_s"] < ACK_BOUND, figures

            # One session without cookie and one browser in four tabs flood for
            # a few seconds, while others in the hall keep posting at a
            # conference's pace (each of them once).
            tabs = [AioWallClient(urls[t % len(urls)], cookies=cookies) for t in range(TABS)]
            await asyncio.gather(*(tab.connect() for tab in tabs))
            clients += tabs
            await asyncio.gather(*(tab.join(walls[0]) for tab in tabs))
            by_session, by_cookie, after = await in_waves(
                [(clients[1], walls[1], "flood %d" % i) for i in range(40)],
                [(tab, walls[0], "tab flood %d" % i) for i in range(TAB_POSTS) for tab in tabs],
                [(c, w, "second") for c, w in zip(clients[2:], walls[2 : 2 + OTHERS])],
            )
            figures["session_refused"] = refusals_are_rate_limited([r for r, _ in by_session])
            # its socket's 5 in 10 s at most (4, with its answer in the burst)
            assert figures["session_refused"] >= 40 - SOCKET_LIMIT, figures
            figures["cookie_refused"] = refusals_are_rate_limited([r for r, _ in by_cookie])
            # the tabs share one client's limit (four sockets alone would let 20 through)
            assert figures["cookie_refused"] >= TABS * TAB_POSTS - CLIENT_LIMIT, figures
            assert all(r["ok"] for r, _ in after), [r for r, _ in after if not r["ok"]][:3]
            figures["others_s"] = max(seconds for _, seconds in after)
            # Generous for the same reason as above (well under a second when
            # quiet): the flood does not hold anyone else's post back.
            assert figures["others_s"] < 5, figures

            # and a newcomer still gets in
            newcomer = await AioWallClient(urls[-1]).connect()
            clients.append(newcomer)
            await newcomer.join(walls[0])
            assert (await newcomer.post(walls[0], "just arrived"))["ok"]
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    asyncio.run(scenario())
    print(
        "\n%d process(es): %d clients connected in %.1f s, joined by %.1f s; %d posts sent "
        "within %.2f s, all acknowledged by %.2f s; flooders refused: the session %d of 40, "
        "the browser in %d tabs %d of %d; %d others' posts meanwhile acknowledged within %.2f s"
        % (
            processes,
            HALL,
            figures["connect_s"],
            figures["arrive_s"],
            HALL,
            figures["sent_s"],
            figures["burst_s"],
            figures["session_refused"],
            TABS,
            figures["cookie_refused"],
            TABS * TAB_POSTS,
            OTHERS,
            figures["others_s"],
        )
    )
    assert all(requests.get(s.url + "/healthz", timeout=5).status_code == 200 for s in servers)
