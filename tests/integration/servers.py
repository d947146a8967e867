"""Real server processes and real Socket.IO clients for the integration tests."""

import os
import signal
import subprocess
import sys
import threading
import time

import requests
import socketio

from wall.redis_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ServerProcess:
    """``python app.py`` in a subprocess, as the Procfile runs it.

    :param redis_url: the Redis to use, or None for the embedded one.
    :param env: extra environment variables.
    """

    def __init__(self, redis_url, log_dir, env=None, async_mode="eventlet", port=None):
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(log_dir, "server-%d.log" % self.port)
        self.env = dict(os.environ)
        for name in list(self.env):
            if name.startswith("WALL_") or name in ("REDIS_URL", "PORT", "HOST"):
                del self.env[name]
        self.env.update(
            WALL_ASYNC_MODE=async_mode,
            PORT=str(self.port),
            WALL_RATE_LIMITS="off",
            WALL_PRESENCE_TIMEOUT="3",
            PYTHONUNBUFFERED="1",
        )
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.env.update(env or {})
        self.process = None

    def start(self, wait=True, timeout=20):
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [sys.executable, "app.py"], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("server exited %s:\n%s" % (self.process.returncode, self.log()))
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("server not ready:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self):
        self.stop(signal.SIGKILL)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except FileNotFoundError:
            return ""


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
