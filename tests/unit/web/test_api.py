"""The HTTP pages and JSON API, in process, against the real test Redis."""

import re
import time

import pytest

from wall import create_app, stop_app
from wall.web.static_urls import StaticUrls

from ...support.helpers import make_config


def post(client, wall="w", **body):
    body.setdefault("username", "ann")
    body.setdefault("message", "hello")
    return client.post("/api/walls/%s/posts" % wall, json=body)


def test_pages(client):
    page = client.get("/")
    assert page.status_code == 200 and b'data-wall="main"' in page.data
    assert b"<script>" not in page.data.replace(b"<script src", b"")  # no inline script
    assert client.get("/w/news").status_code == 200
    moved = client.get("/w/News")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/w/news")
    missing = client.get("/w/not_a wall")
    assert missing.status_code == 404 and b"No such wall" in missing.data
    assert client.get("/w/" + "x" * 41).status_code == 404


def test_static_urls_are_versioned(client):
    page = client.get("/").data.decode()
    match = re.search(r"/static/v/([0-9a-f]{12})/css/wall\.css", page)
    assert match, page
    with client.get(match.group(0)) as cached:
        assert cached.status_code == 200
        assert "max-age=31536000" in cached.headers["Cache-Control"]
    # A module's relative import resolves under the same version.
    with client.get("/static/v/%s/js/post-ids.js" % match.group(1)) as imported:
        assert imported.status_code == 200
    with client.get("/static/css/wall.css") as plain:
        assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")


def test_one_changed_file_changes_every_url(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("one")
    (tmp_path / "b.css").write_text("two")
    urls = StaticUrls(str(tmp_path), recheck_s=0)
    first = urls.version()
    assert urls.version() == first
    (tmp_path / "js" / "a.js").write_text("three")
    assert urls.version() != first


def test_the_static_tree_is_looked_at_once_a_second_at_most(tmp_path):
    # not at every static_url() of every page: that walk made a page cost 25 ms
    (tmp_path / "a.js").write_text("one")
    urls = StaticUrls(str(tmp_path), recheck_s=0.5)
    first = urls.version()
    (tmp_path / "a.js").write_text("two, longer")
    assert urls.version() == first
    time.sleep(0.6)
    assert urls.version() != first


def test_write_then_read(client):
    created = post(client, username=" ann ", message="hi\r\nthere", extra="ignored")
    assert created.status_code == 201
    stored = created.json["post"]
    assert (stored["username"], stored["message"], stored["client_id"]) == (
        "ann",
        "hi\nthere",
        None,
    )
    page = client.get("/api/walls/w/posts").json
    assert page == {"wall": "w", "posts": [stored], "more": False}


def test_idempotent_repeat_is_200_with_the_original(client, rdb):
    first = post(client, client_id="abc")
    again = post(client, client_id="abc", message="changed")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert rdb.xlen("wall:posts:w") == 1


def test_paging(client):
    ids = [post(client, message=str(i)).json["post"]["id"] for i in range(120)]
    newest = client.get("/api/walls/w/posts").json
    assert [p["id"] for p in newest["posts"]] == ids[-50:] and newest["more"]
    seen = [p["id"] for p in newest["posts"]]
    before = seen[0]
    while True:
        page = client.get("/api/walls/w/posts?before=%s&limit=50" % before).json
        seen = [p["id"] for p in page["posts"]] + seen
        if not page["more"]:
            break
        before = page["posts"][0]["id"]
    assert seen == ids
    after = client.get("/api/walls/w/posts?after=%s&limit=100" % ids[9]).json
    assert [p["id"] for p in after["posts"]] == ids[10:110]
    assert after["more"] is True and after["truncated"] is False and after["deleted"] == []


def test_walls_listing(client):
    post(client, wall="a")
    post(client, wall="b")
    walls = client.get("/api/walls").json["walls"]
    assert {w["name"]: w["posts"] for w in walls} == {"a": 1, "b": 1}
    assert all(w["online"] == 0 for w in walls)


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "limit=x", "before=abc", "after=1", "before=1-0&after=1-0"],
)
def test_bad_read_parameters_are_400(client, query):
    reply = client.get("/api/walls/w/posts?" + query)
    assert reply.status_code == 400 and reply.json["error"] == "invalid"
    assert reply.json["message"]


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"data": "not json", "content_type": "application/json"}, "JSON object"),
        ({"json": ["a", "list"]}, "JSON object"),
        ({"json": {"username": "a"}}, "'message'"),
        ({"json": {"username": "a", "message": "\x00"}}, "control"),
        ({"json": {"username": "a\u202e", "message": "x"}}, "direction"),
    ],
)
def test_bad_writes_are_400(client, rdb, kwargs, why):
    reply = client.post("/api/walls/w/posts", **kwargs)
    assert reply.status_code == 400 and reply.json["error"] == "invalid"
    assert why in reply.json["message"]
    assert rdb.keys("wall:posts:*") == []


def test_bad_wall_name_in_api_is_400(client):
    assert post(client, wall="Bad_Name").status_code == 400
    assert client.get("/api/walls/a%20b/posts").status_code == 400


def test_unknown_api_route_is_json_404(client):
    reply = client.get("/api/nothing")
    assert reply.status_code == 404 and reply.json["error"] == "not_found"


def test_body_over_64_kib_is_413(client, rdb):
    reply = client.post(
        "/api/walls/w/posts",
        data='{"username": "a", "message": "%s"}' % ("x" * 70000),
        content_type="application/json",
    )
    assert reply.status_code == 413 and reply.json["error"] == "too_large"
    assert rdb.keys("wall:posts:*") == []


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_rate_limited_is_429_with_retry_after(redis_url):
    app = create_app(make_config(redis_url, RATE_LIMITS=True, RATE_LIMIT_IP="3/minute"))
    client = app.test_client()
    try:
        assert [post(client).status_code for _ in range(3)] == [201] * 3
        reply = post(client)
        assert reply.status_code == 429 and reply.json["error"] == "rate_limited"
        assert 1 <= reply.json["retry_after"] <= 60
    finally:
        stop_app(app)


def test_redis_down_is_503_at_once(redis_server):
    app = create_app(make_config("redis://127.0.0.1:1/0"))
    client = app.test_client()
    try:
        reply = post(client)
        assert reply.status_code == 503 and reply.json["error"] == "unavailable"
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json["status"] == "unavailable"
        read = client.get("/api/walls/w/posts")
        assert read.status_code == 503 and "Traceback" not in read.get_data(as_text=True)
    finally:
        stop_app(app)
