"""Every fixture of the suite, chained as flaskr's are.

``redis_server`` -> ``redis_url`` -> ``app`` -> ``client`` / ``socket_client``
for in-process tests; ``start_server`` / ``make_client`` / ``make_cluster``
for real processes. Redis is a real ``redis-server`` started on a free port
by deploy/launch.py (the launcher of ``make cluster`` and ``make bench``);
nothing is mocked. Imported by tests/conftest.py; browser fixtures are in
tests/support/browser.py.
"""

import os
import resource
import uuid

import pytest
import redis

from deploy.launch import Cluster, RedisProcess, nginx_binary, stop_all
from wall import create_app, socketio, stop_app

from .helpers import make_config
from .servers import TEST_ENV, ServerProcess, WallClient, clean_environ
from .tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the session, on a free port (no persistence)."""
    server = RedisProcess(tmp_path_factory.mktemp("redis"), persist=False)
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
    """An app in threading mode on the test Redis (no message queue, no limits)."""
    app = create_app(make_config(redis_url))
    yield app
    stop_app(app)


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


@pytest.fixture
def wall_name():
    """A wall no other test uses, so servers can be shared between tests."""
    return "t-" + uuid.uuid4().hex[:10]


@pytest.fixture
def start_server(redis_url, tmp_path):
    """A factory of ``python app.py`` processes on the test Redis, stopped afterwards
    (SIGTERM, so that every test also drains and exits cleanly; SIGKILL after 15 s).

    ``start_server(port=old.port)`` starts one where an earlier one was;
    ``redis=`` points one at another Redis (None: its embedded one).
    """
    started = []

    def start(redis=redis_url, env=None, async_mode="eventlet", port=None, script=None):
        server = ServerProcess(
            redis, str(tmp_path), env=env, async_mode=async_mode, port=port, script=script
        )
        started.append(server.start())
        return server

    yield start
    stop_all(started)


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def make_client():
    """A factory of connected :class:`WallClient`s, closed afterwards."""
    made = []

    def make(server, transport="websocket", **kwargs):
        client = WallClient(server, transport, **kwargs).connect()
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, to pause, kill and restart.

    AOF with fsync=always, so that a SIGKILL loses nothing that was acknowledged.
    """
    server = RedisProcess(str(tmp_path / "own-redis"), fsync="always")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_proxy():
    """A factory of TCP proxies to a Redis, closed afterwards."""
    made = []

    def make(redis_server):
        proxy = TcpProxy("127.0.0.1", redis_server.port)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


@pytest.fixture
def enough_files():
    """Room for thousands of client sockets in this test process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def nginx():
    """Skip without nginx, unless ``WALL_REQUIRE_NGINX=1`` (CI) makes that a failure."""
    if nginx_binary() is None:
        if os.environ.get("WALL_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is required here (WALL_REQUIRE_NGINX=1) but not installed")
        pytest.skip("nginx is not installed (apt-get install nginx); .ci/run installs it")


@pytest.fixture
def make_cluster(tmp_path, own_redis, nginx):
    """A factory of app processes behind nginx (deploy/nginx.conf) on ``own_redis``."""
    made = []

    def make(n=3, async_mode="eventlet", env=None):
        environ = clean_environ()
        environ.update(TEST_ENV)
        environ.update(env or {})
        cluster = Cluster(
            n,
            str(tmp_path / ("cluster%d" % len(made))),
            redis_url=own_redis.url,
            env=environ,
            async_mode=async_mode,
        )
        made.append(cluster)
        return cluster.start()

    yield make
    for cluster in made:
        cluster.stop()
