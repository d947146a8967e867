"""Online counts across processes: up, down, coalesced, and dead processes forgotten."""

import threading

import pytest

from ..support.helpers import wait_for

pytestmark = pytest.mark.server


def last_count(client, wall):
    with client.lock:
        counts = [o["count"] for o in client.online if o["wall"] == wall]
    return counts[-1] if counts else None


def test_online_counts_across_processes(start_server, make_client, wall_name):
    one, two = start_server(), start_server()
    watcher = make_client(one)
    assert watcher.join(wall_name)["online"] == 1
    others = [make_client(two, "polling"), make_client(two)]
    replies = [c.join(wall_name) for c in others]
    assert replies[-1]["online"] == 3
    wait_for(lambda: last_count(watcher, wall_name) == 3, message="online 3")
    others[0].close()
    wait_for(lambda: last_count(watcher, wall_name) == 2, message="online 2")
    assert others[1].call("leave", {"wall": wall_name}) == {"ok": True, "wall": wall_name}
    wait_for(lambda: last_count(watcher, wall_name) == 1, message="online 1")


def test_a_join_storm_is_coalesced(server, make_client, wall_name):
    watcher = make_client(server)
    watcher.join(wall_name)
    clients = [make_client(server, "websocket") for _ in range(30)]
    threads = [threading.Thread(target=c.join, args=(wall_name,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: last_count(watcher, wall_name) == 31, message="online 31")
    # one announcement per second at most, not one per join
    assert len(watcher.online) <= 6, watcher.online


def test_a_dead_process_stops_counting(start_server, make_client, wall_name):
    one, two = start_server(), start_server()
    watcher = make_client(one)
    watcher.join(wall_name)
    for _ in range(3):
        make_client(two).join(wall_name)
    wait_for(lambda: last_count(watcher, wall_name) == 4, message="online 4")
    two.kill()
    # WALL_PRESENCE_TIMEOUT is 3 s in these servers (30 s by default)
    wait_for(lambda: last_count(watcher, wall_name) == 1, timeout=10, message="online 1")
