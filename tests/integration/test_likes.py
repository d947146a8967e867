"""Likes from many clients at once, on two processes of one Redis, over
WebSocket and long-polling: every page ends at the exact counts within two
seconds of the last click, the popular order matches them, and watchers get
coalesced updates, not one per click."""

import asyncio
import json
import random

import pytest
import requests

from wall import protocol
from wall.storage import keys

from ..support.aio_client import AioWallClient, _id_key

pytestmark = pytest.mark.server

#: how many cookieless clients end liking each post: two posts tie (the newer
#: comes first), and the last is liked and unliked but ends at none
LONE_LIKES = (6, 6, 12, 17, 0)
POSTS = len(LONE_LIKES)
LONE = 24  # clients without a cookie: each session is a client of its own
PAIRS = 6  # clients with a wall_client cookie, each with a session on both processes
CONVERGED_S = 2.0  # the promise: the exact counts within two seconds


def view(ack, events):
    """What a page shows: the likes of each post, from the version with the highest rev."""
    latest = {p["id"]: (p["rev"], p["likes"]) for p in ack["posts"]}
    for name, payload in events:
        if name == "post updated":
            post = payload["post"]
            if post["rev"] >= latest.get(post["id"], (-1, 0))[0]:
                latest[post["id"]] = (post["rev"], post["likes"])
    return {pid: likes for pid, (_, likes) in latest.items()}


def plans(ids):
    """(process index, transport, cookie or None, actions) per liker, and the counts
    those actions must end at."""
    rng = random.Random(16)
    expected = dict.fromkeys(ids, 0)
    fans = [set(rng.sample(range(LONE), n)) for n in LONE_LIKES]
    likers = []
    for i in range(LONE):
        actions = []
        for j, pid in enumerate(ids):
            if i in fans[j]:
                expected[pid] += 1
                if i % 3 == 0:  # changes its mind, and back
                    actions.append([("like", pid), ("unlike", pid), ("like", pid)])
                else:
                    actions.append([("like", pid), ("like", pid)])  # twice keeps one
            else:
                actions.append([("like", pid), ("unlike", pid)])
        likers.append((i % 2, ("websocket", "polling")[i // 2 % 2], None, actions))
    for k in range(PAIRS):
        liked = [pid for j, pid in enumerate(ids[:-1]) if (j + k) % 3 != 0]
        for pid in liked:
            expected[pid] += 1  # one client, however many of its sessions like it
        for process in (0, 1):
            actions = [[("like", pid)] for pid in liked]
            likers.append((process, ("polling", "websocket")[process], k, actions))
    return likers, expected


async def run(client, actions, seed):
    """One liker: its posts in a random order, each post's actions in order."""
    random.Random(seed).shuffle(actions)
    for steps in actions:
        for event, pid in steps:
            reply = await client.call(event, {"wall": client.wall, "id": pid})
            assert reply["ok"] and reply["id"] == pid, reply
            assert reply["liked"] is (event == "like"), reply


@pytest.mark.timeout(120)
def test_likes_from_many_clients_on_two_processes_end_exact_everywhere(
    start_server, wall_name, rdb
):
    servers = start_server(), start_server()
    ids = []
    for n in range(POSTS):
        reply = requests.post(
            servers[n % 2].url + "/api/walls/%s/posts" % wall_name,
            json={"username": "ann", "message": "question %d" % n},
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        ids.append(reply.json()["post"]["id"])
    cookies = [
        requests.get(servers[0].url + "/w/" + wall_name, timeout=10).cookies["wall_client"]
        for _ in range(PAIRS)
    ]
    likers, expected = plans(ids)
    clicks = sum(len(steps) for *_, actions in likers for steps in actions)

    async def scenario():
        loop = asyncio.get_running_loop()
        watchers = [AioWallClient(s.url, t) for s in servers for t in ("websocket", "polling")]
        clients = []
        for process, transport, cookie, _ in likers:
            jar = {"wall_client": cookies[cookie]} if cookie is not None else None
            client = AioWallClient(servers[process].url, transport, cookies=jar)
            client.wall = wall_name
            clients.append(client)
        everyone = watchers + clients
        await asyncio.gather(*(c.connect() for c in everyone))
        try:
            acks = await asyncio.gather(*(w.join(wall_name) for w in watchers))
            assert all(view(a, []) == dict.fromkeys(ids, 0) for a in acks)
            started = loop.time()
            await asyncio.gather(
                *(run(c, plan[3], n) for n, (c, plan) in enumerate(zip(clients, likers)))
            )
            last_click = loop.time()
            while any(view(a, w.events) != expected for a, w in zip(acks, watchers)):
                late = loop.time() - last_click
                assert late < CONVERGED_S, "not converged %.1f s after the last click: %s != %s" % (
                    late,
                    [view(a, w.events) for a, w in zip(acks, watchers)],
                    expected,
                )
                await asyncio.sleep(0.02)
            # a page that joins afterwards gets the exact counts in its ack
            late_ack = await watchers[3].join(wall_name)
            assert view(late_ack, []) == expected
            return last_click - started, [
                [p for name, p in w.events if name == "post updated"] for w in watchers
            ]
        finally:
            await asyncio.gather(*(c.close() for c in everyone))

    burst_s, updates = asyncio.run(scenario())

    # the popular order, from either process: most liked first, then newest
    popular = sorted(ids, key=lambda pid: (expected[pid], _id_key(pid)), reverse=True)
    for server in servers:
        page = requests.get(
            server.url + "/api/walls/%s/posts?sort=popular" % wall_name, timeout=10
        ).json()
        assert [p["id"] for p in page["posts"]] == popular
        assert {p["id"]: p["likes"] for p in page["posts"]} == expected

    # coalesced: one stream entry per flush, flushes at least LIKES_FLUSH_MS apart
    # on the wall across both processes, and each watcher got each flushed post once
    flushes = [e for e in rdb.xrange(keys.posts(wall_name)) if e[1].get("t") == "likes"]
    times = [_id_key(entry_id)[0] for entry_id, _ in flushes]
    assert all(b - a >= protocol.LIKES_FLUSH_MS - 5 for a, b in zip(times, times[1:])), times
    flushed = sum(len(json.loads(fields["j"])) for _, fields in flushes)
    bound = POSTS * (int(burst_s * 1000 / protocol.LIKES_FLUSH_MS) + 1 + 4)
    for got in updates:
        assert len(got) == flushed, (len(got), flushed)
        assert len(got) <= bound, (len(got), bound, burst_s)
    assert flushed * 2 < clicks, (flushed, clicks, burst_s)
