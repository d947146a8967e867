"""The soak's check of the streams against its posts (stored.py), on hand-made ledgers."""

from .stored import check_stored

EPOCH = 1_800_000_000.0


def record(wall="w", acked=None, seen=None, attempts=1, failed=None, last_sent=1.0):
    return {
        "wall": wall,
        "client": "c1",
        "created": 0.5,
        "first_sent": 0.6,
        "last_sent": last_sent,
        "attempts": attempts,
        "outcomes": {"ok": 1} if acked else {},
        "acked_id": acked,
        "acked_at": 1.2 if acked else None,
        "seen_id": seen,
        "seen_at": None,
        "failed": failed,
    }


def stored(*entries):
    return {"w": [(i, {"u": "c1", "m": "soak " + c, "c": c}) for i, c in entries]}


def failures(counts):
    from .stored import FAILURES

    return {k: counts[k] for k in FAILURES if counts.get(k)}


def test_every_acknowledged_post_stored_once_passes():
    counts, _ = check_stored(
        stored(("1-0", "a"), ("2-0", "b")),
        {"a": record(acked="1-0"), "b": record(acked="2-0", seen="2-0")},
        EPOCH,
    )
    assert failures(counts) == {}
    assert counts["acknowledged"] == 2 and counts["arrived_before_its_ack"] == 1


def test_a_post_seen_but_never_acknowledged_fails():
    # the outbox sends until the ack: an arrival alone is not a receipt
    counts, _ = check_stored(stored(("2-0", "b")), {"b": record(seen="2-0")}, EPOCH)
    assert failures(counts) == {"never_acknowledged": 1}


def test_a_post_seen_then_lost_by_redis_and_stored_again_passes():
    counts, _ = check_stored(
        stored(("3-0", "b")), {"b": record(acked="3-0", seen="2-0", attempts=2)}, EPOCH
    )
    assert failures(counts) == {} and counts["seen_then_lost_by_redis"] == 1


def test_an_acknowledged_post_missing_from_the_stream_is_lost():
    counts, samples = check_stored(stored(), {"a": record(acked="1-0")}, EPOCH)
    assert failures(counts) == {"acknowledged_not_stored": 1}
    assert samples["acknowledged_not_stored"][0]["client_id"] == "a"


def test_a_post_stored_twice_or_never_sent_fails():
    counts, _ = check_stored(
        stored(("1-0", "a"), ("2-0", "a"), ("3-0", "x")), {"a": record(acked="1-0")}, EPOCH
    )
    assert failures(counts) == {"stored_twice": 1, "stored_never_sent": 1}


def test_an_ack_with_another_id_than_stored_fails():
    counts, _ = check_stored(stored(("2-0", "a")), {"a": record(acked="1-0")}, EPOCH)
    assert failures(counts) == {"stored_elsewhere": 1}


def test_entries_the_soak_did_not_write_fail():
    entries = {"w": [("1-0", {"u": "x", "m": "y"}), ("2-0", {"d": "1-0"})]}
    counts, _ = check_stored(entries, {}, EPOCH)
    assert failures(counts) == {"stored_without_client_id": 1, "tombstone": 1}


def test_unacknowledged_and_refused_posts_fail():
    counts, _ = check_stored(
        stored(), {"a": record(), "b": record(failed={"ok": False, "error": "invalid"})}, EPOCH
    )
    assert failures(counts) == {"never_acknowledged": 1, "refused": 1}


def test_a_retry_answered_with_the_original_is_counted():
    # stored at EPOCH + 1.0 s; the last attempt went at EPOCH + 5.0 s
    counts, _ = check_stored(
        stored(("%d-0" % ((EPOCH + 1.0) * 1000), "a")),
        {"a": record(acked="%d-0" % ((EPOCH + 1.0) * 1000), attempts=3, last_sent=5.0)},
        EPOCH,
    )
    assert failures(counts) == {}
    assert counts["stored_by_an_earlier_attempt"] == 1
