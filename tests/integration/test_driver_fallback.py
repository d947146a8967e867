"""When a library's internals change under a patch, the wall warns and keeps
serving through the library's own path (wall/drivers)."""

import os

import pytest

from ..support.helpers import wait_for
from ..support.servers import metric

pytestmark = pytest.mark.server

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "support", "changed_library.py")


@pytest.fixture
def start_changed(start_server):
    def start(*targets, async_mode="eventlet"):
        return start_server(
            env={"WALL_TEST_CHANGE": ",".join(targets)}, async_mode=async_mode, script=SCRIPT
        )

    return start


def test_changed_internals_switch_the_fast_paths_off_and_posts_still_flow(
    start_changed, make_client, wall_name
):
    server = start_changed(
        "socketio.server:Server._send_eio_packet",
        "engineio.socket:Socket._websocket_handler",
    )
    log = server.log()
    assert "fast path socketio.emits is off" in log and "Server._send_eio_packet changed" in log
    assert "fast path eventlet.direct_writes is off" in log
    assert "python-socketio 5.18" in log
    assert metric(server, 'wall_fast_path{name="socketio.emits"}') == 0
    assert metric(server, 'wall_fast_path{name="eventlet.direct_writes"}') == 0
    assert metric(server, 'wall_fast_path{name="eventlet.writer_on_demand"}') == 0
    # untouched patches stay on
    assert metric(server, 'wall_fast_path{name="eventlet.buffered_reads"}') == 1
    assert metric(server, 'wall_fast_path{name="socketio.sessions"}') == 1
    watchers = [make_client(server), make_client(server, "polling")]
    for watcher in watchers:
        watcher.join(wall_name)
    posted = [watchers[i % 2].post(wall_name, "m%d" % i)["post"]["id"] for i in range(10)]
    wait_for(
        lambda: all(sorted(w.ids()) == sorted(posted) for w in watchers),
        message="every post on both transports",
    )
    assert metric(server, 'wall_broadcast_frames{path="direct"}') == 0


def test_unchanged_internals_keep_every_eventlet_fast_path_on(start_changed):
    server = start_changed()
    for name in (
        "eventlet.direct_writes",
        "eventlet.buffered_reads",
        "eventlet.ping_timers",
        "eventlet.released_buffers",
        "eventlet.writer_on_demand",
        "eventlet.message_cap",
        "socketio.emits",
        "socketio.sessions",
        "socketio.message_queue_liveness",
    ):
        assert metric(server, 'wall_fast_path{name="%s"}' % name) == 1, name
    assert "fast path" not in server.log()


def test_under_gevent_its_own_patches_are_on_and_eventlet_s_are_off(start_changed):
    server = start_changed(async_mode="gevent")
    for name in (
        "gevent.message_cap",
        "gevent.direct_writes",
        "gevent.ping_timers",
        "gevent.released_buffers",
        "gevent.writer_on_demand",
        "gevent.inline_reads",
    ):
        assert metric(server, 'wall_fast_path{name="%s"}' % name) == 1, name
    assert metric(server, 'wall_fast_path{name="eventlet.direct_writes"}') == 0
    assert metric(server, 'wall_fast_path{name="socketio.emits"}') == 1
    assert "fast path" not in server.log()


def test_under_gevent_changed_internals_switch_direct_writes_off_and_posts_still_flow(
    start_changed, make_client, wall_name
):
    server = start_changed("simple_websocket.ws:Base.send", async_mode="gevent")
    log = server.log()
    assert "fast path gevent.direct_writes is off" in log and "Base.send changed" in log
    assert metric(server, 'wall_fast_path{name="gevent.direct_writes"}') == 0
    assert metric(server, 'wall_fast_path{name="gevent.ping_timers"}') == 1
    watchers = [make_client(server), make_client(server, "polling")]
    for watcher in watchers:
        watcher.join(wall_name)
    posted = [watchers[i % 2].post(wall_name, "m%d" % i)["post"]["id"] for i in range(10)]
    wait_for(
        lambda: all(sorted(w.ids()) == sorted(posted) for w in watchers),
        message="every post on both transports",
    )
    assert metric(server, 'wall_broadcast_frames{path="direct"}') == 0
