"""The posts of walls against the real test Redis."""

import threading

import pytest

from wall import storage
from wall.storage import keys
from wall.storage.entries import id_key
from wall.storage.posts import PostStore

from ...support.helpers import store_post


@pytest.fixture
def store(redis_url):
    client = storage.connect(redis_url)
    yield PostStore(client, history=10000)
    client.close()


def add(store, n, wall="w", prefix="m"):
    return [store_post(store, wall, "ann", "%s%d" % (prefix, i))[0] for i in range(n)]


def test_add_post_returns_the_contract_shape(store, rdb):
    post, created = store_post(store, "w", "ann", "hello", "c-1")
    assert created
    assert set(post) == {
        "id",
        "wall",
        "username",
        "message",
        "ts",
        "client_id",
        "status",
        "pinned",
        "likes",
        "rev",
    }
    assert (post["status"], post["pinned"], post["likes"], post["rev"]) == ("visible", False, 0, 0)
    assert (post["wall"], post["username"], post["message"], post["client_id"]) == (
        "w",
        "ann",
        "hello",
        "c-1",
    )
    assert post["ts"] == int(post["id"].split("-")[0])
    assert rdb.xlen("wall:posts:w") == 1


def test_client_id_stores_once_and_returns_the_original(store, rdb):
    first, created1 = store_post(store, "w", "ann", "hello", "same")
    again, created2 = store_post(store, "w", "ann", "hello (edited)", "same")
    assert (created1, created2) == (True, False)
    assert again == first
    assert rdb.xlen("wall:posts:w") == 1
    assert 0 < rdb.ttl("wall:cid:w:same") <= 24 * 3600


def test_client_id_is_per_wall(store, rdb):
    store_post(store, "a", "ann", "x", "same")
    _, created = store_post(store, "b", "ann", "x", "same")
    assert created


def test_same_client_id_at_once_stores_once(store, rdb):
    barrier = threading.Barrier(8)
    results = []

    def post():
        barrier.wait()
        results.append(store_post(store, "w", "ann", "race", "race-1"))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rdb.xlen("wall:posts:w") == 1
    assert sum(created for _, created in results) == 1
    assert len({post["id"] for post, _ in results}) == 1


def test_without_client_id_every_post_is_stored(store, rdb):
    store_post(store, "w", "ann", "x")
    store_post(store, "w", "ann", "x")
    assert rdb.xlen("wall:posts:w") == 2


def test_latest_before_after_paging(store):
    posts = add(store, 120)
    ids = [p["id"] for p in posts]
    assert ids == sorted(ids, key=id_key)

    page = store.latest("w", 50)
    assert [p["id"] for p in page.posts] == ids[-50:] and page.more
    page = store.before("w", ids[70], 50)
    assert [p["id"] for p in page.posts] == ids[20:70] and page.more
    page = store.before("w", ids[20], 50)
    assert [p["id"] for p in page.posts] == ids[:20] and not page.more

    page = store.after("w", ids[9], 100)
    assert [p["id"] for p in page.posts] == ids[10:110] and page.more
    page = store.after("w", ids[19], 100)
    assert [p["id"] for p in page.posts] == ids[20:] and not page.more
    assert not page.truncated and page.end == ids[-1]


def test_empty_wall(store):
    page = store.latest("nobody", 50)
    assert page.posts == [] and not page.more and page.end == "0-0"
    page = store.after("nobody", "1-0", 50)
    assert page.posts == [] and not page.more and not page.truncated


MAX_ID = "18446744073709551615-18446744073709551615"


@pytest.mark.parametrize("posts", [0, 3], ids=["empty", "with posts"])
def test_nothing_lies_before_the_first_id_or_after_the_last(store, posts):
    # Redis refuses the exclusive ranges before 0-0 and after max-max: read as nothing
    add(store, posts, wall="edge")
    page = store.before("edge", "0-0", 50)
    assert page.posts == [] and not page.more
    page = store.after("edge", MAX_ID, 50, extras=True)
    assert page.posts == [] and not page.more and page.settings is not None


def test_retention_trims_and_after_reports_truncated(redis_url, rdb):
    client = storage.connect(redis_url)
    store = PostStore(client, history=50)
    first = add(store, 1)[0]
    assert not store.after("w", first["id"], 10).truncated
    posts = add(store, 400, prefix="n")
    assert 50 <= rdb.xlen("wall:posts:w") < 400
    page = store.after("w", first["id"], 10)
    assert page.truncated
    # an id that is still kept is not truncated
    kept = store.latest("w", 1).posts[0]
    assert not store.after("w", kept["id"], 10).truncated
    assert store.latest("w", 200).posts[-1]["id"] == posts[-1]["id"]
    client.close()


def test_walls_index(store):
    add(store, 3, wall="a")
    add(store, 1, wall="b")
    assert dict(store.walls()) == {"a": 3, "b": 1}
    assert store.walls()[0][0] == "b"  # most recent first


def test_no_retry_on_the_post_path(redis_url):
    client = storage.connect(redis_url)
    assert client.get_retry().get_retries() == 0
    client.close()


def test_delete_leaves_a_tombstone_and_hides_the_post(store, rdb):
    posts = add(store, 5)
    assert store.delete_post("w", posts[2]["id"]) is True
    assert store.delete_post("w", posts[2]["id"]) is False  # already gone
    assert store.delete_post("w", "1-0") is False
    kept = [p["id"] for p in store.latest("w", 50).posts]
    assert kept == [p["id"] for p in posts if p is not posts[2]]
    entries = rdb.xrange("wall:posts:w")
    assert entries[-1][1] == {"d": posts[2]["id"]}
    page = store.after("w", posts[3]["id"], 50)
    assert page.posts == [posts[4]] and page.deleted == [posts[2]["id"]]


