"""The package runs under gevent as well as eventlet (app.py picks the library)."""

import pytest

from ..support.helpers import wait_for

pytestmark = pytest.mark.server


def test_gevent_mode_serves_websocket_and_polling(start_server, make_client, wall_name):
    server = start_server(async_mode="gevent")
    clients = [make_client(server, "websocket"), make_client(server, "polling")]
    for c in clients:
        c.join(wall_name)
    post = clients[1].post(wall_name, "under gevent")["post"]
    wait_for(lambda: all(c.ids() == [post["id"]] for c in clients))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_keep_alive_requests_do_not_wait_for_delayed_acks(start_server, async_mode):
    # gevent's WSGI server sends a response's headers and body in two
    # writes: with Nagle's algorithm on, the body waited for the client's
    # delayed ACK, 40 ms or more on every request of a kept-alive
    # connection (each long-poll, each REST call). Without it, about 1 ms.
    import http.client
    import statistics
    import time
    from urllib.parse import urlsplit

    server = start_server(async_mode=async_mode)
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    times = []
    try:
        for _ in range(21):
            started = time.perf_counter()
            connection.request("GET", "/healthz")
            reply = connection.getresponse()
            reply.read()
            times.append(time.perf_counter() - started)
            assert reply.status == 200
    finally:
        connection.close()
    assert statistics.median(times[1:]) < 0.02, times


@pytest.mark.timeout(60)
@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_the_server_runs_with_rarer_full_collections(start_server, async_mode):
    # Full collections visit every open connection's objects; a reconnect
    # storm spent a third of its time in them with Python's thresholds.
    from wall.serve import GC_THRESHOLDS

    from ..support.servers import metric

    server = start_server(async_mode=async_mode)
    for generation, threshold in enumerate(GC_THRESHOLDS):
        assert metric(server, 'wall_gc_threshold{generation="%d"}' % generation) == threshold
    # what the app built at startup is frozen: no collection visits it again
    assert metric(server, "wall_gc_frozen_objects") > 10_000
    # Python's own counters are exported too (metric() fails on a missing sample)
    assert metric(server, 'python_gc_collections_total{generation="0"}') >= 0
