"""Likes and the popular order, the QR code, and private and unlisted walls,
through the API and the /wall namespace, in process on the real test Redis."""

import io
import json
import threading
import time

import pytest
from PIL import Image

from wall import create_app, socketio, stop_app
from wall.domain import get_walls
from wall.storage import keys

from ...support.helpers import make_config, wait_for
from .test_organizers import ADMIN, Inbox, ack, bearer, create, post, watcher

NS = "/wall"


@pytest.fixture
def app(redis_url):
    app = create_app(make_config(redis_url, ADMIN_TOKEN=ADMIN))
    yield app
    stop_app(app)


def like(sc, pid, wall="ev", event="like"):
    return ack(sc, event, {"wall": wall, "id": pid})


# -- likes ---------------------------------------------------------------------------


def test_one_like_per_client_and_the_counts_converge_on_every_page(app, client):
    ids = [post(client, message="q%d" % i).json["post"]["id"] for i in range(3)]
    viewer, inbox = watcher(app)
    fans = [socketio.test_client(app, namespace=NS) for _ in range(5)]
    for n, fan in enumerate(fans):
        for pid in ids[: n % 3 + 1]:
            reply = like(fan, pid)
            assert reply["ok"] and reply["liked"] is True and reply["id"] == pid
    assert like(fans[0], ids[0])["likes"] == 5  # liking twice keeps one
    assert like(fans[0], ids[0], event="unlike") == {
        "ok": True,
        "id": ids[0],
        "likes": 4,
        "liked": False,
    }

    def newest(updates):
        latest = {}
        for update in updates:
            post_ = update["post"]
            if post_["rev"] >= latest.get(post_["id"], {"rev": -1})["rev"]:
                latest[post_["id"]] = post_
        return {pid: p["likes"] for pid, p in latest.items()}

    expected = {ids[0]: 4, ids[1]: 3, ids[2]: 1}
    wait_for(
        lambda: newest(inbox.of("post updated")) == expected,
        timeout=3,
        message="every count exact within two seconds",
    )
    # coalesced: far fewer updates than clicks (12 likes and an unlike)
    assert len(inbox.of("post updated")) < 13
    joined = ack(socketio.test_client(app, namespace=NS), "join", {"wall": "ev"})
    assert {p["id"]: p["likes"] for p in joined["posts"]} == expected
    assert all(p["rev"] >= 1 for p in joined["posts"])


def test_the_popular_order_follows_the_counts_then_the_newest(app, client):
    ids = [post(client, message="m%d" % i).json["post"]["id"] for i in range(5)]
    fans = [socketio.test_client(app, namespace=NS) for _ in range(3)]
    for fan in fans:
        like(fan, ids[1])
    for fan in fans[:2]:
        like(fan, ids[3])
        like(fan, ids[0])
    popular = client.get("/api/walls/ev/posts?sort=popular&limit=4").json["posts"]
    assert [p["id"] for p in popular] == [ids[1], ids[3], ids[0], ids[4]]
    assert [p["likes"] for p in popular] == [3, 2, 2, 0]
    assert client.get("/api/walls/ev/posts?sort=loudest").status_code == 400


def test_pending_hidden_and_unknown_posts_cannot_be_liked(app, client):
    key = create(client)
    shown = post(client).json["post"]
    client.patch("/api/walls/ev/settings", headers=bearer(key), json={"moderation": "approve"})
    held = post(client, message="held").json["post"]
    fan = socketio.test_client(app, namespace=NS)
    assert like(fan, held["id"])["error"] == "not_found"
    assert like(fan, "1-0")["error"] == "not_found"
    assert like(fan, "not an id")["error"] == "invalid"
    assert like(fan, shown["id"])["ok"]
    client.post("/api/walls/ev/posts/%s/hide" % shown["id"], headers=bearer(key))
    assert like(fan, shown["id"])["error"] == "not_found"
    assert client.get("/api/walls/ev/posts?sort=popular").json["posts"] == []