def test_tombstones_do_not_thin_out_pages(store):
    posts = add(store, 30)
    for p in posts[5:25]:
        store.delete_post("w", p["id"])
    page = store.latest("w", 8)
    assert [p["message"] for p in page.posts] == ["m%d" % i for i in [2, 3, 4, 25, 26, 27, 28, 29]]
    assert page.more is True
    older = store.before("w", page.posts[0]["id"], 10)
    assert [p["message"] for p in older.posts] == ["m0", "m1"] and older.more is False
    forward = store.after("w", posts[0]["id"], 5)
    assert [p["message"] for p in forward.posts] == ["m1", "m2", "m3", "m4", "m25"]
    assert forward.more is True


def test_trim_marks_follow_retention(redis_url, rdb):
    client = storage.connect(redis_url)
    store = PostStore(client, history=50)
    assert store.trim_marks(["w"]) == {"w": None}
    add(store, 400)
    mark = store.trim_marks(["w"])["w"]
    oldest = rdb.xrange("wall:posts:w", count=1)[0][0]
    assert mark == oldest
    client.close()


def test_a_stream_from_before_the_ids_list_is_listed_and_trimmed(redis_url, rdb):
    # streams written before the ids list existed: their posts count too
    for i in range(300):
        rdb.xadd(keys.posts("w"), {"u": "ann", "m": "old%d" % i})
    rdb.xadd(keys.posts("w"), {"d": "1-1"})  # not a post
    client = storage.connect(redis_url)
    store = PostStore(client, history=50)
    add(store, 1, prefix="new")
    assert rdb.llen(keys.post_ids("w")) == 50
    messages = [p["message"] for p in store.latest("w", 200).posts]
    assert messages[-1] == "new0" and len(messages) == 50
    assert messages[0] == "old251"
    client.close()


def test_a_lowered_history_drops_thousands_at_once(redis_url, rdb):
    client = storage.connect(redis_url)
    big = PostStore(client, history=20000)
    pipe = rdb.pipeline()
    for i in range(9000):
        pipe.xadd(keys.posts("w"), {"u": "ann", "m": "m%d" % i})
    pipe.execute()
    add(big, 1, prefix="x")  # lists the 9,000 posts
    assert rdb.llen(keys.post_ids("w")) == 9001
    small = PostStore(client, history=100)
    add(small, 1, prefix="y")
    assert rdb.llen(keys.post_ids("w")) == 100
    assert small.latest("w", 1).posts[0]["message"] == "y0"
    client.close()


def _script_calls(rdb):
    stats = rdb.info("commandstats")
    return sum(stats.get(name, {}).get("calls", 0) for name in ("cmdstat_evalsha", "cmdstat_eval"))


def test_the_newest_posts_cost_posts_not_entries(store, rdb):
    # a busy wall's stream is mostly likes and moderation entries: a join
    # must not walk them
    posts = add(store, 60)
    pipe = rdb.pipeline()
    for _ in range(6000):
        pipe.xadd(keys.posts("w"), {"t": "likes", "j": "[]"})
    pipe.execute()
    before = _script_calls(rdb)
    page = store.latest("w", 50)
    assert _script_calls(rdb) - before == 1
    assert [p["id"] for p in page.posts] == [p["id"] for p in posts[10:]] and page.more
    assert page.end == rdb.xrevrange(keys.posts("w"), count=1)[0][0]
    older = store.before("w", posts[10]["id"], 50)
    assert [p["id"] for p in older.posts] == [p["id"] for p in posts[:10]] and not older.more
    upto = store.latest("w", 5, upto=posts[30]["id"])
    assert [p["id"] for p in upto.posts] == [p["id"] for p in posts[26:31]]


def test_hidden_and_pending_posts_are_walked_past(store, rdb):
    posts = add(store, 300)
    for p in posts[50:290]:
        store.moderate("w", p["id"], "hide")
    page = store.latest("w", 20)
    expected = posts[40:50] + posts[290:]
    assert [p["id"] for p in page.posts] == [p["id"] for p in expected] and page.more


def test_a_snapshot_of_a_post_gone_since_is_not_shown(store, rdb):
    a, b, c = add(store, 3)
    store.moderate("w", a["id"], "pin")
    assert store.like("w", b["id"], "c:x") is not None
    assert store.flush_likes("w", 1) == 1
    # retention drops posts without a tombstone: as if a and b were trimmed
    for post in (a, b):
        rdb.xdel(keys.posts("w"), post["id"])
        rdb.hdel(keys.state("w"), post["id"])
    page = store.after("w", c["id"], 50)
    assert page.posts == [] and set(page.deleted) == {a["id"], b["id"]}


def test_a_likes_snapshot_is_read_as_the_post_is_now(store):
    a, b = add(store, 2)
    store.like("w", a["id"], "c:x")
    assert store.flush_likes("w", 1) == 1
    store.like("w", a["id"], "c:y")  # not flushed yet
    store.moderate("w", a["id"], "hide")
    store.moderate("w", a["id"], "restore")
    page = store.after("w", b["id"], 50)
    assert [(p["id"], p["likes"]) for p in page.posts] == [(a["id"], 2)]


def test_deleting_a_post_forgets_who_liked_it(store, rdb):
    (a,) = add(store, 1)
    store.like("w", a["id"], "c:x")
    assert rdb.exists(keys.likers("w", a["id"]))
    store.delete_post("w", a["id"])
    assert not rdb.exists(keys.likers("w", a["id"]))
    assert not rdb.sismember(keys.likes_changed("w"), a["id"])
