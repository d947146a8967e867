"""The speed test's echo endpoints, under eventlet and gevent, and WALL_SPEED_TEST=off."""

import asyncio
import json

import aiohttp
import pytest
import requests

pytestmark = pytest.mark.server


async def socketio_echo(url, text):
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(
            url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        )
        await ws.receive_str()
        await ws.send_str("40/speed,")
        opened = await ws.receive_str()
        if not opened.startswith("40/speed,"):
            return opened
        await ws.send_str('42/speed,7["echo",%s]' % json.dumps(text))
        return await ws.receive_str()


async def plain_echo(url, texts):
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url.replace("http", "ws", 1) + "/ws/echo")
        out = []
        for text in texts:
            await ws.send_str(text)
            msg = await ws.receive()
            out.append(msg.data if msg.type == aiohttp.WSMsgType.TEXT else msg.type)
        return out


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_all_echoes_round_trip(start_server, async_mode):
    server = start_server(async_mode=async_mode)
    page = requests.get(server.url + "/speed", timeout=5)
    assert page.status_code == 200
    # cross-origin isolated, for a clock finer than 0.1 ms
    assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert page.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    reply = requests.post(server.url + "/api/echo", json={"data": "ping"}, timeout=5)
    assert reply.status_code == 200 and reply.json()["data"] == "ping"
    assert reply.json()["request_bytes"] > 100  # request line and headers
    assert asyncio.run(socketio_echo(server.url, "héllo")) == '43/speed,7["h\\u00e9llo"]'
    assert asyncio.run(plain_echo(server.url, ["a", "bc" * 100])) == ["a", "bc" * 100]


def test_echo_input_is_checked(start_server):
    server = start_server()
    reply = requests.post(server.url + "/api/echo", json={"data": "x" * 2000}, timeout=5)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid"
    assert requests.post(server.url + "/api/echo", data="nope", timeout=5).status_code == 400


def test_echoes_are_rate_limited(start_server):
    server = start_server(env={"WALL_RATE_LIMITS": "on", "WALL_RATE_LIMIT_ECHO": "3/minute"})
    codes = [
        requests.post(server.url + "/api/echo", json={"data": "x"}, timeout=5).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert '"rate_limited"' in asyncio.run(socketio_echo(server.url, "x"))


def test_speed_test_off_removes_it(start_server):
    server = start_server(env={"WALL_SPEED_TEST": "off"})
    assert requests.get(server.url + "/speed", timeout=5).status_code == 404
    assert requests.post(server.url + "/api/echo", json={"data": "x"}, timeout=5).status_code == 404
    assert asyncio.run(socketio_echo(server.url, "x")).startswith("44/speed,")
    with pytest.raises(aiohttp.WSServerHandshakeError):
        asyncio.run(plain_echo(server.url, ["x"]))
