"""WALL_REDIS_MIN_REPLICAS: posts acknowledged once a replica holds them, on a
real master and replica (wall/storage/durable.py)."""

import time

import pytest
import redis

from wall import storage
from wall.storage.durable import Durability, NotReplicated
from wall.storage.embedded import RedisProcess
from wall.storage.posts import NewPost, PostStore


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    master = RedisProcess(tmp_path_factory.mktemp("master"), persist=False)
    master.start()
    replica = RedisProcess(
        tmp_path_factory.mktemp("replica"),
        persist=False,
        args=["--replicaof", "127.0.0.1", str(master.port)],
    )
    replica.start()
    plain = redis.Redis(port=master.port, decode_responses=True)
    deadline = time.monotonic() + 20
    while plain.info("replication")["connected_slaves"] < 1:
        assert time.monotonic() < deadline, "the replica did not connect"
        time.sleep(0.05)
    yield master, replica
    plain.close()
    replica.stop()
    master.stop()


@pytest.fixture
def store(pair):
    master, replica = pair
    client = storage.connect(master.url)
    client.flushall()
    yield PostStore(client, durability=Durability(client, 1, 300)), replica
    replica.resume()
    client.close()


def pair_url(posts):
    kwargs = posts.redis.connection_pool.connection_kwargs
    return "redis://%s:%d/0" % (kwargs["host"], kwargs["port"])


def new(message, cid=None):
    return NewPost("w", "ann", message, cid)


def test_a_post_is_acknowledged_once_the_replica_has_it(store):
    posts, replica = store
    added = posts.add_post(new("kept", "c-1"))
    assert added.kind == "stored"
    on_replica = redis.Redis(port=replica.port, decode_responses=True)
    # WAIT returned: the replica holds it already, no polling needed
    assert on_replica.xrange("wall:posts:w")[0][0] == added.post["id"]
    on_replica.close()
    batch = posts.add_posts([new("a"), new("b"), new("kept", "c-1")])
    assert [a.kind for a in batch] == ["stored", "stored", "exists"]


def test_a_post_the_replica_missed_is_unavailable_and_its_retry_is_stored_once(store):
    posts, replica = store
    replica.pause()  # SIGSTOP: connected, answering nothing
    started = time.monotonic()
    with pytest.raises(NotReplicated):
        posts.add_post(new("in doubt", "c-2"))
    assert time.monotonic() - started < 2
    # a batch: each post that was stored is in doubt, each is told so
    in_doubt = posts.add_posts([new("x", "c-3"), new("y", "c-4")])
    assert all(isinstance(r, NotReplicated) for r in in_doubt)
    # the retry while the replica is still away, from another process (a
    # connection that wrote nothing yet): still in doubt
    other_client = storage.connect(pair_url(posts))
    other = PostStore(other_client, durability=Durability(other_client, 1, 300))
    with pytest.raises(NotReplicated):
        other.add_post(new("in doubt", "c-2"))
    other_client.close()
    replica.resume()
    again = posts.add_post(new("in doubt", "c-2"))
    assert again.kind == "exists" and again.post["message"] == "in doubt"
    assert [p["message"] for p in posts.latest("w", 10).posts] == ["in doubt", "x", "y"]


def test_a_lost_script_cache_is_reloaded(store):
    posts, _ = store
    posts.redis.script_flush()
    assert posts.add_post(new("after a flush")).kind == "stored"
    assert [a.kind for a in posts.add_posts([new("one"), new("two")])] == ["stored", "stored"]
