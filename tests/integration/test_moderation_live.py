"""Moderation across two processes, over WebSocket and long-polling: settings,
bans and approvals made on one process hold on the other at once, and every
watcher sees the same changes in the same order."""

import asyncio

import pytest
import requests

from ..support.aio_client import AioWallClient

pytestmark = pytest.mark.server


def api(server, method, path, key=None, **kwargs):
    headers = {"Authorization": "Bearer " + key} if key else {}
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)


def test_moderation_made_on_one_process_holds_on_the_other(start_server, wall_name):
    one, two = start_server(), start_server()
    created = api(one, "POST", "/api/walls", json={"wall": wall_name})
    key = created.json()["organizer_key"]
    base = "/api/walls/%s" % wall_name

    async def scenario():
        watchers = [AioWallClient(s.url, t) for s in (one, two) for t in ("websocket", "polling")]
        await asyncio.gather(*(w.connect() for w in watchers))
        try:
            acks = await asyncio.gather(*(w.join(wall_name) for w in watchers))
            assert all(a["settings"]["moderation"] == "open" for a in acks)
            # settings changed on one process: the next post on the other sees them
            api(one, "PATCH", base + "/settings", key, json={"moderation": "approve"})
            held = await watchers[3].post(wall_name, "held on two")
            assert held["ok"] and held["post"]["status"] == "pending", held
            api(two, "PATCH", base + "/settings", key, json={"moderation": "closed"})
            closed = await watchers[0].post(wall_name, "closed on one")
            assert closed["error"] == "closed", closed
            api(one, "PATCH", base + "/settings", key, json={"moderation": "open"})
            shown = await watchers[0].post(wall_name, "shown")
            assert shown["post"]["status"] == "visible"
            # approve on two, pin on one, hide on two
            api(two, "POST", base + "/posts/%s/approve" % held["post"]["id"], key)
            api(one, "POST", base + "/posts/%s/pin" % held["post"]["id"], key)
            api(two, "POST", base + "/posts/%s/hide" % shown["post"]["id"], key)
            expected = [shown["post"]["id"], held["post"]["id"]]
            deadline = asyncio.get_running_loop().time() + 15
            while any(w.live != expected for w in watchers) or any(
                not [e for e in w.events if e[0] == "post deleted"] for w in watchers
            ):
                assert asyncio.get_running_loop().time() < deadline, [w.live for w in watchers]
                await asyncio.sleep(0.05)
            for w in watchers:
                kinds = [name for name, _ in w.events if name != "online"]
                assert kinds == ["wall updated"] * 3 + ["post updated", "post deleted"], kinds
            # a ban made on one process stops the author on the other
            api(one, "POST", base + "/bans", key, json={"post_id": held["post"]["id"]})
            refused = await watchers[3].post(wall_name, "after the ban")
            assert refused["error"] == "banned", refused
            assert (await watchers[2].post(wall_name, "someone else"))["ok"]
        finally:
            await asyncio.gather(*(w.close() for w in watchers))

    asyncio.run(scenario())
