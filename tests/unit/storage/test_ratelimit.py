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
