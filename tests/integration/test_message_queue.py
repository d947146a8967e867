"""The message queue's subscription survives a silently dead connection."""

import time

import pytest
import requests

from ..support.helpers import wait_for

pytestmark = pytest.mark.server


def counts(client, wall):
    with client.lock:
        return [o["count"] for o in client.online if o["wall"] == wall]


@pytest.mark.heavy  # a long run: make test-heavy (.ci/run)
@pytest.mark.timeout(120)
def test_half_open_subscription_is_replaced(
    own_redis, make_proxy, start_server, make_client, wall_name
):
    proxy = make_proxy(own_redis)
    one = start_server(redis=own_redis.url)
    two = start_server(redis=proxy.url)  # all of process 2's Redis traffic
    listener = make_client(two)
    listener.join(wall_name)
    make_client(one).join(wall_name)
    wait_for(lambda: 2 in counts(listener, wall_name), message="online 2 via the queue")

    proxy.blackhole()  # the subscription goes silent without closing
    time.sleep(1)
    proxy.restore()
    # The heartbeat (every 5 s, dead after 3 missed) replaces the subscription;
    # meanwhile /healthz tells the truth: past twice the heartbeat, degraded.
    statuses = set()
    deadline = time.monotonic() + 17
    while time.monotonic() < deadline:
        reply = requests.get(two.url + "/healthz", timeout=10)
        statuses.add(reply.json()["status"])
        time.sleep(0.5)
    assert "degraded" in statuses, statuses
    wait_for(
        lambda: requests.get(two.url + "/healthz", timeout=10).status_code == 200,
        timeout=15,
        message="healthy again once the subscription is back",
    )
    make_client(one).join(wall_name)  # process 1 announces online 3
    wait_for(
        lambda: 3 in counts(listener, wall_name),
        timeout=15,
        message="online 3 through a new subscription",
    )
    assert "resubscribing" in two.log()
