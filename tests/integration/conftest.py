"""Fixtures for tests that run real eventlet server processes."""

import resource
import uuid

import pytest

from wall.redis_server import EmbeddedRedis

from .servers import ServerProcess, WallClient
from .tcp_proxy import TcpProxy


@pytest.fixture
def wall_name():
    """A wall no other test uses, so servers can be shared between tests."""
    return "t-" + uuid.uuid4().hex[:10]


@pytest.fixture
def start_server(redis_url, tmp_path):
    """A factory of server processes on the test Redis, stopped afterwards."""
    started = []

    def start(redis=redis_url, **kwargs):
        server = ServerProcess(redis, str(tmp_path), **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def make_client():
    """A factory of connected WallClients, closed afterwards."""
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

    fsync=always, so that a SIGKILL loses nothing that was acknowledged.
    """
    server = EmbeddedRedis(str(tmp_path / "own-redis"), fsync="always")
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
