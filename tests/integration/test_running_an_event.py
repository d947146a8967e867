"""Running an event across two processes on one Redis, over WebSocket and
long-polling: a client on one process, the organiser's REST calls on the
other. The word filter, slow mode, bans by cookie and by address, authors
taking back their posts, and wrong or missing organiser keys all hold on
the process the organiser did not talk to."""

import asyncio
import os
import time

import pytest
import requests

from deploy.launch import stop_all

from ..support.aio_client import AioWallClient
from ..support.servers import ServerProcess

pytestmark = pytest.mark.server

TRANSPORTS = ["websocket", "polling"]
SHORT_WINDOW = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "support", "short_author_window.py"
)
AUTHOR_WINDOW_S = 3

BLOCKLIST = ["spam", "café", "buy now", "straße"]
# (text, held): driven through `add to wall` on the process the filter was not set on
FILTER_TABLE = [
    ("this is SPAM", True),  # case
    ("Cafe time", True),  # accents, either way round
    ("CAFÉ au lait", True),
    ("spammer here", False),  # whole words only
    ("antispam", False),
    ("ｓｐａｍ", True),  # full-width look-alikes (NFKC)
    ("please BUY   now", True),  # a phrase, any white space
    ("buy, now", False),
    ("STRASSE", True),  # case folding
]


@pytest.fixture(scope="module")
def pair(redis_server, tmp_path_factory):
    """Two processes on the test Redis for the whole file (starting them is most of
    its time; each test has walls of its own), with a short author window."""
    env = {"WALL_TEST_AUTHOR_WINDOW_S": str(AUTHOR_WINDOW_S)}
    log_dir = str(tmp_path_factory.mktemp("event"))
    servers = [ServerProcess(redis_server.url, log_dir, env=env, script=SHORT_WINDOW)]
    servers.append(ServerProcess(redis_server.url, log_dir, env=env, script=SHORT_WINDOW))
    try:
        for server in servers:
            server.start(wait=False)
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        stop_all([s for s in servers if s.process is not None])


def api(server, method, path, key=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if key:
        headers["Authorization"] = "Bearer " + key
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)


def create(server, wall):
    reply = api(server, "POST", "/api/walls", json={"wall": wall})
    assert reply.status_code == 201, reply.text
    return reply.json()["organizer_key"]


def cookie_from_a_page(server):
    """A browser's ``wall_client`` cookie: every page gives one."""
    return {"wall_client": requests.get(server.url + "/", timeout=10).cookies["wall_client"]}


async def wait_until(predicate, what, timeout=10):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for " + what
        await asyncio.sleep(0.05)


