"""Rate limits on the real test Redis: counted across callers, with a true retry_after."""

import pytest

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
