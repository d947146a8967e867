"""The /wall handlers through Flask-SocketIO's test client (threading, no queue)."""

import pytest

from wall import create_app, stop_app

from ...support.helpers import make_config, wait_for

NS = "/wall"


def ack(sc, event, data=None):
    args = (event,) if data is None else (event, data)
    return sc.emit(*args, namespace=NS, callback=True)


def received(sc, name):
    return [m["args"][0] for m in sc.get_received(NS) if m["name"] == name]


class Inbox:
    """Collects what a test client receives, so several waits can share it."""

    def __init__(self, sc):
        self.sc = sc
        self.events = []

    def of(self, name):
        self.events += self.sc.get_received(NS)
        return [m["args"][0] for m in self.events if m["name"] == name]


def test_join_returns_newest_posts_and_online(socket_client):
    a = socket_client()
    for i in range(60):
        assert ack(a, "add to wall", {"wall": "w", "username": "ann", "message": str(i)})["ok"]
    reply = ack(a, "join", {"wall": "W"})
    assert reply["ok"] and reply["wall"] == "w" and reply["more"]
    assert [p["message"] for p in reply["posts"]] == [str(i) for i in range(10, 60)]
    assert reply["online"] == 1
    assert "truncated" not in reply


def test_post_reaches_every_socket_on_the_wall_once(socket_client):
    a, b, other = socket_client(), socket_client(), socket_client()
    assert ack(a, "join", {"wall": "w"})["ok"]
    assert ack(b, "join", {"wall": "w"})["ok"]
    assert ack(other, "join", {"wall": "elsewhere"})["ok"]
    reply = ack(
        a, "add to wall", {"wall": "w", "username": "ann", "message": "hi", "client_id": "c1"}
    )
    assert reply["ok"] and reply["post"]["message"] == "hi"
    inbox_a, inbox_b = Inbox(a), Inbox(b)
    wait_for(lambda: inbox_a.of("new post") and inbox_b.of("new post"))
    assert inbox_a.of("new post") == [reply["post"]]
    assert inbox_b.of("new post") == [reply["post"]]
    assert received(other, "new post") == []


def test_join_after_catches_up(socket_client):
    a = socket_client()
    ids = [
        ack(a, "add to wall", {"wall": "w", "username": "a", "message": str(i)})["post"]["id"]
        for i in range(250)
    ]
    reply = ack(a, "join", {"wall": "w", "after": ids[9]})
    assert [p["id"] for p in reply["posts"]] == ids[10:210]
    assert reply["more"] is True


def test_leave_stops_delivery(socket_client):
    a, b = socket_client(), socket_client()
    ack(a, "join", {"wall": "w"})
    assert ack(a, "leave", {"wall": "w"}) == {"ok": True, "wall": "w"}
    ack(b, "add to wall", {"wall": "w", "username": "b", "message": "x"})
    ack(b, "join", {"wall": "w"})
    post = ack(b, "add to wall", {"wall": "w", "username": "b", "message": "y"})["post"]
    inbox_b = Inbox(b)
    wait_for(lambda: inbox_b.of("new post"))
    assert inbox_b.of("new post") == [post]
    assert received(a, "new post") == []


@pytest.mark.parametrize(
    ("event", "data", "message"),
    [
        ("join", None, "JSON object"),
        ("join", "main", "JSON object"),
        ("join", {"wall": "no_such wall"}, "wall name"),
        ("join", {"wall": "w", "after": "yesterday"}, "after"),
        ("leave", [], "JSON object"),
        ("add to wall", None, "JSON object"),
        ("add to wall", {"wall": "w", "username": "", "message": "x"}, "empty"),
        ("add to wall", {"wall": "w", "username": "a", "message": "x" * 1001}, "1000"),
        ("add to wall", {"wall": "w", "username": 5, "message": "x"}, "string"),
        ("add to wall", {"wall": "w", "username": "a"}, "'message'"),
        (
            "add to wall",
            {"wall": "w", "username": "a", "message": "x", "client_id": ""},
            "client_id",
        ),
    ],
)
def test_bad_payloads_get_invalid(socket_client, rdb, event, data, message):
    a = socket_client()
    reply = ack(a, event, data)
    assert reply["ok"] is False and reply["error"] == "invalid"
    assert message in reply["message"]
    assert rdb.keys("wall:posts:*") == []
    # the connection keeps working
    assert ack(a, "join", {"wall": "w"})["ok"]


def test_unknown_event_is_answered(socket_client):
    reply = ack(socket_client(), "shout", {"x": 1})
    assert reply["ok"] is False and reply["error"] == "unknown_event"


