"""The server's `resync` event: a page whose process fell behind retention.

Two processes share the test Redis and keep only ~50 posts per wall
(WALL_HISTORY=50). The page watches the wall through process 2, which is
frozen (SIGSTOP) while process 1 stores 300 posts. When it thaws, its
stream reader finds that retention trimmed past the last post it delivered,
jumps its position to the newest post and sends `resync` (docs/protocol.md).
The page must re-join with `after`, learn `truncated` and show the wall
afresh: the newest posts Redis keeps, in order, once each, still live.

Why this fails when the page ignores `resync`: after it, process 2 goes on
from the newest post, so no `new post` for the 300 ever reaches the page.
Its feed would stay at the single post shown before the freeze ("seen"),
and the wait for the newest post at the top times out. The freeze is far
shorter than Socket.IO's ping timeout (25 s + 20 s), so the connection does
not drop and a reconnect cannot do the page's work for it: the test records
every state of the status badge and requires it never to leave "live", and
checks on the wire that the `resync` arrived and was answered by a join
with `after` whose ack said `truncated`. Process 2's /metrics must also
count the resync.
"""

import json
import os
import re
import signal
import time

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from ..support.servers import metric
from ..support.wallpage import POSTS, WallPage, id_key, stored

pytestmark = pytest.mark.browser

HISTORY = 50  # WALL_HISTORY of both processes
JOIN_POSTS = 50  # the newest posts a plain join shows (docs/protocol.md)
FLOOD = 300


def socket_events(frames, direction):
    """Socket.IO packets on /wall that the page's WebSocket sent or received.

    Returns [(kind, ack id or None, data)]: kind "2" for an event
    (``42/wall,<id?>["name", {...}]``), "3" for an ack (``43/wall,<id>[{...}]``).
    Engine.io pings, upgrade probes and other namespaces are skipped.
    """
    packets = []
    for sent, text in frames:
        if sent != (direction == "sent") or not isinstance(text, str):
            continue
        match = re.match(r"^4([23])/wall,(\d*)(\[.*)$", text, re.S)
        if match:
            packets.append((match.group(1), match.group(2) or None, json.loads(match.group(3))))
    return packets


def test_resync_after_retention_trimmed_past_the_process(new_context, start_server, wall_name, rdb):
    env = {"WALL_HISTORY": str(HISTORY)}
    one = start_server(env=env)
    two = start_server(env=env)
    api = "%s/api/walls/%s/posts" % (one.url, wall_name)

    # The page's own connection (?shared=0), so that Playwright sees its
    # WebSocket frames; the listener is on before the page loads.
    page = new_context().new_page()
    frames = []  # (sent?, payload), in order

    def on_websocket(ws):
        ws.on("framesent", lambda payload: frames.append((True, payload)))
        ws.on("framereceived", lambda payload: frames.append((False, payload)))

    page.on("websocket", on_websocket)
    page.goto("%s/w/%s?shared=0" % (two.url, wall_name))
    wall = WallPage(page).wait_live()
    assert page.locator("#wall").get_attribute("data-connection") == "own"
    # Upgraded, so that everything from here on travels the recorded socket.
    wall.expect_status(re.compile(r"^live \(WebSocket\)$"))

    with requests.Session() as http:
        http.post(api, json={"username": "ann", "message": "seen"}, timeout=5).raise_for_status()
        wall.wait_for_message("seen")
        assert wall.messages() == ["seen"]
        [seen_id] = wall.ids()
        assert metric(two, "wall_resyncs_total") == 0

        # Every state the badge takes from now on ("live" now).
        page.evaluate(
            """() => {
                const el = document.getElementById('status');
                window.__states = [el.dataset.state];
                new MutationObserver(() => window.__states.push(el.dataset.state))
                    .observe(el, {attributes: true, attributeFilter: ['data-state']});
            }"""
        )
        mark = len(frames)

        pid = two.process.pid
        frozen = time.monotonic()
        os.kill(pid, signal.SIGSTOP)
        try:
            for i in range(FLOOD):
                reply = http.post(
                    api, json={"username": "bob", "message": "flood %03d" % i}, timeout=5
                )
                assert reply.status_code == 201, reply.text
        finally:
            os.kill(pid, signal.SIGCONT)
        frozen = time.monotonic() - frozen
    # Well inside the ping timeout: the connection must survive the freeze.
    assert frozen < 20, "process 2 was frozen %.1f s; the test relies on a short freeze" % frozen

    kept = stored(rdb, wall_name)
    newest = "flood %03d" % (FLOOD - 1)
    assert kept[-1][1]["m"] == newest
    assert len(kept) < FLOOD, "retention did not trim; the test proves nothing"
    shown = min(JOIN_POSTS, len(kept))

    # The page starts afresh: the newest post at the top and as many posts
    # as a plain join shows. A page that ignored the resync would still show
    # ["seen"]; one that ignored `truncated`, "seen" below a silent gap.
    try:
        page.wait_for_function(
            """([selector, newest, n]) => {
                const shown = Array.from(document.querySelectorAll(selector));
                return shown.length === n && shown[0].textContent === newest;
            }""",
            arg=[POSTS + " .message", newest, shown],
            timeout=15_000,
        )
    except PlaywrightTimeoutError:
        messages = wall.messages()
        pytest.fail(
            "15 s after the thaw the page shows %d posts, not the newest %d: %r ... %r"
            % (len(messages), shown, messages[:3], messages[-3:]),
            pytrace=False,
        )
    wall.wait_live()

    ids = wall.ids()
    assert len(ids) == len(set(ids)) == shown, "doubles in the feed"
    assert ids == sorted(ids, key=id_key, reverse=True)
    # Exactly the newest posts Redis keeps, newest first: no gap, no "seen".
    assert ids == [i for i, _ in reversed(kept)][:shown]
    assert wall.messages() == [f["m"] for _, f in reversed(kept)][:shown]
    assert "seen" not in wall.messages()

    # It never went offline: the resync, not a reconnect, did this.
    states = page.evaluate("window.__states")
    assert set(states) == {"live"}, "the connection dropped: %r" % states

    # On the wire: resync received, then a join with `after` = "seen"
    # answered `truncated`, then a plain join for the newest posts.
    received = socket_events(frames[mark:], "received")
    sent = socket_events(frames[mark:], "sent")
    assert ("2", None, ["resync", {"wall": wall_name}]) in received
    joins = [(ack, data[1]) for kind, ack, data in sent if kind == "2" and data[0] == "join"]
    assert len(joins) >= 2, joins
    (after_ack, after_join), (plain_ack, plain_join) = joins[0], joins[1]
    assert after_join == {"wall": wall_name, "after": seen_id}
    assert plain_join == {"wall": wall_name}
    acks = {ack: data[0] for kind, ack, data in received if kind == "3"}
    assert acks[after_ack].get("truncated") is True, acks.get(after_ack)
    assert acks[plain_ack]["ok"] is True
    assert [p["id"] for p in acks[plain_ack]["posts"]] == list(reversed(ids))

    # The server really sent it (counted before the emit).
    assert metric(two, "wall_resyncs_total") >= 1

    # And live delivery goes on from the newest post.
    reply = requests.post(api, json={"username": "ann", "message": "after the resync"}, timeout=5)
    reply.raise_for_status()
    wall.wait_for_message("after the resync")
    assert wall.messages()[:2] == ["after the resync", newest]
    assert len(wall.ids()) == shown + 1
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
