"""The operator's DELETE of a post with WALL_ADMIN_TOKEN, and its `post deleted` event."""

import pytest

from wall import create_app, socketio, stop_app

from ...support.helpers import make_config, wait_for

TOKEN = "s3cret-moderator-token"


@pytest.fixture
def app(redis_url):
    app = create_app(make_config(redis_url, ADMIN_TOKEN=TOKEN))
    yield app
    stop_app(app)


def add(client, message="hello"):
    return client.post("/api/walls/w/posts", json={"username": "a", "message": message}).json[
        "post"
    ]


def delete(client, post_id, token=TOKEN, scheme="Bearer"):
    headers = {"Authorization": "%s %s" % (scheme, token)} if token else {}
    return client.delete("/api/walls/w/posts/%s" % post_id, headers=headers)


def test_delete_removes_the_post(client, rdb):
    post = add(client)
    reply = delete(client, post["id"])
    assert reply.status_code == 200
    assert reply.json == {"wall": "w", "id": post["id"], "deleted": True}
    assert client.get("/api/walls/w/posts").json["posts"] == []
    assert delete(client, post["id"]).status_code == 404


@pytest.mark.parametrize(
    ("token", "scheme", "status", "code"),
    [
        (None, "Bearer", 401, "unauthorized"),
        ("", "Bearer", 401, "unauthorized"),
        (TOKEN, "Basic", 401, "unauthorized"),
        ("wrong", "Bearer", 403, "forbidden"),
        (TOKEN + "x", "Bearer", 403, "forbidden"),
    ],
)
def test_delete_needs_the_right_token(client, rdb, token, scheme, status, code):
    post = add(client)
    reply = delete(client, post["id"], token=token, scheme=scheme)
    assert (reply.status_code, reply.json["error"]) == (status, code)
    assert rdb.xlen("wall:posts:w") == 1


def test_without_an_operator_token_a_bearer_is_a_wrong_key(redis_url):
    # (before organisers, DELETE was 404 while WALL_ADMIN_TOKEN was unset)
    app = create_app(make_config(redis_url))
    try:
        client = app.test_client()
        post = add(client)
        reply = delete(client, post["id"])
        assert reply.status_code == 403 and reply.json["error"] == "forbidden"
    finally:
        stop_app(app)


def test_bad_post_id_is_400(client):
    assert delete(client, "yesterday").status_code == 400


def test_open_pages_get_post_deleted_and_catch_up_skips_it(app, client):
    sc = socketio.test_client(app, namespace="/wall")
    try:
        first, doomed = add(client, "first"), add(client, "doomed")
        reply = sc.emit("join", {"wall": "w"}, namespace="/wall", callback=True)
        assert [p["id"] for p in reply["posts"]] == [first["id"], doomed["id"]]
        assert delete(client, doomed["id"]).status_code == 200
        events = []

        def got_deletion():
            events.extend(sc.get_received("/wall"))
            return [e["args"][0] for e in events if e["name"] == "post deleted"]

        assert wait_for(got_deletion) == [{"wall": "w", "id": doomed["id"]}]
        # a client that was away re-joins after ``first``: it learns of the deletion
        again = sc.emit(
            "join", {"wall": "w", "after": first["id"]}, namespace="/wall", callback=True
        )
        assert again["posts"] == [] and again["deleted"] == [doomed["id"]]
    finally:
        sc.disconnect("/wall")