def test_likes_never_count_against_retention(redis_url):
    app = create_app(make_config(redis_url, HISTORY=5))
    try:
        client = app.test_client()
        ids = [post(client, message=str(i)).json["post"]["id"] for i in range(5)]
        fans = [socketio.test_client(app, namespace=NS) for _ in range(3)]
        for _ in range(5):  # many flushes' worth of likes
            for fan in fans:
                for pid in ids:
                    like(fan, pid, event="like")
                    like(fan, pid, event="unlike")
            time.sleep(0.3)
        kept = client.get("/api/walls/ev/posts").json["posts"]
        assert [p["id"] for p in kept] == ids
    finally:
        stop_app(app)


def test_a_page_that_was_away_gets_the_new_counts(app, client, rdb):
    first = post(client, message="first").json["post"]
    sc, _ = watcher(app)
    newest = ack(sc, "join", {"wall": "ev"})["posts"][-1]["id"]
    fan = socketio.test_client(app, namespace=NS)
    like(fan, first["id"])
    wait_for(
        lambda: any(f.get("t") == "likes" for _, f in rdb.xrange("wall:posts:ev")),
        message="the likes flushed to the stream",
    )
    sc_back = socketio.test_client(app, namespace=NS)
    back = ack(sc_back, "join", {"wall": "ev", "after": newest})
    # in the ack if this process's reader had delivered the flush, else live right after
    seen = {p["id"]: p["likes"] for p in back["posts"]}
    inbox = Inbox(sc_back)
    wait_for(
        lambda: (
            seen.update({u["post"]["id"]: u["post"]["likes"] for u in inbox.of("post updated")})
            or seen == {first["id"]: 1}
        ),
        message="the new count, in the ack or right after it",
    )


# -- the QR code ------------------------------------------------------------------------


def decode(png):
    import zxingcpp

    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_the_qr_code_is_the_wall_s_address_as_the_browser_sees_it(redis_url):
    app = create_app(make_config(redis_url, PROXY_FIX=1))
    try:
        client = app.test_client()
        direct = client.get("/w/ev/qr.png")
        assert direct.mimetype == "image/png"
        assert decode(direct.data) == ["http://localhost/w/ev"]
        proxied = client.get(
            "/w/ev/qr.png",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "wall.example.org"},
        )
        assert decode(proxied.data) == ["https://wall.example.org/w/ev"]
        svg = client.get("/w/ev/qr.svg")
        assert svg.mimetype == "image/svg+xml" and b"<path" in svg.data
        assert b"<script" not in svg.data
        assert client.get("/w/ev/qr.gif").status_code == 404
        assert client.get("/w/ev/present").status_code == 200
    finally:
        stop_app(app)


# -- private and unlisted walls ------------------------------------------------------------


def test_unlisted_and_private_walls_are_left_out_of_the_list(client):
    # GET /api/walls is also the switcher's list (static/js/switcher.js)
    keys_of = {}
    for name in ("listed", "unl", "secret"):
        keys_of[name] = create(client, name)
        post(client, name)
    names = [w["name"] for w in client.get("/api/walls").json["walls"]]
    assert {"listed", "unl", "secret"} <= set(names)
    client.patch(
        "/api/walls/unl/settings", headers=bearer(keys_of["unl"]), json={"visibility": "unlisted"}
    )
    client.patch(
        "/api/walls/secret/settings",
        headers=bearer(keys_of["secret"]),
        json={"visibility": "private", "passcode": "open sesame"},
    )
    names = [w["name"] for w in client.get("/api/walls").json["walls"]]
    assert "unl" not in names and "secret" not in names and "listed" in names
    assert client.get("/api/walls/unl/posts").status_code == 200  # open to anyone with the link
    assert client.get("/api/walls/secret/posts").status_code == 403
    # listed again once public
    client.patch(
        "/api/walls/secret/settings",
        headers=bearer(keys_of["secret"]),
        json={"visibility": "public"},
    )
    assert "secret" in [w["name"] for w in client.get("/api/walls").json["walls"]]


