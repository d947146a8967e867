"""The soak's check of what a client saw (views.py), on hand-made records."""

from .views import Stream, WallView, check_view

IDS = ["%d-0" % (1000 + i) for i in range(400)]
S = Stream(IDS)


def posts(ids):
    return [{"id": i} for i in ids]


def view_of(*steps):
    """Build a view: ("open", conn), ("ack", after, ids, more), ("page", ids, more),
    ("live", ids), ("resync",), ("close",)."""
    view = WallView("w")
    seg = None
    for step in steps:
        kind = step[0]
        if kind == "open":
            view.opened(step[1])
        elif kind == "close":
            view.closed()
        elif kind == "ack":
            _, after, ids, more = step[:4]
            reply = {"ok": True, "posts": posts(ids), "more": more}
            if len(step) > 4:
                reply.update(step[4])
            label = "join" if after is None else "rejoin"
            seg = view.acked(step[5] if len(step) > 5 else label, 0.0, after, reply)
        elif kind == "page":
            view.paged(seg, posts(step[1]), step[2])
        elif kind == "live":
            for i in step[1]:
                view.live(i, 0.0)
        elif kind == "resync":
            view.resynced()
    return view


def counts(view, stream=S):
    found = check_view(view, stream)
    return {k: v for k, v in found.counts.items() if v}


def test_a_client_that_saw_everything_live_passes():
    assert counts(view_of(("open", 1), ("ack", None, [], False), ("live", IDS))) == {}


def test_a_join_with_history_then_live_passes():
    view = view_of(("open", 1), ("ack", None, IDS[:10], False), ("live", IDS[10:]))
    assert counts(view) == {}


def test_a_plain_join_with_more_holds_the_newest_fifty():
    view = view_of(("open", 1), ("ack", None, IDS[50:100], True), ("live", IDS[100:]))
    assert counts(view) == {}
    short = view_of(("open", 1), ("ack", None, IDS[60:100], True), ("live", IDS[100:]))
    assert counts(short) == {"contract": 1}


def test_a_reconnect_with_after_continues_without_overlap():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:100]),
        ("close",),
        ("open", 2),
        ("ack", IDS[99], IDS[100:150], False),
        ("live", IDS[150:]),
    )
    assert counts(view) == {}


def test_catch_up_pages_may_overlap_live_posts():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:10]),
        ("close",),
        ("open", 2),
        ("ack", IDS[9], IDS[10:210], True),
        ("live", IDS[230:]),  # live from where the server's position was
        ("page", IDS[210:240], False),  # the page ran past it: 10 posts twice
    )
    assert counts(view) == {"page_live_overlap": 10}


def test_catch_up_that_never_closes_the_distance_loses_posts():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:10]),
        ("close",),
        ("open", 2),
        ("ack", IDS[9], IDS[10:210], True),
        ("live", IDS[230:]),
        ("page", IDS[210:220], True),  # gave up here
    )
    assert counts(view) == {"lost": 10}


def test_a_missing_live_post_is_a_gap_and_lost():
    view = view_of(("open", 1), ("ack", None, [], False), ("live", IDS[:5] + IDS[6:]))
    assert counts(view) == {"gap": 1, "lost": 1}


def test_a_live_post_twice_is_doubled():
    view = view_of(("open", 1), ("ack", None, [], False), ("live", IDS[:5] + IDS[4:]))
    assert counts(view) == {"doubled": 1}


def test_live_posts_out_of_order_are_reordered():
    live = IDS[:5] + [IDS[6], IDS[5]] + IDS[7:]
    found = counts(view_of(("open", 1), ("ack", None, [], False), ("live", live)))
    assert found["reordered"] == 1 and "lost" not in found


def test_a_live_post_already_in_the_ack_is_doubled():
    view = view_of(("open", 1), ("ack", None, IDS[:10], False), ("live", IDS[9:]))
    assert counts(view) == {"doubled": 1}


