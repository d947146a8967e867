"""Delivery's join, ready and extend, step by step, against the real test Redis.

The reader is not started: each test runs its rounds itself with
:meth:`Delivery.poll`, at exactly the moment a race would put them (while a
join is pending, before its ack is ready...), so every ordering is tested
deterministically, in milliseconds. The Socket.IO side is a recorder: what
is checked is who would have been sent what, and in which order.
"""

import time

import pytest

from wall import protocol, storage
from wall.errors import Forbidden
from wall.metrics import Metrics
from wall.realtime.delivery import Delivery
from wall.storage import keys
from wall.storage.posts import PostStore
from wall.storage.streams import StreamReader
from wall.storage.walls import WallStore

from ...support.helpers import store_post

W = "w"


class Sockets:
    """Stands in for SocketRooms: engine.io ids are "e-" + sid."""

    def __init__(self):
        self.rooms = set()

    def eio_sid(self, sid):
        return "e-" + sid

    def enter(self, sid, wall):
        self.rooms.add((sid, wall))

    def leave(self, sid, wall):
        self.rooms.discard((sid, wall))


class Counts:
    def __init__(self):
        self.local = {}

    def set_local(self, wall, count):
        self.local[wall] = count


class Sent:
    """Stands in for Broadcast: records (recipients, event, data)."""

    def __init__(self):
        self.log = []
        #: the length of every send_many
        self.runs = []
        #: (event, data) -> True for what cannot be encoded
        self.fails = None

    def send(self, eio_sids, event, data):
        self._encode(event, data)
        self.log.append((sorted(eio_sids), event, data))

    def send_many(self, eio_sids, messages):
        for event, data in messages:  # all encoded first: on an error none is sent
            self._encode(event, data)
        self.runs.append(len(messages))
        for event, data in messages:
            self.send(eio_sids, event, data)

    def _encode(self, event, data):
        if self.fails is not None and self.fails(event, data):
            raise TypeError("cannot encode")

    def to(self, eio_sid, event=protocol.NEW_POST):
        return [
            d["id"] if event == protocol.NEW_POST else d
            for r, e, d in self.log
            if eio_sid in r and e == event
        ]


@pytest.fixture
def parts(redis_url):
    client = storage.connect(redis_url)
    blocking = storage.connect(redis_url, socket_timeout=5)
    posts = PostStore(client, history=10000)
    sent, counts, sockets = Sent(), Counts(), Sockets()
    delivery = Delivery(
        posts,
        lambda group: (StreamReader(client, "proc"), blocking),
        sockets,
        counts,
        sent,
        Metrics(),
        spawn=lambda *args: None,  # no reader task: the tests poll themselves
    )
    delivery.wake_position = "0-0"
    yield delivery, posts, sent, counts, sockets
    client.close()
    blocking.close()


def poll(delivery):
    delivery.wake_position = delivery.poll(0, delivery.wake_position, block_ms=1)


def add(posts, n, prefix="m"):
    return [store_post(posts, W, "ann", "%s%d" % (prefix, i))[0]["id"] for i in range(n)]


def join(delivery, sid, after=None):
    return delivery.ready(delivery.join(sid, W, after))


def ids(ack):
    return [p["id"] for p in ack["posts"]]


def test_a_plain_join_gets_the_newest_page_and_then_only_what_follows(parts):
    delivery, posts, sent, counts, sockets = parts
    old = add(posts, 60)
    ack = join(delivery, "a")
    assert ids(ack) == old[10:] and ack["more"] is True
    assert ("a", W) in sockets.rooms and counts.local[W] == 1
    poll(delivery)
    assert sent.to("e-a") == []  # nothing the ack already held
    new = add(posts, 3, "n")
    poll(delivery)
    assert sent.to("e-a") == new


def test_posts_read_while_a_join_is_pending_skip_it_and_complete_its_ack(parts):
    delivery, posts, sent, _, _ = parts
    first = add(posts, 2)
    join(delivery, "live")
    joining = delivery.join("late", W)  # pending from here
    during = add(posts, 3, "during")
    poll(delivery)
    assert sent.to("e-live") == during
    assert sent.to("e-late") == [], "a live post reached a socket before its ack"
    ack = delivery.ready(joining)
    assert ids(ack) == first + during  # the ack was completed with them
    after = add(posts, 1, "after")
    poll(delivery)
    assert sent.to("e-late") == after and sent.to("e-live") == during + after


def test_a_catch_up_join_while_pending_gets_the_posts_read_meanwhile(parts):
    delivery, posts, sent, _, _ = parts
    old = add(posts, 5)
    join(delivery, "live")
    joining = delivery.join("back", W, after=old[1])
    during = add(posts, 2, "during")
    poll(delivery)
    ack = delivery.ready(joining)
    assert ids(ack) == old[2:] + during and ack["more"] is False
    assert sent.to("e-back") == []


