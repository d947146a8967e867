"""Posts survive restarts; the embedded Redis is started, kept, locked and stopped by the app."""

import psutil
import pytest
import redis
import requests

from ..support.helpers import wait_for
from ..support.servers import ServerProcess

pytestmark = pytest.mark.server


def read(server, wall):
    return requests.get(server.url + "/api/walls/%s/posts" % wall, timeout=5).json()["posts"]


def write(server, wall, message):
    reply = requests.post(
        server.url + "/api/walls/%s/posts" % wall,
        json={"username": "a", "message": message},
        timeout=5,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["post"]


def redis_children(server):
    return [
        p
        for p in psutil.Process(server.process.pid).children(recursive=True)
        if "redis-server" in p.name()
    ]


def gone(process):
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def redis_config(child):
    """The live configuration of an embedded redis-server, asked of itself."""
    port = int(child.cmdline()[0].rsplit(":", 1)[1])  # Redis retitles itself host:port
    client = redis.Redis(port=port, decode_responses=True)
    try:
        return {
            k: client.config_get(k)[k]
            for k in ("appendonly", "appendfsync", "maxmemory-policy", "bind")
        }
    finally:
        client.close()


def test_posts_survive_a_server_restart(start_server, make_client, wall_name):
    server = start_server()
    posted = [write(server, wall_name, str(i)) for i in range(3)]
    server.stop()
    again = start_server()
    assert read(again, wall_name) == posted
    assert make_client(again).join(wall_name)["posts"] == posted


def test_embedded_redis_keeps_data_and_is_stopped_with_the_app(tmp_path, wall_name):
    data = tmp_path / "data"
    env = {"WALL_DATA_DIR": str(data)}
    server = ServerProcess(None, str(tmp_path), env=env).start()
    try:
        children = redis_children(server)
        assert len(children) == 1
        child = children[0]
        assert redis_config(child) == {
            "appendonly": "yes",
            "appendfsync": "everysec",
            "maxmemory-policy": "noeviction",
            "bind": "127.0.0.1",
        }
        posted = write(server, wall_name, "kept")
    finally:
        server.stop()
    wait_for(lambda: gone(child), message="redis-server to stop with the app")
    assert (data / "wall-redis.json").exists()

    server = ServerProcess(None, str(tmp_path), env=env).start()
    try:
        assert read(server, wall_name) == [posted]
    finally:
        server.stop()


def test_embedded_redis_fsync_always(tmp_path):
    env = {"WALL_DATA_DIR": str(tmp_path / "d"), "WALL_REDIS_FSYNC": "always"}
    server = ServerProcess(None, str(tmp_path), env=env).start()
    try:
        assert redis_config(redis_children(server)[0])["appendfsync"] == "always"
    finally:
        server.stop()


def test_embedded_redis_dies_with_a_killed_app(tmp_path):
    server = ServerProcess(None, str(tmp_path), env={"WALL_DATA_DIR": str(tmp_path / "d")})
    server.start()
    child = redis_children(server)[0]
    server.kill()
    wait_for(lambda: gone(child), message="redis-server to exit")


def test_second_process_on_the_same_data_dir_is_refused(tmp_path):
    env = {"WALL_DATA_DIR": str(tmp_path / "shared")}
    first = ServerProcess(None, str(tmp_path), env=env).start()
    try:
        second = ServerProcess(None, str(tmp_path), env=env).start(wait=False)
        assert second.process.wait(timeout=20) != 0
        log = second.log()
        assert "in use by another wall process" in log and "REDIS_URL" in log
        assert requests.get(first.url + "/healthz", timeout=5).status_code == 200
    finally:
        first.stop()


def test_a_different_redis_version_is_refused(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "wall-redis.json").write_text('{"binary": "/old/redis-server", "version": "5.0.0"}')
    server = ServerProcess(None, str(tmp_path), env={"WALL_DATA_DIR": str(data)})
    server.start(wait=False)
    assert server.process.wait(timeout=20) != 0
    assert "written by redis-server 5.0.0" in server.log()
