"""Gap-free delivery under Redis faults, with clients that stay connected throughout.

Two real server processes share one Redis of the test's own; clients on
WebSocket and long-polling join before anything is posted and never
reconnect. After each fault, every acknowledged post must have reached every
client once and in order, and what each client received must be exactly the
wall's stream.
"""

import os
import signal
import threading
import time
import uuid

import pytest
import redis
import requests
import socketio

from ..support.helpers import wait_for

pytestmark = pytest.mark.server

ADMIN = "gap-free-admin"


@pytest.fixture
def rdb_own(own_redis):
    client = redis.Redis(port=own_redis.port, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def cluster(own_redis, make_proxy, start_server, make_client, wall_name):
    """Process 1 on Redis directly, process 2 through a proxy; clients on both.

    The proxy is set up before the servers so that it is closed after them:
    a server whose Redis went away first spends its whole drain (10 s) on
    handlers that cannot finish.
    """

    class Cluster:
        proxy = make_proxy(own_redis)
        env = {"WALL_ADMIN_TOKEN": ADMIN}
        one = start_server(redis=own_redis.url, env=env)
        two = start_server(redis=proxy.url, env=env)
        poster = make_client(one)
        watchers = [
            make_client(two, "websocket"),
            make_client(two, "polling"),
            make_client(one, "polling"),
        ]

    for c in Cluster.watchers:
        c.join(wall_name)
    return Cluster


def post_acked(client, wall, message, deadline=30):
    """Post until acknowledged, with one client_id, as the page's outbox does."""
    client_id = uuid.uuid4().hex
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            reply = client.post(wall, message, client_id=client_id)
        except socketio.exceptions.TimeoutError:
            reply = None
        if reply and reply["ok"]:
            return reply["post"]["id"]
        assert reply is None or reply["error"] == "unavailable", reply
        time.sleep(0.2)
    raise AssertionError("post %r never acknowledged" % message)


def stream_post_ids(rdb, wall):
    return [i for i, fields in rdb.xrange("wall:posts:" + wall) if "d" not in fields]


def assert_gap_free(watchers, acked, rdb, wall, timeout=20):
    wait_for(
        lambda: all(set(acked) <= set(c.ids(wall)) for c in watchers),
        timeout=timeout,
        message="every acknowledged post on every client",
    )
    stored = stream_post_ids(rdb, wall)
    for c in watchers:
        assert c.sio.connected, "a client was disconnected"
        assert c.ids(wall) == stored, "missing, doubled or out of order"


@pytest.mark.parametrize("kill_type", ["pubsub", "normal"])
def test_client_kill_then_burst(cluster, rdb_own, wall_name, kill_type):
    acked = [post_acked(cluster.poster, wall_name, "before")]
    for round_ in range(2):
        rdb_own.client_kill_filter(_type=kill_type)
        acked += [post_acked(cluster.poster, wall_name, "%d-%d" % (round_, i)) for i in range(10)]
    assert_gap_free(cluster.watchers, acked, rdb_own, wall_name)


def test_redis_paused(cluster, own_redis, rdb_own, wall_name):
    acked = [post_acked(cluster.poster, wall_name, "before %d" % i) for i in range(3)]
    own_redis.process.send_signal(signal.SIGSTOP)
    try:
        time.sleep(3)
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
    acked += [post_acked(cluster.poster, wall_name, "after %d" % i) for i in range(5)]
    assert_gap_free(cluster.watchers, acked, rdb_own, wall_name)


def test_redis_killed_and_restarted_on_its_aof(cluster, own_redis, wall_name):
    acked = [post_acked(cluster.poster, wall_name, "before %d" % i) for i in range(5)]
    own_redis.kill()
    # while Redis is down, posts are refused at once, not hung
    reply = cluster.poster.post(wall_name, "during")
    assert reply["ok"] is False and reply["error"] == "unavailable"
    own_redis.restart()
    acked += [post_acked(cluster.poster, wall_name, "after %d" % i) for i in range(5)]
    rdb = redis.Redis(port=own_redis.port, decode_responses=True)
    try:
        assert_gap_free(cluster.watchers, acked, rdb, wall_name, timeout=30)
    finally:
        rdb.close()


def test_half_open_connection_is_noticed(cluster, rdb_own, wall_name):
    """Process 2's Redis connections go silent without closing; it recovers by itself."""
    acked = [post_acked(cluster.poster, wall_name, "before")]
    cluster.proxy.blackhole()
    acked += [post_acked(cluster.poster, wall_name, "silent %d" % i) for i in range(3)]
    time.sleep(2)
    cluster.proxy.restore()
    started = time.monotonic()
    acked += [post_acked(cluster.poster, wall_name, "after")]
    # the reader's socket timeout is 10 s (5 s block + 5 s); see docs/deploy.md
    assert_gap_free(cluster.watchers, acked, rdb_own, wall_name, timeout=20)
    assert time.monotonic() - started < 20


def test_steady_flow_with_connection_kills(cluster, rdb_own, wall_name):
    acked, stop = [], threading.Event()

    def flow():
        i = 0
        while not stop.is_set() and i < 200:
            acked.append(post_acked(cluster.poster, wall_name, "flow %d" % i))
            i += 1
            time.sleep(0.05)  # about 20 posts per second

    thread = threading.Thread(target=flow)
    thread.start()
    try:
        time.sleep(4)
        rdb_own.client_kill_filter(_type="pubsub")
        time.sleep(2)
        rdb_own.client_kill_filter(_type="normal")
        time.sleep(4)
    finally:
        stop.set()
        thread.join()
    assert len(acked) > 100
    assert_gap_free(cluster.watchers, acked, rdb_own, wall_name)


def test_deletion_reaches_a_client_whose_worker_lost_redis(cluster, rdb_own, wall_name):
    doomed = post_acked(cluster.poster, wall_name, "doomed")
    wait_for(lambda: all(doomed in c.ids() for c in cluster.watchers))
    cluster.proxy.blackhole()
    reply = requests.delete(
        cluster.one.url + "/api/walls/%s/posts/%s" % (wall_name, doomed),
        headers={"Authorization": "Bearer " + ADMIN},
        timeout=5,
    )
    assert reply.status_code == 200
    time.sleep(1)
    cluster.proxy.restore()
    expected = {"wall": wall_name, "id": doomed}
    wait_for(
        lambda: all(c.deleted == [expected] for c in cluster.watchers),
        timeout=20,
        message="post deleted on every client",
    )
    # a client that catches up after the deletion never gets the post back
    later = cluster.poster.join(wall_name)
    assert doomed not in [p["id"] for p in later["posts"]]


def test_trimmed_past_a_worker_gives_resync(
    own_redis, start_server, make_client, rdb_own, wall_name
):
    env = {"WALL_HISTORY": "50"}
    one = start_server(redis=own_redis.url, env=env)
    two = start_server(redis=own_redis.url, env=env)
    poster, watcher = make_client(one), make_client(two)
    first = watcher.join(wall_name)
    assert first["posts"] == []
    post_acked(poster, wall_name, "seen")
    wait_for(lambda: len(watcher.ids()) == 1)
    os.kill(two.process.pid, signal.SIGSTOP)  # process 2 falls far behind
    try:
        for i in range(300):
            requests.post(
                one.url + "/api/walls/%s/posts" % wall_name,
                json={"username": "a", "message": str(i)},
                timeout=5,
            ).raise_for_status()
    finally:
        os.kill(two.process.pid, signal.SIGCONT)
    wait_for(lambda: watcher.resyncs == [{"wall": wall_name}], timeout=15, message="resync")
    # following it: re-join after the newest post shown; retention cut, so reload
    rejoin = watcher.join(wall_name, after=watcher.ids()[-1])
    assert rejoin["truncated"] is True
    kept = requests.get(one.url + "/api/walls/%s/posts?limit=200" % wall_name, timeout=5).json()[
        "posts"
    ]
    assert [p["id"] for p in kept] == stream_post_ids(rdb_own, wall_name)[-len(kept) :]
    assert watcher.sio.connected


def test_presence_recovers_after_redis_loses_its_data(
    own_redis, start_server, make_client, wall_name
):
    one, two = start_server(redis=own_redis.url), start_server(redis=own_redis.url)
    clients = [make_client(one), make_client(two), make_client(two, "polling")]
    for c in clients:
        c.join(wall_name)

    def online():
        walls = requests.get(one.url + "/api/walls", timeout=5).json()["walls"]
        return {w["name"]: w["online"] for w in walls}.get(wall_name)

    post_acked(clients[0], wall_name, "so the wall is listed")
    wait_for(lambda: online() == 3)
    rdb = redis.Redis(port=own_redis.port)
    rdb.flushall()  # as a Redis restarted without its data would be
    rdb.close()
    post_acked(clients[0], wall_name, "listed again")
    # heartbeats re-state every process's counts (every WALL_PRESENCE_TIMEOUT / 3 s)
    wait_for(lambda: online() == 3, timeout=10, message="online 3 again")