def test_a_private_wall_needs_its_passcode_to_read_and_post(app, client):
    key = create(client)
    post(client, message="before")
    refused = client.patch(
        "/api/walls/ev/settings", headers=bearer(key), json={"visibility": "private"}
    )
    assert refused.status_code == 400 and "passcode" in refused.json["message"]
    ok = client.patch(
        "/api/walls/ev/settings",
        headers=bearer(key),
        json={"visibility": "private", "passcode": "open sesame"},
    )
    assert ok.json["passcode_set"] is True and "passcode" not in ok.json
    stranger = app.test_client()
    assert stranger.get("/api/walls/ev/posts").status_code == 403
    assert stranger.get("/api/walls/ev/settings").json == {"wall": "ev", "visibility": "private"}
    assert post(stranger, message="no").status_code == 403
    sc = socketio.test_client(app, namespace=NS, flask_test_client=stranger)
    assert ack(sc, "join", {"wall": "ev"})["error"] == "forbidden"
    assert (
        ack(sc, "add to wall", {"wall": "ev", "username": "a", "message": "m"})["error"]
        == "forbidden"
    )
    wrong = stranger.post("/w/ev/unlock", json={"passcode": "guess"})
    assert wrong.status_code == 403
    unlocked = stranger.post("/w/ev/unlock", json={"passcode": "open sesame"})
    assert unlocked.status_code == 200 and "wall_grant_ev=" in unlocked.headers["Set-Cookie"]
    assert stranger.get("/api/walls/ev/posts").status_code == 200
    assert post(stranger, message="yes").status_code == 201
    granted = socketio.test_client(app, namespace=NS, flask_test_client=stranger)
    assert ack(granted, "join", {"wall": "ev"})["ok"]
    # the organiser key and the operator need no passcode
    assert client.get("/api/walls/ev/posts", headers=bearer(key)).status_code == 200
    assert client.get("/api/walls/ev/posts", headers=bearer(ADMIN)).status_code == 200
    organiser = socketio.test_client(app, namespace=NS)
    assert ack(organiser, "join", {"wall": "ev", "key": key})["ok"]


def test_an_organiser_socket_posts_and_likes_on_a_private_wall_without_the_passcode(app, client):
    key = create(client)
    pid = post(client).json["post"]["id"]
    client.patch(
        "/api/walls/ev/settings",
        headers=bearer(key),
        json={"visibility": "private", "passcode": "open sesame"},
    )
    organiser = socketio.test_client(app, namespace=NS)  # no grant cookie
    assert ack(organiser, "join", {"wall": "ev", "key": key})["ok"]
    posted = ack(organiser, "add to wall", {"wall": "ev", "username": "host", "message": "hi"})
    assert posted["ok"], posted
    liked = like(organiser, pid)
    assert liked["ok"] and liked["likes"] == 1, liked
    assert like(organiser, pid, event="unlike")["likes"] == 0
    # the key counts on the wall it was given for, and while the socket is on it
    assert ack(organiser, "leave", {"wall": "ev"})["ok"]
    assert like(organiser, pid)["error"] == "forbidden"
    stranger = socketio.test_client(app, namespace=NS)
    assert ack(stranger, "join", {"wall": "ev"})["error"] == "forbidden"
    assert like(stranger, pid)["error"] == "forbidden"


