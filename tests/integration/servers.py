"""Real server processes and real Socket.IO clients for the integration tests."""

import os
import threading

import engineio.payload
import requests
import socketio

from deploy.cluster import AppProcess
from wall.redis_server import free_port


class ServerProcess(AppProcess):
    """``python app.py`` in a subprocess, with settings for tests.

    :param redis_url: the Redis to use, or None for the embedded one.
    :param env: extra environment variables.
    """

    def __init__(self, redis_url, log_dir, env=None, async_mode="eventlet", port=None):
        port = port or free_port()
        clean = {
            k: v for k, v in os.environ.items()
            if not (k.startswith("WALL_") or k in ("REDIS_URL", "PORT", "HOST"))
        }
        clean.update(
            WALL_ASYNC_MODE=async_mode,
            WALL_RATE_LIMITS="off",
            WALL_PRESENCE_TIMEOUT="3",
        )
        if redis_url:
            clean["REDIS_URL"] = redis_url
        clean.update(env or {})
        super().__init__(port, clean, os.path.join(log_dir, "server-%d.log" % port))

    def wait_ready(self, timeout=20):
        try:
            super().wait_ready(timeout)
        except RuntimeError as exc:
            raise AssertionError(str(exc)) from None

# python-engineio's client refuses a long-polling response of more than 16
# packets ("Too many packets in payload") and drops the connection; a server
# answers a poll with everything queued since the last one, which after a
# burst of posts is more. Browsers' engine.io-client has no such limit.
engineio.payload.Payload.max_decode_packets = 10_000


class WallClient:
    """A python-socketio client on ``/wall`` that records what it receives."""

    def __init__(self, server, transport="websocket", reconnection=False):
        self.server = server
        self.transport = transport
        self.sio = socketio.Client(reconnection=reconnection)
        self.lock = threading.Lock()
        self.posts = []
        self.online = []
        self.deleted = []
        self.resyncs = []
        self.sio.on("new post", self._on_post, namespace="/wall")
        self.sio.on("online", self._on_online, namespace="/wall")
        self.sio.on("post deleted", self._on_deleted, namespace="/wall")
        self.sio.on("resync", self._on_resync, namespace="/wall")

    def connect(self):
        self.sio.connect(
            self.server.url, namespaces=["/wall"], transports=[self.transport], wait_timeout=10
        )
        return self

    def _on_post(self, post):
        with self.lock:
            self.posts.append(post)

    def _on_online(self, data):
        with self.lock:
            self.online.append(data)

    def _on_deleted(self, data):
        with self.lock:
            self.deleted.append(data)

    def _on_resync(self, data):
        with self.lock:
            self.resyncs.append(data)

    def call(self, event, data, timeout=10):
        return self.sio.call(event, data, namespace="/wall", timeout=timeout)

    def join(self, wall, after=None):
        data = {"wall": wall} if after is None else {"wall": wall, "after": after}
        reply = self.call("join", data)
        assert reply["ok"], reply
        return reply

    def post(self, wall, message, username="tester", client_id=None):
        data = {"wall": wall, "username": username, "message": message}
        if client_id:
            data["client_id"] = client_id
        return self.call("add to wall", data)

    def ids(self, wall=None):
        with self.lock:
            return [p["id"] for p in self.posts if wall is None or p["wall"] == wall]

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()
        if self.sio.eio.http is not None:
            self.sio.eio.http.close()  # the session outlives a dropped connection


def metric(url, name):
    """The value of one sample on a server's ``/metrics`` (``name`` with its labels)."""
    text = requests.get(url + "/metrics", timeout=5).text
    return float(next(x for x in text.splitlines() if x.startswith(name + " ")).split()[-1])
