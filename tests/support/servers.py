"""Real server processes and real Socket.IO clients for the tests.

Processes are started by deploy/launch.py, the launcher ``make cluster`` and
``make bench`` use too.
"""

import os
import re
import threading

import engineio
import engineio.payload
import requests
import socketio

from deploy.launch import AppProcess, free_port

# What a test server runs with unless the test says otherwise: no rate limits
# (tests post faster than people), a short presence timeout, and one secret
# for every process (as a deployment has: cookies and author keys verify on
# any of them).
TEST_ENV = {
    "WALL_RATE_LIMITS": "off",
    "WALL_PRESENCE_TIMEOUT": "3",
    "SECRET_KEY": "tests-" + "0123456789abcdef" * 2,
}


def clean_environ():
    """This process's environment without any setting of the wall's."""
    return {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("WALL_") or k in ("REDIS_URL", "PORT", "HOST", "SECRET_KEY"))
    }


class ServerProcess(AppProcess):
    """``python app.py`` in a subprocess, with :data:`TEST_ENV`.

    :param redis_url: the Redis to use, or None for the embedded one.
    :param env: more environment variables.
    """

    def __init__(self, redis_url, log_dir, env=None, async_mode="eventlet", port=None, script=None):
        port = port or free_port()
        environ = clean_environ()
        environ.update(TEST_ENV, WALL_ASYNC_MODE=async_mode)
        if redis_url:
            environ["REDIS_URL"] = redis_url
        environ.update(env or {})
        super().__init__(
            port, environ, os.path.join(log_dir, "server-%d.log" % port), script=script
        )

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


class _InOrderEngineio(engineio.Client):
    """python-engineio's client, handling each message in its read loop.

    The library's client runs every incoming message's handler in a task of
    its own (``run_async=True``), so events may be recorded out of the order
    they arrived in, and a test could neither trust nor catch an order. Here
    they are handled one after the other, as they arrive.
    """

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return _InOrderEngineio


class WallClient:
    """A python-socketio client on ``/wall`` that records what it receives,
    in the order it arrived (see :class:`_InOrderEngineio`)."""

    def __init__(self, server, transport="websocket", reconnection=False):
        self.server = server
        self.transport = transport
        self.sio = _InOrderClient(reconnection=reconnection)
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


_NOT_GIVEN = object()


def metric(server, name, default=_NOT_GIVEN):
    """One sample of a process's ``/metrics`` as a float (``name`` with its labels).

    :param server: anything with a ``url`` (a server process), or a URL.
    :param default: returned when the sample is absent; without it, absence
        fails the test with the samples that are there.
    """
    url = server if isinstance(server, str) else server.url
    text = requests.get(url + "/metrics", timeout=10).text
    match = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    if match:
        return float(match.group(1))
    if default is not _NOT_GIVEN:
        return default
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    raise AssertionError(
        "no sample %s in %s/metrics; it has:\n%s" % (name, url, "\n".join(samples[:80]))
    )
