"""Overlapping calls made once (wall/realtime/coalesce.py), and joins in a storm that share them."""

import threading

import pytest

from wall import storage
from wall.metrics import Metrics
from wall.realtime.coalesce import Batched, Shared
from wall.realtime.delivery import Delivery
from wall.realtime.presence import Presence
from wall.storage.posts import PostStore
from wall.storage.presence import PresenceStore
from wall.storage.streams import StreamReader

from ...support.helpers import store_post
from .test_delivery import Sent, Sockets

W = "w"


class Gate:
    """A call that blocks until released, counting how often it was made."""

    def __init__(self):
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, value):
        self.calls += 1
        self.entered.set()
        assert self.release.wait(10)
        if isinstance(value, Exception):
            raise value
        return (value, self.calls)


def in_threads(n, target):
    results = [None] * n

    def run(i):
        try:
            results[i] = target(i)
        except BaseException as exc:  # noqa: B036 (a killed task's too)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def join_all(threads):
    for t in threads:
        t.join(10)
        assert not t.is_alive()


def wait_until(predicate):
    for _ in range(1000):
        if predicate():
            return
        threading.Event().wait(0.01)
    raise AssertionError("timed out")


def test_shared_calls_with_one_key_made_together_are_made_once():
    shared, gate = Shared(), Gate()
    first, _ = in_threads(1, lambda i: shared.call("k", gate, "page"))
    assert gate.entered.wait(10)
    others, results = in_threads(20, lambda i: shared.call("k", gate, "page"))
    other_key, other = in_threads(1, lambda i: shared.call("j", gate, "other"))
    wait_until(lambda: gate.calls == 2)  # another key is not held back
    gate.release.set()
    join_all(first + others + other_key)
    assert gate.calls == 2
    assert sorted(set(r[0] for r in results)) == ["page"]
    assert other[0][0] == "other"
    assert len(shared) == 0
    assert shared.call("k", lambda: "again") == "again"  # a later call is its own


def test_a_shared_error_reaches_every_caller_and_the_next_call_is_fresh():
    shared, gate = Shared(), Gate()
    boom = ConnectionError("Redis went away")
    first, res1 = in_threads(1, lambda i: shared.call("k", gate, boom))
    assert gate.entered.wait(10)
    others, results = in_threads(5, lambda i: shared.call("k", gate, boom))
    gate.release.set()
    join_all(first + others)
    assert all(r is boom for r in res1 + results)
    assert shared.call("k", lambda: "fine") == "fine"


def test_batched_calls_that_waited_share_one_call_made_after_they_came():
    batched, gate = Batched(), Gate()
    state = {"count": 0}

    def sync(_):
        return gate(state["count"])

    first, res1 = in_threads(1, lambda i: batched.call("w", sync, None))
    assert gate.entered.wait(10)
    state["count"] = 7  # changes the running call did not see
    others, results = in_threads(10, lambda i: batched.call("w", sync, None))
    wait_until(lambda: batched._keys["w"].next is not None)
    gate.release.set()
    join_all(first + others)
    assert res1 == [(0, 1)]
    # the ten waited for the first call, then made one call that saw the change
    assert results == [(7, 2)] * 10
    assert gate.calls == 2 and len(batched) == 0


class Killed(BaseException):
    """What a killed task raises (GreenletExit, say): not an error to share."""


class DiesOnce(Gate):
    def __call__(self, value):
        if self.calls == 0:
            self.calls += 1
            self.entered.set()
            assert self.release.wait(10)
            raise Killed()
        self.calls += 1
        return (value, self.calls)


@pytest.mark.parametrize("kind", [Shared, Batched])
def test_callers_of_a_call_whose_task_was_killed_make_the_call_themselves(kind):
    coalesced, gate = kind(), DiesOnce()
    if kind is Batched:
        # the one running, then a shared call whose maker dies
        running = Gate()
        first, _ = in_threads(1, lambda i: coalesced.call("k", running, "r"))
        assert running.entered.wait(10)
    killed, died = in_threads(1, lambda i: coalesced.call("k", gate, "v"))
    if kind is Shared:
        assert gate.entered.wait(10)
    else:
        wait_until(lambda: coalesced._keys["k"].next is not None)
    others, results = in_threads(5, lambda i: coalesced.call("k", gate, "v"))
    if kind is Batched:
        running.release.set()
        join_all(first)
        assert gate.entered.wait(10)
    gate.release.set()
    join_all(killed + others)
    # Batched: whichever of the waiters wakes first makes the call, so the
    # one killed need not be the first thread.
    outcomes = died + results
    assert sum(isinstance(r, Killed) for r in outcomes) == 1, outcomes
    if kind is Shared:
        assert isinstance(died[0], Killed)
    assert all(r[0] == "v" for r in outcomes if not isinstance(r, Killed)), outcomes
    assert len(coalesced) == 0


# -- joins in a storm, on the real test Redis ----------------------------------


class CountingPosts(PostStore):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads = 0
        self.slow = threading.Event()

    def after(self, *args, **kwargs):
        self.reads += 1
        self.slow.wait(0.3)  # a round trip on a busy process: joins pile up
        return super().after(*args, **kwargs)

    def latest(self, *args, **kwargs):
        self.reads += 1
        self.slow.wait(0.3)
        return super().latest(*args, **kwargs)


class CountingPresence(PresenceStore):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.syncs = 0

    def sync(self, *args, **kwargs):
        self.syncs += 1
        threading.Event().wait(0.1)
        return super().sync(*args, **kwargs)


class Announcer:
    def emit(self, *args, **kwargs):
        pass


@pytest.mark.parametrize("rejoin", [False, True], ids=["join", "rejoin-with-after"])
def test_joins_at_once_share_their_reads_and_online_writes_and_each_gets_its_page(
    redis_url, rejoin
):
    client = storage.connect(redis_url)
    blocking = storage.connect(redis_url, socket_timeout=5)
    try:
        posts = CountingPosts(client, history=10000)
        ids = [store_post(posts, W, "ann", "m%d" % i)[0]["id"] for i in range(60)]
        presence = Presence(Announcer(), CountingPresence(client), "proc-1")
        delivery = Delivery(
            posts,
            lambda group: (StreamReader(client, "proc"), blocking),
            Sockets(),
            presence,
            Sent(),
            Metrics(),
            spawn=lambda *args: None,
        )
        after = ids[30] if rejoin else None
        n = 50

        def join(i):
            sid = "s%d" % i
            joining = delivery.join(sid, W, after)  # counts the socket here
            online = presence.sync(W)
            ack = delivery.ready(joining)
            return [p["id"] for p in ack["posts"]], online

        threads, results = in_threads(n, join)
        join_all(threads)
        want = ids[31:] if rejoin else ids[10:]
        assert [r for r in results if isinstance(r, Exception)] == []
        assert all(page == want for page, _ in results)
        # every join's own socket is counted in the online it was given
        onlines = sorted(online for _, online in results)
        assert onlines[-1] == n and onlines[0] >= 1
        # 50 joins, a handful of round trips: the first alone, the rest together
        assert posts.reads <= 5, posts.reads
        assert presence.store.syncs <= 5, presence.store.syncs
        assert delivery.rooms.count(W) == n
    finally:
        client.close()
        blocking.close()
