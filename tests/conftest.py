"""Fixtures: a real Redis started by the tests, the app, and its clients.

Chained as flaskr does: ``redis_server`` -> ``redis_url`` -> ``app`` ->
``client`` / ``socket_client``. The Redis is a real ``redis-server`` started
with the app's own launcher on a free port; nothing is mocked.
"""

import pytest
import redis

from wall import create_app, socketio
from wall.redis_server import EmbeddedRedis

from .helpers import make_config


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the session, on a free port."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The test Redis, flushed before and after each test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield redis_server.url
    client.flushall()
    client.close()


@pytest.fixture
def rdb(redis_url):
    """A plain Redis client on the test Redis, for looking behind the API."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def app(redis_url):
    app = create_app(make_config(redis_url))
    yield app
    app.extensions["wall"].stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def socket_client(app):
    """A factory of Socket.IO test clients on ``/wall``, disconnected afterwards."""
    made = []

    def connect(**kwargs):
        sc = socketio.test_client(app, namespace="/wall", **kwargs)
        made.append(sc)
        return sc

    yield connect
    for sc in made:
        if sc.is_connected("/wall"):
            sc.disconnect("/wall")