def test_a_page_that_ran_ahead_of_the_reader_is_cut_back_and_the_rest_comes_live(parts):
    delivery, posts, sent, _, _ = parts
    add(posts, 2)
    join(delivery, "live")  # the reader's position: the second post
    ahead = add(posts, 2, "ahead")  # stored, not yet read
    ack = join(delivery, "new")
    assert ahead[0] not in ids(ack), "the ack held posts past the reader's position"
    poll(delivery)
    assert sent.to("e-new") == ahead and sent.to("e-live") == ahead


def test_more_than_a_page_while_pending_gives_the_newest_page(parts):
    delivery, posts, sent, _, _ = parts
    join(delivery, "live")
    joining = delivery.join("late", W)
    burst = add(posts, protocol.JOIN_POSTS + 10, "burst")
    poll(delivery)
    ack = delivery.ready(joining)
    assert ids(ack) == burst[-protocol.JOIN_POSTS :] and ack["more"] is True
    assert sent.to("e-late") == []


def test_a_catch_up_with_more_pages_stops_at_the_reader_and_leaves_the_rest_to_http(parts):
    delivery, posts, sent, _, _ = parts
    old = add(posts, protocol.CATCH_UP_POSTS + 20)
    join(delivery, "live")
    joining = delivery.join("back", W, after=old[0])
    during = add(posts, 2, "during")
    poll(delivery)
    ack = delivery.ready(joining)
    assert ids(ack) == old[1 : protocol.CATCH_UP_POSTS + 1] and ack["more"] is True
    later = add(posts, 1, "later")
    poll(delivery)
    # what it missed is paged over HTTP; live delivery starts after the reader's position
    assert sent.to("e-back") == later and during[0] not in sent.to("e-back")


def test_a_deletion_while_pending_is_in_the_ack(parts):
    delivery, posts, sent, _, _ = parts
    old = add(posts, 3)
    join(delivery, "live")
    joining = delivery.join("back", W, after=old[0])
    posts.delete_post(W, old[1])
    poll(delivery)
    ack = delivery.ready(joining)
    assert ids(ack) == [old[2]] and ack["deleted"] == [old[1]]
    assert sent.to("e-live", protocol.POST_DELETED) == [{"wall": W, "id": old[1]}]
    assert sent.to("e-back", protocol.POST_DELETED) == []


def _make_private(client, salt="s1"):
    WallStore(client).update(W, {"visibility": "private", "passcode": "h", "title": "T"}, salt)


@pytest.mark.parametrize("after", [None, "first", "paged"])
def test_settings_changed_while_pending_are_in_the_ack_and_enforced(parts, after):
    delivery, posts, sent, _, sockets = parts
    old = add(posts, protocol.CATCH_UP_POSTS + 5 if after == "paged" else 3)
    allowed = {"granted"}
    delivery.access = lambda sid, wall, grant, salt: sid in allowed and salt == "s1"
    join(delivery, "live")
    since = None if after is None else old[0]
    granted = delivery.join("granted", W, after=since)
    stranger = delivery.join("stranger", W, after=since)
    _make_private(posts.redis)
    poll(delivery)
    told = sent.to("e-live", protocol.WALL_UPDATED)
    assert told and told[-1]["settings"]["visibility"] == "private"
    ack = delivery.ready(granted)
    assert ack["settings"]["visibility"] == "private" and ack["settings"]["title"] == "T"
    assert not any(k.startswith("_") for k in ack["settings"])
    with pytest.raises(Forbidden):
        delivery.ready(stranger)
    assert ("stranger", W) not in sockets.rooms
    later = add(posts, 1, "later")
    poll(delivery)
    assert sent.to("e-granted") == later and sent.to("e-stranger") == []


def test_a_socket_that_leaves_while_pending_never_goes_live(parts):
    delivery, posts, sent, counts, sockets = parts
    join(delivery, "live")
    joining = delivery.join("gone", W)
    assert counts.local[W] == 2
    assert delivery.leave("gone", W) is True
    assert counts.local[W] == 1 and ("gone", W) not in sockets.rooms
    delivery.ready(joining)
    add(posts, 1)
    poll(delivery)
    assert sent.to("e-gone") == []
    assert delivery.leave("gone", W) is False


def test_a_rejoin_counts_once_and_the_last_socket_stops_the_reading(parts):
    delivery, posts, _, counts, _ = parts
    join(delivery, "a")
    join(delivery, "a")
    assert counts.local[W] == 1 and delivery.joined_count() == 1
    delivery.disconnect("a")
    assert counts.local[W] == 0 and delivery.walls() == []


def test_a_reader_far_behind_sends_resync_and_goes_on_from_the_newest(parts):
    delivery, posts, sent, _, _ = parts
    join(delivery, "a")
    add(posts, protocol.RESYNC_BEHIND + 5)
    poll(delivery)
    assert sent.to("e-a", protocol.RESYNC) == [{"wall": W}]
    assert sent.to("e-a") == []
    new = add(posts, 1, "new")
    poll(delivery)
    assert sent.to("e-a") == new


