"""engine.io heartbeats come from timers under eventlet and gevent (wall/drivers).

The server pings every 25 s and closes a session that has not answered
within 20 s more; these tests hold two raw WebSocket sessions for one full
cycle: the one that answers stays, the one that does not is closed.
"""

import asyncio
import time

import aiohttp
import pytest

pytestmark = pytest.mark.server

PING_INTERVAL, PING_TIMEOUT = 25, 20


async def session(url, answer, log):
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", autoping=False
        )
        opened = time.monotonic()
        await ws.receive_str()  # the engine.io open packet
        await ws.send_str("40/wall,")
        deadline = opened + PING_INTERVAL + PING_TIMEOUT + 3
        while time.monotonic() < deadline:
            try:
                msg = await asyncio.wait_for(ws.receive(), deadline - time.monotonic())
            except TimeoutError:
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                log.append(("closed", time.monotonic() - opened))
                return
            if msg.data == "2":
                log.append(("ping", time.monotonic() - opened))
                if answer:
                    await ws.send_str("3")
        log.append(("open", time.monotonic() - opened))
        await ws.close()


@pytest.mark.heavy  # a long run: make test-heavy (.ci/run)
@pytest.mark.timeout(90)
@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_pings_keep_an_answering_session_and_close_a_silent_one(start_server, async_mode):
    server = start_server(async_mode=async_mode)
    answering, silent = [], []

    async def both():
        await asyncio.gather(
            session(server.url, True, answering), session(server.url, False, silent)
        )

    asyncio.run(both())
    assert answering[0][0] == "ping" and PING_INTERVAL - 1 < answering[0][1] < PING_INTERVAL + 3
    assert answering[-1][0] == "open", answering
    assert silent[0][0] == "ping", silent
    assert silent[-1][0] == "closed", silent
    assert silent[-1][1] < PING_INTERVAL + PING_TIMEOUT + 3, silent
