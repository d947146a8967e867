"""Posts batched into shared Redis round trips (wall/domain/post_batch.py), on the real test Redis."""

import threading

import pytest
import redis

from wall import storage
from wall.domain.post_batch import PostBatch
from wall.storage.posts import NewPost, PostStore


class RecordingStore(PostStore):
    """The real store, noting the size of every round trip."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trips = []

    def add_post(self, new):
        self.trips.append(1)
        return super().add_post(new)

    def add_posts(self, posts):
        self.trips.append(len(posts))
        return super().add_posts(posts)


@pytest.fixture
def store(redis_url):
    client = storage.connect(redis_url, socket_timeout=10)
    yield RecordingStore(client, history=10000)
    client.close()


def post_concurrently(batch, posts):
    results = [None] * len(posts)

    def run(i):
        try:
            added = batch.add(NewPost(*posts[i]))
            results[i] = (added.post, added.created)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_posts_share_round_trips_and_each_gets_its_own_result(store, rdb):
    batch = PostBatch(store)
    posts = [("w", "u%d" % i, "message %d" % i, "cid-%d" % i) for i in range(200)]
    results = post_concurrently(batch, posts)
    for (_wall, username, message, cid), (post, created) in zip(posts, results):
        assert created
        assert (post["username"], post["message"], post["client_id"]) == (username, message, cid)
    assert len({post["id"] for post, _ in results}) == 200
    assert rdb.xlen("wall:posts:w") == 200
    assert sum(store.trips) == 200
    assert max(store.trips) > 1, "no two posts ever shared a round trip"


def test_a_lone_post_goes_at_once(store):
    added = PostBatch(store).add(NewPost("w", "ann", "hi"))
    post, created = added.post, added.created
    assert created and post["message"] == "hi"
    assert store.trips == [1]


def test_one_failing_post_does_not_fail_its_batch(store, rdb):
    rdb.set("wall:posts:broken", "not a stream")
    posts = [
        ("w", "ann", "fine 1", None),
        ("broken", "ann", "fails", None),
        ("w", "ann", "fine 2", "same"),
        ("w", "ann", "fine 2 again", "same"),
    ]
    results = store.add_posts([NewPost(*p) for p in posts])
    assert results[0].post["message"] == "fine 1" and results[0].created
    assert isinstance(results[1], redis.ResponseError)
    # the same client_id twice in one round trip is stored once
    assert results[2].created and not results[3].created
    assert results[3].post["id"] == results[2].post["id"]
    assert rdb.xlen("wall:posts:w") == 2


def test_a_batch_survives_redis_losing_its_scripts(store, rdb):
    store.add_post(NewPost("w", "ann", "loads the script"))
    rdb.script_flush()
    results = store.add_posts([NewPost("w", "ann", "a"), NewPost("w", "ann", "b")])
    assert [added.post["message"] for added in results] == ["a", "b"]
    assert rdb.xlen("wall:posts:w") == 3


def test_errors_reach_every_waiting_post_and_the_next_batch_still_goes(store, rdb, redis_url):
    batch = PostBatch(store)
    dead = PostBatch(PostStore(storage.connect("redis://127.0.0.1:1/0"), history=10))
    results = post_concurrently(dead, [("w", "ann", "m%d" % i, None) for i in range(20)])
    assert all(isinstance(r, redis.ConnectionError) for r in results)
    assert not dead._batch._sending and not dead._batch._queue
    assert batch.add(NewPost("w", "ann", "after")).created