def test_a_post_not_in_the_stream_is_a_phantom():
    view = view_of(("open", 1), ("ack", None, [], False), ("live", IDS + ["5000-0"]))
    assert counts(view) == {"phantom": 1}


def test_a_rejoin_ack_from_before_after_is_a_contract_failure_and_doubled():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:100]),
        ("close",),
        ("open", 2),
        ("ack", IDS[99], IDS[98:150], False),
        ("live", IDS[150:]),
    )
    assert counts(view) == {"contract": 1, "doubled": 2}


def test_a_rejoin_ack_that_skips_posts_after_after_is_a_gap():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:100]),
        ("close",),
        ("open", 2),
        ("ack", IDS[99], IDS[101:150], False),
        ("live", IDS[150:]),
    )
    assert counts(view) == {"gap": 1, "lost": 1}


def test_a_client_that_asked_again_gets_refetched_not_doubled():
    # disconnected before it was synced: its after (IDS[9]) is behind what it saw
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:20]),
        ("close",),
        ("open", 2),
        ("ack", IDS[9], IDS[10:30], False),
        ("live", IDS[30:]),
    )
    assert counts(view) == {"refetched": 10}


def test_a_resync_lets_live_posts_skip_and_the_rejoin_covers_them():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:50]),
        ("resync",),
        ("live", IDS[80:85]),  # skipped 50..79; these arrived before the re-join's ack
        ("ack", IDS[49], IDS[50:90], False, {}, "resync"),
        ("live", IDS[90:]),
    )
    assert counts(view) == {"refetched": 5}


def test_a_skip_without_resync_is_a_gap():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:50]),
        ("live", IDS[80:85]),
        ("ack", IDS[49], IDS[50:90], False, {}, "resync"),
        ("live", IDS[90:]),
    )
    assert counts(view) == {"gap": 30, "refetched": 5}


def test_live_posts_going_back_across_a_rejoin_on_one_connection_are_reordered():
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:50]),
        ("ack", IDS[40], IDS[41:45], False, {}, "resync"),
        ("live", IDS[45:]),
    )
    found = counts(view)
    assert found["reordered"] == 1 and found["doubled"] == 5


def test_a_live_post_before_any_join_ack_is_a_contract_failure():
    view = view_of(("open", 1), ("live", IDS[:1]), ("ack", None, IDS[:1], False), ("live", IDS[1:]))
    assert counts(view) == {"contract": 1}


def test_a_truncated_rejoin_then_reload_excuses_what_retention_dropped():
    stream = Stream(IDS[:10] + IDS[300:])  # 10..299 trimmed away
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:10]),
        ("close",),
        ("open", 2),
        ("ack", IDS[9], [], False, {"truncated": True}),
        ("ack", None, IDS[350:400], True, {}, "reload"),
    )
    assert counts(view, stream) == {"skipped_truncated": 50}


def test_posts_before_the_first_join_are_not_owed():
    view = view_of(("open", 1), ("ack", None, IDS[300:350], True), ("live", IDS[350:]))
    assert counts(view) == {}


def test_a_post_redis_lost_is_retracted_by_the_reload():
    # seen live, then lost in a failover: resync, the re-join after it is
    # truncated, the page reloads; the post it saw is no longer claimed
    lost = "1100-5"
    stream = Stream(IDS[:120])
    view = view_of(
        ("open", 1),
        ("ack", None, [], False),
        ("live", IDS[:100] + [lost]),
        ("resync",),
        ("ack", lost, [], False, {"truncated": True}),
        ("ack", None, IDS[70:120], True, {}, "reload"),
        ("live", []),
    )
    assert counts(view, stream) == {"retracted": 1, "refetched": 30}
    # without the reload it is a phantom
    kept = view_of(("open", 1), ("ack", None, [], False), ("live", IDS[:100] + [lost]))
    assert counts(kept, stream)["phantom"] == 1
