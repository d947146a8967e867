"""A wall made private while people watch it, on two processes, over WebSocket
and long-polling: every watcher is told (``wall updated``), those without the
grant are taken off and cannot re-join until they unlock, and the organisers'
sockets go on reading, posting and liking without the passcode."""

import asyncio

import pytest
import requests

from ..support.aio_client import AioWallClient

pytestmark = pytest.mark.server

PASSCODE = "open sesame"


def api(server, method, path, key=None, **kwargs):
    headers = {"Authorization": "Bearer " + key} if key else {}
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)


async def until(check, what, timeout=10):
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


def told(client):
    return [p["settings"] for name, p in client.events if name == "wall updated"]


@pytest.mark.timeout(90)
def test_a_wall_made_private_tells_its_watchers_and_takes_off_those_without_the_grant(
    start_server, wall_name
):
    one, two = start_server(), start_server()
    key = api(one, "POST", "/api/walls", json={"wall": wall_name}).json()["organizer_key"]
    base = "/api/walls/%s" % wall_name
    first = api(one, "POST", base + "/posts", json={"username": "ann", "message": "before"})
    assert first.status_code == 201

    async def scenario():
        transports = ("websocket", "polling")
        strangers = [AioWallClient(s.url, t) for s in (one, two) for t in transports]
        organisers = [AioWallClient(one.url, "websocket"), AioWallClient(two.url, "polling")]
        everyone = strangers + organisers
        await asyncio.gather(*(c.connect() for c in everyone))
        try:
            await asyncio.gather(*(c.join(wall_name) for c in strangers))
            for organiser in organisers:
                reply = await organiser.call("join", {"wall": wall_name, "key": key})
                assert reply["ok"], reply
            changed = api(
                two,
                "PATCH",
                base + "/settings",
                key,
                json={"visibility": "private", "passcode": PASSCODE},
            )
            assert changed.status_code == 200, changed.text
            await until(
                lambda: all(told(c) for c in everyone), "a watcher was not told of the change"
            )
            for client in everyone:
                assert told(client)[-1]["visibility"] == "private"
                assert "passcode" not in told(client)[-1]
            # after the change: only the organisers see what is posted
            after = api(one, "POST", base + "/posts", key, json={"username": "h", "message": "x"})
            assert after.status_code == 201, after.text
            over_socket = await organisers[1].post(wall_name, "from the organiser's socket")
            assert over_socket["ok"], over_socket
            liked = await organisers[0].call(
                "like", {"wall": wall_name, "id": first.json()["post"]["id"]}
            )
            assert liked["ok"] and liked["likes"] == 1, liked
            new = [after.json()["post"]["id"], over_socket["post"]["id"]]
            await until(lambda: all(o.live == new for o in organisers), "the organisers lost posts")
            # each process delivers the settings entry before the posts that
            # follow it, and had taken the strangers off at that entry
            assert all(s.live == [] for s in strangers), [s.live for s in strangers]
            for stranger in strangers:
                refused = await stranger.call("join", {"wall": wall_name})
                assert refused["ok"] is False and refused["error"] == "forbidden", refused
                refused = await stranger.post(wall_name, "let me in")
                assert refused["error"] == "forbidden", refused
        finally:
            await asyncio.gather(*(c.close() for c in everyone))

    asyncio.run(scenario())
    assert api(one, "GET", base + "/posts").status_code == 403
    unlocked = api(two, "POST", "/w/%s/unlock" % wall_name, json={"passcode": PASSCODE})
    assert unlocked.status_code == 200, unlocked.text
    grant = {"wall_grant_" + wall_name: unlocked.cookies["wall_grant_" + wall_name]}

    async def unlocked_again():
        # the grant opens the wall on both processes, over both transports
        back = [
            AioWallClient(s.url, t, cookies=grant)
            for s in (one, two)
            for t in ("websocket", "polling")
        ]
        await asyncio.gather(*(c.connect() for c in back))
        try:
            acks = await asyncio.gather(*(c.join(wall_name) for c in back))
            assert all(len(a["posts"]) == 3 for a in acks), acks
        finally:
            await asyncio.gather(*(c.close() for c in back))

    asyncio.run(unlocked_again())
