"""Rate limits on the real test Redis: counted across callers, with a true retry_after."""

import threading
import time

import pytest
import redis

from wall.errors import RateLimited
from wall.storage import connection, ratelimit


@pytest.fixture
def limits(redis_url):
    return connection.limits_storage(connection.parse(redis_url))


@pytest.mark.parametrize("window", [ratelimit.fixed_window, ratelimit.moving_window])
@pytest.mark.parametrize("who", ["10.0.0.1", None])
def test_past_the_limit_retry_after_says_how_long_the_window_still_runs(limits, window, who):
    limit = window(limits, "2/minute", "ip", "wait %d s")
    limit.hit(who)
    limit.hit(who)
    with pytest.raises(RateLimited) as refused:
        limit.hit(who)
    # A request without an address is counted as "unknown", and its wait is
    # read off that same window (it once came back as 1 s from an empty one).
    assert 50 <= refused.value.retry_after <= 60
    assert refused.value.to_dict()["retry_after"] == refused.value.retry_after
    assert refused.value.message == "wait %d s" % refused.value.retry_after


def test_each_caller_has_its_own_window(limits):
    limit = ratelimit.moving_window(limits, "1/minute", "socket", "wait %d s")
    limit.hit("a")
    limit.hit("b")
    with pytest.raises(RateLimited):
        limit.hit("a")


def test_no_limit_never_refuses():
    for _ in range(1000):
        ratelimit.NoLimit().hit("a")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_socket_window_is_a_moving_window_per_session_counted_here():
    clock = Clock()
    window = ratelimit.SocketWindow("3/10 seconds", "wait %d s", clock=clock)
    for _ in range(3):
        window.hit("s1")
        clock.now += 1
    with pytest.raises(RateLimited) as refused:
        window.hit("s1")  # 3 in the last 10 s
    assert refused.value.retry_after == 7 and str(refused.value) == "wait 7 s"
    window.hit("s2")  # another session has its own
    clock.now += 7.5  # the first hit leaves the window: one more, and only one
    window.hit("s1")
    with pytest.raises(RateLimited):
        window.hit("s1")
    clock.now += 1
    window.hit("s1")
    assert len(window) == 2
    window.forget("s1")
    window.forget("gone")
    assert len(window) == 1
    for _ in range(3):
        window.hit("s1")  # a session that ended starts afresh


def hit_concurrently(hits, checks_of, n):
    results = [None] * n
    ready = threading.Barrier(n)

    def run(i):
        ready.wait()
        try:
            hits.hit(checks_of(i))
            results[i] = "ok"
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


class Sizes:
    """Records the size of every round trip of a :class:`ratelimit.Hits`."""

    def __init__(self, hits):
        self.sizes = []
        one, many = hits._batch.send_one, hits._batch.send_many

        def slow_one(checks):
            self.sizes.append(1)
            time.sleep(0.05)  # a round trip on a busy server: the others queue
            return one(checks)

        def recorded_many(items):
            self.sizes.append(len(items))
            return many(items)

        hits._batch.send_one, hits._batch.send_many = slow_one, recorded_many


def test_concurrent_checks_share_round_trips_and_count_exactly(limits, rdb):
    hits = ratelimit.Hits(limits)
    sizes = Sizes(hits)
    per_ip = ratelimit.moving_window(limits, "20/minute", "ip", "wait %d s")
    results = hit_concurrently(hits, lambda i: [(per_ip, "10.0.0.1")], 30)
    assert results.count("ok") == 20
    refused = [r for r in results if r != "ok"]
    assert all(isinstance(r, RateLimited) and 50 <= r.retry_after <= 60 for r in refused)
    assert max(sizes.sizes) > 1 and len(sizes.sizes) < 30, sizes.sizes
    rdb.flushdb()


def test_a_check_refused_stops_there_and_what_follows_is_not_counted(limits, rdb):
    hits = ratelimit.Hits(limits)
    Sizes(hits)
    per_client = ratelimit.moving_window(limits, "1/minute", "client", "client: wait %d s")
    per_ip = ratelimit.moving_window(limits, "100/minute", "ip", "wait %d s")
    # ten clients, each posting three times at once: one post each gets through
    results = hit_concurrently(
        hits, lambda i: [(per_client, "c:%d" % (i % 10)), (per_ip, "10.0.0.2")], 30
    )
    assert results.count("ok") == 10
    assert all(str(r).startswith("client: wait") for r in results if r != "ok")
    # the address counted only the ten posts its clients let through
    key = limits.prefixed_key(per_ip._item.key_for("ip", "10.0.0.2"))
    assert rdb.llen(key) == 10
    rdb.flushdb()


def test_checks_in_a_batch_survive_redis_losing_its_scripts(limits, rdb):
    hits = ratelimit.Hits(limits)
    sizes = Sizes(hits)
    per_ip = ratelimit.moving_window(limits, "1000/minute", "ip", "wait %d s")
    hits.hit([(per_ip, "10.0.0.3")])  # loads the script
    rdb.script_flush()
    results = hit_concurrently(hits, lambda i: [(per_ip, "10.0.0.3")], 20)
    assert results == ["ok"] * 20 and max(sizes.sizes) > 1
    rdb.flushdb()


def test_redis_down_fails_every_check_of_a_batch_and_the_next_one_goes(limits, rdb):
    dead = ratelimit.Hits(
        connection.limits_storage(connection.parse("redis://127.0.0.1:1/0"), pool_size=4)
    )
    per_ip = ratelimit.moving_window(dead.storage, "1000/minute", "ip", "wait %d s")
    results = hit_concurrently(dead, lambda i: [(per_ip, "10.0.0.4")], 10)
    assert all(isinstance(r, redis.ConnectionError) for r in results), results
    hits = ratelimit.Hits(limits)
    live_ip = ratelimit.moving_window(limits, "1000/minute", "ip", "wait %d s")
    hits.hit([(live_ip, "10.0.0.4")])
    rdb.flushdb()
