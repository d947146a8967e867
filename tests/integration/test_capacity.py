"""Connection ceiling: past eventlet's default 1024, and a clear 503 past the soft limit."""

import asyncio
import os
import subprocess

import pytest
import requests

from ..support.aio_client import AioWallClient, open_websockets

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("enough_files")]


@pytest.mark.heavy  # thousands of sockets: make test-heavy (.ci/run)
@pytest.mark.timeout(180)
def test_one_process_holds_3000_websockets_and_still_serves(start_server, wall_name):
    server = start_server()

    async def scenario():
        clients = await open_websockets(server.url, 3000)
        try:
            assert sum(c.connected for c in clients) == 3000
            fresh = await AioWallClient(server.url, "websocket", "127.0.20.1").connect()
            clients.append(fresh)
            await fresh.join(wall_name)
            reply = await fresh.post(wall_name, "still serving")
            assert reply["ok"]
            text = requests.get(server.url + "/metrics", timeout=10).text
            line = next(
                x
                for x in text.splitlines()
                if x.startswith('wall_connections{transport="websocket"}')
            )
            assert float(line.split()[-1]) >= 3001
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())


def test_past_the_soft_limit_new_clients_get_a_clear_503(start_server, wall_name):
    server = start_server(env={"WALL_MAX_CONNECTIONS": "20"})

    async def scenario():
        clients = await open_websockets(server.url, 20)
        try:
            refused = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
            assert refused.status_code == 503
            assert refused.json()["error"] == "unavailable" and refused.headers["Retry-After"]
            # plain HTTP keeps working, and so do the sessions already open
            assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
            await clients[0].join(wall_name)
            assert (await clients[0].post(wall_name, "inside"))["ok"]
            await clients[1].close()
            await asyncio.sleep(0.5)
            again = await AioWallClient(server.url, "polling", "127.0.30.1").connect()
            clients.append(again)
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())


def test_sigterm_drains(start_server, wall_name):
    """/healthz says draining, sessions are closed at the engine.io level, exit 0."""
    server = start_server()

    async def scenario():
        clients = [
            await AioWallClient(server.url, t, "127.0.40.%d" % i).connect()
            for i, t in enumerate(["websocket", "polling"], 1)
        ]
        for c in clients:
            await c.join(wall_name)
        server.process.send_signal(15)
        await asyncio.sleep(0.2)
        health = requests.get(server.url + "/healthz", timeout=5)
        assert health.status_code == 503 and health.json()["status"] == "draining"
        refused = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
        assert refused.status_code == 503
        await asyncio.sleep(1.5)
        assert not any(c.connected for c in clients)
        await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())
    assert server.process.wait(15) == 0


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_the_listening_socket_queues_a_room_reconnecting_at_once(start_server, async_mode):
    """eventlet listens with a backlog of 50 unless told: the 51st SYN of a burst waits 1-15 s."""
    from wall.drivers import LISTEN_BACKLOG

    server = start_server(async_mode=async_mode)
    out = subprocess.run(
        ["ss", "-Hltn", "sport = :%d" % server.port],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.split()
    # For a listening socket, ss shows the accept queue's limit as Send-Q.
    with open("/proc/sys/net/core/somaxconn") as f:
        somaxconn = int(f.read())
    assert int(out[2]) == min(LISTEN_BACKLOG, somaxconn) > 50, out


@pytest.mark.timeout(120)
def test_under_gevent_an_open_file_limit_is_a_clear_503_not_a_500(start_server):
    """Past the open-file limit a gevent handshake failed inside gevent's
    server with a 500. The gate admits only what the limit leaves room for:
    one file per WebSocket, as simple-websocket's duplicate of the socket is
    the only one left open (two would admit only half of these)."""
    from wall.serve import sessions_within

    nofile = 800
    server = start_server(
        async_mode="gevent",
        env={"WALL_TEST_NOFILE": str(nofile)},
        script=os.path.join(os.path.dirname(__file__), "..", "support", "low_file_limit.py"),
    )
    admitted = sessions_within(nofile, 1)
    errors = []

    async def scenario():
        clients, refused = [], 0
        for start in range(0, admitted + 96, 40):
            group = [
                AioWallClient(server.url, "websocket", "127.0.50.%d" % (1 + i % 250))
                for i in range(start, start + 40)
            ]
            results = await asyncio.gather(
                *(c.connect(timeout=20) for c in group), return_exceptions=True
            )
            for client, result in zip(group, results):
                if isinstance(result, Exception):
                    errors.append(repr(result))
                    await client.close()
                else:
                    clients.append(client)
        try:
            reply = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
            refused = reply.status_code
            assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        finally:
            await asyncio.gather(*(c.close() for c in clients))
        return len(clients), refused

    held, refused = asyncio.run(scenario())
    log = server.log(tail=10**7)
    assert "Too many open files" not in log, log[-2000:]
    assert held == admitted and refused == 503, (held, admitted, errors[:3])
    assert all("503" in e for e in errors), errors[:3]
    assert "admitting at most %d sessions" % admitted in log