def test_like_entries_never_make_a_read_full_enough_to_resync(parts):
    delivery, posts, sent, _, _ = parts
    join(delivery, "a")
    shown = add(posts, protocol.RESYNC_BEHIND - 10)
    version = posts.redis.hget(keys.meta(W), "v") or ""
    for n in range(20):  # 20 like entries: the first read holds 10 of them, and is full
        assert posts.like(W, shown[n], "c:fan%d" % n, True, version) == (1, True)
        time.sleep(0.003)  # past the gap of the flush before
        assert posts.flush_likes(W, 1) == 1
    poll(delivery)
    poll(delivery)
    assert sent.to("e-a", protocol.RESYNC) == []
    assert sent.to("e-a") == shown
    updated = sent.to("e-a", protocol.POST_UPDATED)
    assert [u["post"]["id"] for u in updated] == shown[:20]
    assert all(u["post"]["likes"] == 1 for u in updated)


def test_a_send_that_closes_a_session_does_not_deadlock_the_reader(parts):
    """engine.io checks the ping timeout on every queued send and closes a
    dead session at once, which leaves its walls from inside the send."""
    import threading

    delivery, posts, sent, counts, _ = parts
    join(delivery, "a")
    join(delivery, "dead")
    send = sent.send

    def send_and_close(eio_sids, event, data):
        send(eio_sids, event, data)
        if "e-dead" in eio_sids:
            delivery.disconnect("dead")  # what the close's disconnect handler does

    sent.send = send_and_close
    add(posts, 2)
    reader = threading.Thread(target=poll, args=(delivery,), daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "the reader deadlocked on its own lock"
    assert counts.local[W] == 1
    new = add(posts, 1, "later")
    poll(delivery)
    assert sent.to("e-a")[-1] == new[0] and sent.to("e-dead")[-1] != new[0]


def test_posts_read_together_go_out_as_one_run_to_the_same_sockets(parts):
    delivery, posts, sent, _, _ = parts
    join(delivery, "a")
    join(delivery, "b")
    first = add(posts, 3)
    poll(delivery)
    assert sent.runs == [3], "one send for the three posts of one read"
    assert sent.to("e-a") == sent.to("e-b") == first
    later = add(posts, 1, "later")
    poll(delivery)
    assert sent.runs == [3] and sent.to("e-a")[-1] == later[0]


def test_a_run_stops_where_the_sockets_change(parts):
    delivery, posts, sent, _, _ = parts
    join(delivery, "a")
    store_post(posts, W, "ann", "one")
    WallStore(posts.redis).update(W, {"title": "T"}, "s1")
    store_post(posts, W, "ann", "two")
    poll(delivery)
    events = [e for _, e, _ in sent.log]
    assert events == [protocol.NEW_POST, protocol.WALL_UPDATED, protocol.NEW_POST], events
    # the change goes to the watchers from before it, then may change them
    assert sent.runs == [2]


def test_an_entry_that_cannot_be_sent_at_all_makes_its_sockets_resync(parts):
    delivery, posts, sent, _, _ = parts
    join(delivery, "a")
    sent.fails = lambda event, data: event == protocol.NEW_POST and data["message"] == "m1"
    first = add(posts, 3)
    poll(delivery)
    assert sent.to("e-a") == [first[0], first[2]]
    assert sent.to("e-a", protocol.RESYNC) == [{"wall": W}]
    later = add(posts, 1, "later")
    poll(delivery)
    assert sent.to("e-a")[-1] == later[0], "delivery stopped after the failure"


def test_entries_it_does_not_understand_are_stepped_over_and_delivery_goes_on(parts, rdb):
    delivery, posts, sent, _, _ = parts
    join(delivery, "a")
    rdb.xadd("wall:posts:" + W, {"foo": "bar"})
    rdb.xadd("wall:posts:" + W, {"u": "only u"})
    rdb.xadd("wall:posts:" + W, {"u": b"\xff", "m": b"\xfe"})
    after = add(posts, 2, "after")
    poll(delivery)
    assert sent.log and sent.to("e-a") == after
    assert all(e == protocol.NEW_POST for _, e, _ in sent.log)
    # and a join now holds the posts only
    assert ids(join(delivery, "b"))[-2:] == after


def test_a_reader_that_finds_its_position_gone_sends_resync(parts, rdb):
    # Redis came back without the last entry delivered (a replica promoted
    # before it had it): pages may show a post that no longer exists
    delivery, posts, sent, _, _ = parts
    join(delivery, "a")
    shown = add(posts, 2)
    poll(delivery)
    assert sent.to("e-a") == shown
    rdb.xdel(keys.posts(W), shown[1])  # as if never written
    rdb.lrem(keys.post_ids(W), 0, shown[1])
    delivery._readers[0].suspect = True
    after = add(posts, 1, "after")
    poll(delivery)
    assert sent.to("e-a", protocol.RESYNC) == [{"wall": W}]
    # what was written after the lost entry comes live, once
    assert sent.to("e-a") == shown + after
    # its re-join after the lost post is told to reload
    ack = join(delivery, "a", after=shown[1])
    assert ack["truncated"] is True
    # while a re-join after a post that is still there is not
    assert "truncated" not in join(delivery, "b", after=shown[0])
