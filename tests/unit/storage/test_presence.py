"""Online counts in Redis against the real test Redis."""

import pytest

from wall import storage
from wall.storage.presence import PresenceStore


@pytest.fixture
def store(redis_url):
    client = storage.connect(redis_url)
    yield PresenceStore(client)
    client.close()


def test_presence_counts_live_processes_and_gates_announcements(store, rdb):
    total, announce = store.sync("w", "p1", 2, timeout_s=30)
    assert (total, announce) == (2, 1)
    # changed again within the second: counted, but not announced yet
    total, announce = store.sync("w", "p2", 3, timeout_s=30)
    assert (total, announce) == (5, -1)
    rdb.delete("wall:online-gate:w")
    assert store.sync("w", "p2", 3, timeout_s=30) == (5, 1)
    assert store.sync("w", "p2", 3, timeout_s=30) == (5, 0)
    assert store.online("w", 30) == 5


def test_presence_forgets_dead_processes(store, rdb):
    store.sync("w", "dead", 4, timeout_s=30)
    rdb.zadd("wall:processes", {"dead": 1})  # last heartbeat long ago
    total, _ = store.sync("w", "alive", 1, timeout_s=30)
    assert total == 1
    assert rdb.hkeys("wall:online:w") == ["alive"]


def test_heartbeat_restates_counts_after_data_loss(store, rdb):
    store.sync("w", "p1", 2, timeout_s=30)
    rdb.flushall()
    store.heartbeat("p1", {"w": 2}, timeout_s=30)
    assert store.online("w", 30) == 2
