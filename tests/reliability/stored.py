"""The walls' streams at the end against every post the soak made.

Every entry of a soak wall's stream (``XRANGE wall:posts:<wall>``) must be a
post the soak sent (field ``c`` = a client_id of the ledgers), stored once;
every post that was acknowledged (an ``ok`` ack, or its arrival by another
way first, as the page's outbox counts it) must be stored exactly once, with
the id it was acknowledged with, on its wall. A post still unacknowledged
when the run ends, or refused for another reason than ``unavailable`` or
``rate_limited``, is a failure too.
"""

from collections import defaultdict

SAMPLE = 20


def id_ms(post_id):
    return int(post_id.partition("-")[0])


def check_stored(entries, ledger, epoch):
    """``entries``: ``{wall: [(id, fields)]}``; ``ledger``: ``{client_id: record dict}``
    with times relative to ``epoch`` (a ``time.time()``).

    Returns ``(counts, samples)``: failures and plain counts by name.
    """
    counts = defaultdict(int)
    samples = defaultdict(list)

    def fail(kind, **detail):
        counts[kind] += 1
        if len(samples[kind]) < SAMPLE:
            samples[kind].append(detail)

    stored = defaultdict(list)  # client_id -> [(wall, id)]
    for wall, items in entries.items():
        for entry_id, fields in items:
            counts["entries"] += 1
            if "d" in fields:
                fail("tombstone", wall=wall, id=entry_id, fields=fields)
                continue
            cid = fields.get("c")
            if not cid:
                fail("stored_without_client_id", wall=wall, id=entry_id, fields=fields)
                continue
            stored[cid].append((wall, entry_id))
    for cid, places in stored.items():
        record = ledger.get(cid)
        if record is None or not record["attempts"]:
            fail("stored_never_sent", client_id=cid, places=places)
        if len(places) > 1:
            fail("stored_twice", client_id=cid, places=places)
    for cid, record in ledger.items():
        counts["posts"] += 1
        places = stored.get(cid, [])
        acked, seen_id = record["acked_id"], record["seen_id"]
        if acked and seen_id and acked != seen_id:
            if any(seen_id == entry_id for _, entry_id in places):
                fail("ack_and_delivery_differ", client_id=cid, **_brief(record))
            else:
                # it arrived, then Redis lost it (a failover before a replica
                # had it); the outbox sent it again and it was stored once
                counts["seen_then_lost_by_redis"] += 1
        if acked:
            counts["acknowledged"] += 1
            if seen_id:
                counts["arrived_before_its_ack"] += 1
            if not places:
                fail("acknowledged_not_stored", client_id=cid, id=acked, **_brief(record))
            elif places[0] != (record["wall"], acked):
                fail("stored_elsewhere", client_id=cid, id=acked, places=places, **_brief(record))
            if record["attempts"] > 1:
                counts["retried"] += 1
                # the answer to a later attempt was the original: idempotency at work
                if record["last_sent"] is not None and places:
                    stored_at = id_ms(places[0][1]) / 1000.0
                    if stored_at < epoch + record["last_sent"] - 0.001:
                        counts["stored_by_an_earlier_attempt"] += 1
        elif record["failed"]:
            fail("refused", client_id=cid, reply=record["failed"], **_brief(record))
        else:
            fail("never_acknowledged", client_id=cid, stored=bool(places), **_brief(record))
        for outcome, n in record["outcomes"].items():
            counts["answer:" + outcome] += n
    return dict(counts), dict(samples)


FAILURES = (
    "tombstone",
    "stored_without_client_id",
    "stored_never_sent",
    "stored_twice",
    "ack_and_delivery_differ",
    "acknowledged_not_stored",
    "stored_elsewhere",
    "refused",
    "never_acknowledged",
)


def _brief(record):
    return {
        k: record[k]
        for k in ("wall", "client", "created", "first_sent", "attempts", "outcomes", "acked_at")
    }