def test_a_new_passcode_sends_watchers_without_it_away(app, client):
    key = create(client)
    client.patch(
        "/api/walls/ev/settings",
        headers=bearer(key),
        json={"visibility": "private", "passcode": "first one"},
    )
    fan = app.test_client()
    fan.post("/w/ev/unlock", json={"passcode": "first one"})
    sc = socketio.test_client(app, namespace=NS, flask_test_client=fan)
    assert ack(sc, "join", {"wall": "ev"})["ok"]
    inbox = Inbox(sc)
    organiser, organiser_inbox = watcher(app, key=key)
    client.patch("/api/walls/ev/settings", headers=bearer(key), json={"passcode": "second one"})
    told = wait_for(lambda: inbox.of("wall updated"))
    assert told[-1]["settings"]["visibility"] == "private"
    assert "_grant" not in told[-1]["settings"]
    pid = client.post(
        "/api/walls/ev/posts", headers=bearer(key), json={"username": "host", "message": "after"}
    ).json
    # the old grant no longer reads; the organiser still sees the wall
    assert fan.get("/api/walls/ev/posts").status_code == 403
    time.sleep(0.3)
    assert inbox.of("new post") == [], "a watcher without the new grant still got posts"
    assert wait_for(lambda: organiser_inbox.of("new post"))
    assert pid


def test_the_settings_entry_is_the_settings_as_stored(app, client):
    # concurrent changes: each stream entry is made from the hash as its
    # change left it, so the last one is the settings as they are
    key = create(client)
    changes = [{"title": "t%d" % i} for i in range(10)] + [{"slow_mode_s": i} for i in range(10)]
    errors = []

    def patch(body):
        reply = app.test_client().patch("/api/walls/ev/settings", headers=bearer(key), json=body)
        if reply.status_code != 200:
            errors.append(reply.json)

    threads = [threading.Thread(target=patch, args=(c,)) for c in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rdb = app.extensions["wall.storage"].redis
    last = [e for e in rdb.xrange(keys.posts("ev")) if e[1].get("t") == "settings"][-1]
    entry = json.loads(last[1]["j"])
    public = client.get("/api/walls/ev/settings").json
    assert {k: v for k, v in entry.items() if not k.startswith("_")} == public


def test_a_wall_made_again_has_none_of_the_old_grants(app, client):
    key = create(client)
    client.patch(
        "/api/walls/ev/settings",
        headers=bearer(key),
        json={"visibility": "private", "passcode": "open sesame"},
    )
    fan = app.test_client()
    assert fan.post("/w/ev/unlock", json={"passcode": "open sesame"}).status_code == 200
    assert fan.get("/api/walls/ev/posts").status_code == 200
    assert client.delete("/api/walls/ev", headers=bearer(key)).status_code in (200, 204)
    key = create(client)
    client.patch(
        "/api/walls/ev/settings",
        headers=bearer(key),
        json={"visibility": "private", "passcode": "another one"},
    )
    assert fan.get("/api/walls/ev/posts").status_code == 403


def test_a_like_sees_a_wall_made_private_by_another_process(app, client):
    key = create(client)
    pid = post(client).json["post"]["id"]
    sc = socketio.test_client(app, namespace=NS)
    assert ack(sc, "like", {"wall": "ev", "id": pid})["ok"]  # this process caches "public"
    # another process makes it private: the store alone, this process's cache untouched
    walls = get_walls(app)
    assert walls.cached("ev").visibility == "public"
    walls.store.update("ev", {"visibility": "private", "passcode": "x" * 64}, "salt")
    assert walls.cached("ev").visibility == "public"
    refused = ack(sc, "unlike", {"wall": "ev", "id": pid})
    assert refused["ok"] is False and refused["error"] == "forbidden"
    assert key


@pytest.mark.parametrize("value", [0, False, [], 1234])
def test_a_passcode_that_is_not_a_string_is_invalid(client, value):
    key = create(client)
    reply = client.patch("/api/walls/ev/settings", headers=bearer(key), json={"passcode": value})
    assert reply.status_code == 400 and reply.json["error"] == "invalid"


def test_null_clears_the_title_and_the_passcode(client):
    key = create(client, title="A title")
    patch = lambda body: client.patch(  # noqa: E731
        "/api/walls/ev/settings", headers=bearer(key), json=body
    )
    assert patch({"passcode": "open sesame"}).json["passcode_set"] is True
    cleared = patch({"title": None, "passcode": None}).json
    assert cleared["title"] == "" and cleared["passcode_set"] is False