def test_client_id_repeat_returns_the_original(socket_client, rdb):
    a = socket_client()
    data = {"wall": "w", "username": "a", "message": "once", "client_id": "k1"}
    first, second = ack(a, "add to wall", data), ack(a, "add to wall", data)
    assert first == second and first["ok"]
    assert rdb.xlen("wall:posts:w") == 1


def test_online_counts_up_and_down(socket_client):
    a, b = socket_client(), socket_client()
    assert ack(a, "join", {"wall": "w"})["online"] == 1
    assert ack(b, "join", {"wall": "w"})["online"] == 2
    inbox = Inbox(a)
    wait_for(lambda: {"wall": "w", "count": 2} in inbox.of("online"), timeout=4)
    b.disconnect(NS)
    wait_for(lambda: inbox.of("online")[-1] == {"wall": "w", "count": 1}, timeout=4)


def test_rate_limited_with_retry_after(redis_url):
    app = create_app(make_config(redis_url, RATE_LIMITS=True, RATE_LIMIT_SOCKET="2/10 seconds"))
    try:
        from wall import socketio

        sc = socketio.test_client(app, namespace=NS)
        data = {"wall": "w", "username": "a", "message": "x"}
        assert ack(sc, "add to wall", data)["ok"]
        assert ack(sc, "add to wall", data)["ok"]
        reply = ack(sc, "add to wall", data)
        assert reply["error"] == "rate_limited" and 1 <= reply["retry_after"] <= 10
        # another connection has its own allowance
        other = socketio.test_client(app, namespace=NS)
        assert ack(other, "add to wall", data)["ok"]
        # counted in this process, no Redis round trip; gone with the session
        per_socket = app.extensions["wall.posts"].limits.per_socket
        assert len(per_socket) == 2
        sc.disconnect(NS)
        other.disconnect(NS)
        assert len(per_socket) == 0
    finally:
        stop_app(app)


def test_redis_down_answers_unavailable(redis_server, redis_url):
    app = create_app(make_config("redis://127.0.0.1:1/0"))
    try:
        from wall import socketio

        sc = socketio.test_client(app, namespace=NS)
        reply = ack(sc, "add to wall", {"wall": "w", "username": "a", "message": "x"})
        assert reply["ok"] is False and reply["error"] == "unavailable"
        assert "Traceback" not in reply["message"]
        sc.disconnect(NS)
    finally:
        stop_app(app)


def test_a_post_to_a_session_whose_pings_stopped_does_not_freeze_delivery(app):
    """engine.io closes a session whose client stopped answering pings on the
    next packet queued for it: from inside the reader's send, which then
    leaves the session's walls. The reader must go on (it once deadlocked)."""
    import time

    from engineio import socket as eio_socket

    from wall.domain import get_posts
    from wall.realtime import get_realtime

    realtime = get_realtime(app)
    eio = realtime.server.eio
    session = eio_socket.Socket(eio, "dead")
    eio.sockets["dead"] = session
    session.connected = True
    eio.handlers["connect"]("dead", {"REMOTE_ADDR": "10.0.0.1"})
    eio.handlers["message"]("dead", "0/wall,")
    eio.handlers["message"]("dead", '2/wall,1["join",{"wall":"w"}]')
    assert realtime.delivery.joined_count() == 1
    session.last_ping = time.time() - 1000  # the client went silent long ago
    get_posts(app).add("w", "ann", "hello", None, "10.0.0.2", "a:10.0.0.2")
    lock = realtime.delivery.rooms.lock

    def left():
        assert lock.acquire(timeout=2), "the reader holds its lock forever"
        try:
            return realtime.delivery.rooms.count("w") == 0
        finally:
            lock.release()

    wait_for(left, message="the dead session to leave")


@pytest.mark.timeout(30)
def test_a_reader_s_first_round_finds_itself_started(socket_client, caplog):
    # In threading mode a reader's task runs at once: it must already be
    # known by then, or its first round fails (an error logged, the first
    # post half a second late).
    a = socket_client()
    with caplog.at_level("ERROR", logger="wall.realtime.reader"):
        assert ack(a, "join", {"wall": "w"})["ok"]
        inbox = Inbox(a)
        assert ack(a, "add to wall", {"wall": "w", "username": "ann", "message": "hi"})["ok"]
        wait_for(lambda: inbox.of("new post"), timeout=0.4, message="the first post, at once")
    assert not [r for r in caplog.records if "unexpected error" in r.getMessage()]
