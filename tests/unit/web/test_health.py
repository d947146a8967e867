"""/healthz tells the truth about the background loops, and /metrics counts their restarts."""

import threading

import pytest
import redis

from wall import create_app, socketio, stop_app
from wall.realtime import get_realtime
from wall.storage import get_storage

from ...support.helpers import make_config, wait_for


@pytest.fixture
def app(redis_url):
    app = create_app(make_config(redis_url, READER_BLOCK_MS=200))
    yield app
    stop_app(app)


def health(client):
    reply = client.get("/healthz")
    return reply.status_code, reply.json


def watch_a_wall(app):
    sc = socketio.test_client(app, namespace="/wall")
    assert sc.emit("join", {"wall": "w"}, namespace="/wall", callback=True)["ok"]
    return sc


def test_an_idle_process_is_healthy(app):
    assert health(app.test_client()) == (200, {"status": "ok"})


def test_a_stuck_reader_makes_the_process_degraded_until_it_reads_again(app):
    client = app.test_client()
    watch_a_wall(app)
    delivery = get_realtime(app).delivery
    reader = delivery.readers[0]
    wait_for(lambda: reader.last_cycle is not None, message="a first round")
    assert health(client)[0] == 200
    stuck = threading.Event()
    read = reader.stream_reader.read

    def hangs(*args, **kwargs):
        stuck.wait(30)  # a read that never comes back
        return read(*args, **kwargs)

    reader.stream_reader.read = hangs
    status = wait_for(
        lambda: health(client)[0] == 503 and health(client), timeout=5, message="degraded"
    )[1]
    assert status["status"] == "degraded" and "delivery reader" in status["reason"]
    reader.stream_reader.read = read
    stuck.set()
    wait_for(lambda: health(client)[0] == 200, timeout=5, message="healthy again")


class Dies(BaseException):
    """Not an Exception: it ends the reader's task, as a bug in a library could."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_reader_that_died_is_started_again_and_delivery_goes_on(app):
    sc = watch_a_wall(app)
    delivery = get_realtime(app).delivery
    reader = delivery.readers[0]
    wait_for(lambda: reader.last_cycle is not None, message="a first round")
    poll = reader.round

    def dies_once(*args):
        reader.round = poll
        raise Dies()

    reader.round = dies_once
    wait_for(lambda: delivery.restarts == 1, timeout=5, message="a restart")
    text = app.test_client().get("/metrics").data.decode()
    assert 'wall_loop_restarts_total{loop="delivery reader"} 1.0' in text
    client = app.test_client()
    client.post("/api/walls/w/posts", json={"username": "a", "message": "after the restart"})
    wait_for(
        lambda: any(m["name"] == "new post" for m in sc.get_received("/wall")),
        message="the post delivered after the restart",
    )


def test_draining_wins_over_unavailable_which_wins_over_degraded(app, monkeypatch):
    client = app.test_client()
    realtime = get_realtime(app)
    monkeypatch.setattr(realtime, "degraded", lambda: "a loop is late")
    assert health(client) == (503, {"status": "degraded", "reason": "a loop is late"})

    def down():
        raise redis.ConnectionError("refused")

    monkeypatch.setattr(get_storage(app).posts, "ping", down)
    assert health(client)[1]["status"] == "unavailable"
    realtime.gate.draining = True
    assert health(client)[1]["status"] == "draining"