def scenario(clients, body):
    """Run ``body()`` with ``clients`` connected, closing them however it ends."""

    async def run():
        await asyncio.gather(*(c.connect() for c in clients))
        try:
            await body()
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(run())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_filter_slow_mode_and_keys_hold_on_the_other_process(pair, wall_name, transport):
    one, two = pair
    key = create(one, wall_name)
    base = "/api/walls/%s" % wall_name
    poster, slow = AioWallClient(two.url, transport), AioWallClient(two.url, transport)
    organiser = AioWallClient(one.url, transport)

    async def body():
        await poster.join(wall_name)
        forbidden = await organiser.call("join", {"wall": wall_name, "key": "wk_wrong"})
        assert forbidden["ok"] is False and forbidden["error"] == "forbidden", forbidden
        assert (await organiser.call("join", {"wall": wall_name, "key": key}))["ok"]
        changed = api(one, "PATCH", base + "/settings", key, json={"blocklist": BLOCKLIST})
        assert changed.status_code == 200, changed.text
        held, shown = [], []
        for text, caught in FILTER_TABLE:
            ack = await poster.post(wall_name, text)
            assert ack["ok"], (text, ack)
            assert ack["post"]["status"] == ("pending" if caught else "visible"), (text, ack)
            (held if caught else shown).append(ack["post"]["id"])
        # held for the queue: the organiser sees them, watchers do not
        pending = lambda: [e["post"]["id"] for n, e in organiser.events if n == "post pending"]  # noqa: E731
        await wait_until(lambda: pending() == held, "post pending on the organiser's socket")
        await wait_until(lambda: poster.live == shown, "the visible posts, and only them")
        queue = api(one, "GET", base + "/queue", key).json()["posts"]
        assert [p["id"] for p in queue] == held
        api(one, "PATCH", base + "/settings", key, json={"blocklist_action": "reject"})
        refused = await poster.post(wall_name, "more SPAM")
        assert refused["ok"] is False and refused["error"] == "rejected", refused
        assert (await poster.post(wall_name, "a fine question"))["ok"]
        # slow mode, set on one, on a client of two
        api(one, "PATCH", base + "/settings", key, json={"slow_mode_s": 30})
        assert (await slow.post(wall_name, "first"))["post"]["status"] == "visible"
        again = await slow.post(wall_name, "second")
        assert again["ok"] is False and again["error"] == "rate_limited", again
        assert 25 <= again["retry_after"] <= 30, again

    scenario([poster, slow, organiser], body)
    # the key made on one: missing, wrong, another wall's, and right, on two
    other_key = create(one, wall_name + "-b")
    assert api(two, "GET", base + "/queue").status_code == 401
    assert api(two, "PATCH", base + "/settings", json={"moderation": "closed"}).status_code == 401
    for wrong in ("wk_" + "0" * 32, other_key):
        reply = api(two, "PATCH", base + "/settings", wrong, json={"moderation": "closed"})
        assert reply.status_code == 403 and reply.json()["error"] == "forbidden", reply.text
    assert api(two, "GET", base + "/settings").json()["moderation"] == "open"
    assert api(two, "GET", base + "/queue", key).status_code == 200


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bans_by_cookie_and_by_address_hold_on_the_other_process(pair, wall_name, transport):
    one, two = pair
    key = create(one, wall_name)
    base = "/api/walls/%s" % wall_name
    cookie = cookie_from_a_page(one)  # it verifies on two: one SECRET_KEY
    ann = AioWallClient(two.url, transport, local_addr="127.0.0.2", cookies=cookie)
    ann_again = AioWallClient(two.url, transport, local_addr="127.0.0.4", cookies=cookie)
    bob = AioWallClient(two.url, transport, local_addr="127.0.0.2")  # same address, no cookie
    carl = AioWallClient(two.url, transport, local_addr="127.0.0.3")
    dave = AioWallClient(two.url, transport, local_addr="127.0.0.3")  # behind carl's address

    async def body():
        mine = (await ann.post(wall_name, "from ann"))["post"]
        banned = api(one, "POST", base + "/bans", key, json={"post_id": mine["id"]})
        assert banned.status_code == 201 and banned.json()["ban"]["scope"] == "client"
        # the cookie is banned, on every connection and address it comes from
        for client in (ann, ann_again):
            refused = await client.post(wall_name, "again")
            assert refused["ok"] is False and refused["error"] == "banned", refused
        message = {"username": "ann", "message": "by REST"}
        by_rest = api(two, "POST", base + "/posts", json=message, cookies=cookie)
        assert by_rest.status_code == 403 and by_rest.json()["error"] == "banned"
        assert (await bob.post(wall_name, "bob, same address"))["ok"]
        # by address: everyone behind it
        theirs = (await carl.post(wall_name, "from carl"))["post"]
        reply = api(
            one, "POST", base + "/bans", key, json={"post_id": theirs["id"], "scope": "address"}
        )
        assert reply.status_code == 201 and reply.json()["ban"]["scope"] == "address"
        for client in (carl, dave):
            refused = await client.post(wall_name, "after the ban")
            assert refused["ok"] is False and refused["error"] == "banned", refused
        assert (await bob.post(wall_name, "bob, another address"))["ok"]
        # lifted on one: ann posts again on two
        bans = api(one, "GET", base + "/bans", key).json()["bans"]
        lift = [b["id"] for b in bans if b["post_id"] == mine["id"]]
        assert api(one, "DELETE", base + "/bans/" + lift[0], key).status_code == 200
        assert (await ann.post(wall_name, "back"))["ok"]

    scenario([ann, ann_again, bob, carl, dave], body)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_authors_take_back_posts_on_the_other_process_within_the_window(pair, wall_name, transport):
    one, two = pair
    key = create(one, wall_name)
    path = "/api/walls/%s/posts/" % wall_name
    cookie = cookie_from_a_page(two)
    ann = AioWallClient(two.url, transport, cookies=cookie)

    async def body():
        await ann.join(wall_name)
        late = await ann.post(wall_name, "taken back too late")
        posted_late = time.monotonic()
        by_key, by_cookie, kept = [await ann.post(wall_name, m) for m in ("k", "c", "kept")]
        with_key = {"X-Author-Key": by_key["author_key"]}
        gone = api(one, "DELETE", path + by_key["post"]["id"], headers=with_key)
        assert gone.status_code == 200, gone.text
        assert api(one, "DELETE", path + by_cookie["post"]["id"], cookies=cookie).status_code == 200
        # not the author: a wrong key, another browser's cookie, nothing at all
        target = path + kept["post"]["id"]
        assert api(one, "DELETE", target, headers={"X-Author-Key": "0" * 32}).status_code == 403
        assert api(one, "DELETE", target, cookies=cookie_from_a_page(one)).status_code == 403
        assert api(one, "DELETE", target).status_code == 401
        deleted = lambda: [e["id"] for n, e in ann.events if n == "post deleted"]  # noqa: E731
        await wait_until(
            lambda: deleted() == [by_key["post"]["id"], by_cookie["post"]["id"]],
            "post deleted for both, on the author's process",
        )
        await asyncio.sleep(max(0, posted_late + AUTHOR_WINDOW_S + 0.5 - time.monotonic()))
        target = path + late["post"]["id"]
        too_late = api(one, "DELETE", target, headers={"X-Author-Key": late["author_key"]})
        assert too_late.status_code == 403 and "within" in too_late.json()["message"]
        assert api(one, "DELETE", target, cookies=cookie).status_code == 403
        assert api(one, "DELETE", target, key).status_code == 200  # the organiser, any time

    scenario([ann], body)
