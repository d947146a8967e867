"""wall/drivers/message_queue.py: a message queue whose subscription went silent
(a half-open connection, through tests/support/tcp_proxy.py) hears other
processes again within seconds, on the real test Redis."""

import json
import logging

import pytest
import redis
import socketio

from wall.drivers import message_queue

from ...support.helpers import wait_for

CHANNEL = "wall-test-queue"
#: seconds between heartbeats: the subscription is declared dead after three missed
HEARTBEAT = 0.2


@pytest.fixture
def queue(redis_server, make_proxy):
    """A threading-mode Socket.IO server whose message queue reaches Redis through a proxy."""
    proxy = make_proxy(redis_server)
    manager = message_queue.manager(proxy.url, CHANNEL, {}, heartbeat=HEARTBEAT)
    server = socketio.Server(async_mode="threading", client_manager=manager)
    server.manager_initialized = True
    manager.initialize()
    yield server, proxy
    stop = getattr(manager, "stop", None)  # the stock manager has none (it listens for ever)
    if stop is not None:
        stop()


@pytest.mark.timeout(30)
def test_a_subscription_gone_silent_is_noticed_and_made_again(queue, redis_server, caplog):
    server, proxy = queue
    assert message_queue.LIVENESS.active
    sid = server.manager.connect("eio1", "/wall")
    another_process = redis.Redis.from_url(redis_server.url)

    def heard(room):
        # what another process's enter_room sends for a session held here
        message = {
            "method": "enter_room",
            "sid": sid,
            "room": room,
            "namespace": "/wall",
            "host_id": "another process",
        }
        another_process.publish(CHANNEL, json.dumps(message))
        return room in server.manager.get_rooms(sid, "/wall")

    try:
        wait_for(lambda: heard("before"), timeout=5, interval=0.1, message="the subscription")
        with caplog.at_level(logging.WARNING, logger="wall.drivers.message_queue"):
            proxy.blackhole()  # the subscription's connection stays open and silent
            proxy.restore()  # new connections get through
            wait_for(
                lambda: heard("after"),
                timeout=8,
                interval=0.1,
                message="another process heard through a new subscription",
            )
    finally:
        another_process.close()
    assert "resubscribing" in caplog.text
