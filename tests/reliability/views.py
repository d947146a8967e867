"""What one client saw of one wall, and the strict check of it against the wall's stream.

A client "saw" a post when it arrived in one of three ways: in the ack of a
``join`` (``posts``), in a catch-up page (``GET /api/walls/<wall>/posts?after=``,
fetched when a re-join's ack says ``more``), or live (``new post``). The
ack of an ``add to wall`` is the sender's receipt, not a way of seeing.

The record (:class:`WallView`) is a list of :class:`Segment`: one per join
ack, in the order the acks arrived, each with the ``after`` it was asked
with, its ack's posts, its pages and the live posts read after it (until
the next ack on the same connection, or the connection's end). Ids are
kept exactly as they arrived: nothing is merged, sorted or dropped.

The check (:func:`check_view`), against the wall's posts as ``XRANGE``
returns them at the end (the stream ``S``; ``succ(x)`` is the first post of
``S`` after id ``x``, whether or not ``x`` is in ``S``):

1. **Ack and pages** of a segment are one run: every id is in ``S``
   (else *phantom*), each the successor in ``S`` of the one before (a
   lower id is *reordered*, the same id *doubled*, a skipped post a *gap*).
   The run starts at ``succ(after)``; a plain join (no ``after``) without
   ``more`` starts at the wall's first post, one with ``more`` holds 50.
2. **Live posts** of a segment are a run too: the first is
   ``succ(last post of the ack)`` (``succ(after)`` for an empty ack), except
   after an ack with ``more``: then the first live post lies anywhere after
   the ack's last (the protocol lets live posts and the catch-up pages
   overlap; the pages must close the distance). After a ``resync`` event
   the next live post may jump ahead (the server said it would skip).
   Live posts on one connection only ever go forward, across re-joins too.
3. **Coverage**: from the first post of the client's first join ack (the
   wall's first post if that ack was empty) to the end of ``S``, every post
   arrived at least once; one that never did is *lost*. A re-join with
   ``truncated`` (the client reloads the wall) or a plain re-join restarts
   this; what lies between is reported as skipped, and is not a failure
   only when it was announced (``truncated``).
4. **Exactly once**: a post that arrived more than once is *doubled*, except
   in the two overlaps the protocol allows: a catch-up page and live posts
   of the same segment, and a later segment's ack or pages bringing again a
   post after its own ``after`` (the client asked for it again because its
   synced position was behind it). These are counted, not failed.

A post that is not in ``S`` is a *phantom*, unless the page reloaded on a
``truncated`` ack after seeing it (Redis lost it in a failover and the
reload took it off the page): then it is counted as *retracted*.

A live post with no join ack before it on that connection, a post for a
wall the client did not join, ``deleted`` or ``post deleted`` (the soak
deletes nothing) are contract failures too.
"""

import sys
from bisect import bisect_right
from collections import defaultdict

from wall import protocol

SAMPLE = 20  # failures of each kind kept with their details, per view


def id_key(post_id):
    ms, _, seq = post_id.partition("-")
    return int(ms), int(seq or 0)


class Segment:
    """One join ack and what followed it on that connection."""

    __slots__ = (
        "kind",
        "conn",
        "t",
        "after",
        "ack",
        "more",
        "truncated",
        "pages",
        "pages_done",
        "live",
        "resync_marks",
    )

    def __init__(self, kind, conn, t, after, ack, more, truncated):
        self.kind = kind  # "join" (no after), "rejoin" (new connection), "resync", "reload"
        self.conn = conn
        self.t = t
        self.after = after
        self.ack = ack
        self.more = more
        self.truncated = truncated
        self.pages = []
        self.pages_done = not (more and after is not None)
        self.live = []
        self.resync_marks = []  # len(live) when a resync event arrived

    def to_json(self):
        return {
            "kind": self.kind,
            "conn": self.conn,
            "t": round(self.t, 3),
            "after": self.after,
            "ack": [self.ack[0], self.ack[-1], len(self.ack)] if self.ack else [],
            "more": self.more,
            "truncated": self.truncated,
            "pages": len(self.pages),
            "pages_done": self.pages_done,
            "live": [self.live[0], self.live[-1], len(self.live)] if self.live else [],
            "resyncs": self.resync_marks,
        }


class WallView:
    """Everything one client saw of one wall, as it arrived."""

    def __init__(self, wall):
        self.wall = wall
        self.segments = []
        self.current = None  # where live posts go: the last ack on the open connection
        self.conn = 0
        self.violations = []  # contract failures seen as they happened
        self.resyncs = 0

    # -- recording (called in wire order) ---------------------------------------

    def opened(self, conn):
        self.conn = conn
        self.current = None

    def closed(self):
        self.current = None

    def acked(self, kind, t, after, reply):
        ack = [sys.intern(p["id"]) for p in reply.get("posts", ())]
        seg = Segment(
            kind,
            self.conn,
            t,
            after,
            ack,
            bool(reply.get("more")),
            bool(reply.get("truncated")),
        )
        if reply.get("deleted"):
            self.violate("deleted", "join ack lists deleted posts %r" % reply["deleted"][:5], t)
        self.segments.append(seg)
        self.current = seg
        return seg

    def paged(self, seg, posts, more):
        seg.pages.extend(sys.intern(p["id"]) for p in posts)
        if not more:
            seg.pages_done = True

    def live(self, post_id, t):
        if self.current is None:
            self.violate(
                "live before join", "new post %s with no join ack on this connection" % post_id, t
            )
            return
        self.current.live.append(sys.intern(post_id))

    def resynced(self):
        self.resyncs += 1
        if self.current is not None:
            self.current.resync_marks.append(len(self.current.live))

    def violate(self, kind, text, t):
        if len(self.violations) < 100:
            self.violations.append({"what": kind, "text": text, "t": round(t, 3)})

    @property
    def newest(self):
        best = None
        for seg in self.segments:
            for run in (seg.ack, seg.pages, seg.live):
                if run and (best is None or id_key(run[-1]) > id_key(best)):
                    best = max(run, key=id_key)
        return best


class Stream:
    """A wall's post ids as XRANGE returned them (tombstones left out)."""

    def __init__(self, ids):
        self.ids = list(ids)
        self.keys = [id_key(i) for i in self.ids]
        self.pos = {i: n for n, i in enumerate(self.ids)}
        if self.keys != sorted(self.keys) or len(self.pos) != len(self.ids):
            raise ValueError("a stream's ids must be unique and increasing")

    def succ(self, post_id):
        """Index of the first post after ``post_id`` (len when there is none)."""
        return bisect_right(self.keys, id_key(post_id))

    def __len__(self):
        return len(self.ids)


class Findings:
    """The failures and counts of one check."""

    KINDS = ("lost", "doubled", "reordered", "gap", "phantom", "contract")
    ALLOWED = (
        "page_live_overlap",
        "refetched",
        "skipped_truncated",
        "skipped_plain_rejoin",
        "retracted",
    )

    def __init__(self):
        self.counts = defaultdict(int)
        self.samples = defaultdict(list)

    def add(self, kind, n=1, **detail):
        self.counts[kind] += n
        if detail and len(self.samples[kind]) < SAMPLE:
            self.samples[kind].append(detail)

    @property
    def failed(self):
        return any(self.counts[k] for k in self.KINDS)

    def to_json(self):
        return {"counts": dict(self.counts), "samples": dict(self.samples)}


def check_view(view, stream):
    """Check one :class:`WallView` against its wall's :class:`Stream`; return :class:`Findings`."""
    found = Findings()
    S = stream
    where = defaultdict(list)  # position in S -> [(segment index, part)], in check order
    start = None  # from here on the client must have every post
    conn_last = {}  # connection -> highest live position read on it
    skipped = set()

    # A post seen before the page reloaded on `truncated`, and not in the
    # stream: Redis lost it (a failover before a replica had it) and the
    # reload took it off the page; the check counts it as retracted.
    last_reload = max((i for i, s in enumerate(view.segments) if s.kind == "reload"), default=-1)

    def pos_of(post_id, si, part):
        p = S.pos.get(post_id)
        if p is None:
            kind = "retracted" if si < last_reload else "phantom"
            found.add(kind, id=post_id, segment=si, part=part, t=view.segments[si].t)
        return p

    def covered_upto():
        return max(where) if where else -1

    for si, seg in enumerate(view.segments):
        shown = not seg.truncated  # the page drops a truncated ack and reloads
        # -- 1. the ack and its pages: one run from succ(after)
        if seg.after is not None:
            expect = S.succ(seg.after)
        elif not seg.more:
            expect = 0
        else:
            expect = None
            if len(seg.ack) != protocol.JOIN_POSTS:
                found.add(
                    "contract",
                    segment=si,
                    t=seg.t,
                    text="a plain join ack with more holds %d posts, not %d"
                    % (len(seg.ack), protocol.JOIN_POSTS),
                )
        # -- 3. where the client's obligation starts (again)
        if si == 0 or seg.kind == "reload" or (seg.after is None and shown):
            if seg.ack:
                begin = S.pos.get(seg.ack[0])
            else:
                begin = 0 if expect == 0 else None
            if begin is not None:
                if start is not None:
                    reason = "skipped_truncated" if seg.kind == "reload" else "skipped_plain_rejoin"
                    gap = [q for q in range(covered_upto() + 1, begin) if q not in where]
                    if gap:
                        found.add(reason, len(gap), segment=si, t=seg.t, first=S.ids[gap[0]])
                        skipped.update(gap)
                start = begin if start is None else min(start, begin)

        prev = None
        last_ack = None
        for part, ids in (("ack", seg.ack), ("page", seg.pages)):
            for post_id in ids:
                p = pos_of(post_id, si, part)
                if p is None:
                    continue
                if shown:
                    where[p].append((si, part))
                if prev is None:
                    if expect is not None and p != expect:
                        _misplaced(found, S, si, seg, part, expect, p)
                else:
                    _step(found, S, si, seg, part, prev, p)
                prev = p if prev is None else max(prev, p)
                if part == "ack":
                    last_ack = prev
        if last_ack is None:  # an empty ack: nothing after `after` (or on the wall) yet
            last_ack = expect - 1 if expect is not None else None

        # -- 2. live posts
        catch_up = seg.after is not None and seg.more
        prev = last_ack
        marks = set(seg.resync_marks)
        first_live = None
        for k, post_id in enumerate(seg.live):
            p = pos_of(post_id, si, "live")
            if p is None:
                continue
            where[p].append((si, "live"))
            first = first_live is None
            if first:
                first_live = p
            if prev is None:
                pass  # a plain join with more whose ack held no post of S: a phantom already
            elif first and catch_up:
                if p < prev:  # p == prev is counted as doubled below
                    found.add(
                        "reordered",
                        segment=si,
                        part="live",
                        t=seg.t,
                        id=post_id,
                        after_id=S.ids[prev],
                        text="first live post before the ack's last post",
                    )
            elif k in marks and p > prev:
                pass  # after a resync event the server may skip ahead
            else:
                _step(found, S, si, seg, "live", prev, p)
            prev = p if prev is None else max(prev, p)
        if first_live is not None:
            before = conn_last.get(seg.conn)
            if before is not None and first_live < before:  # equal: doubled, below
                found.add(
                    "reordered",
                    segment=si,
                    t=seg.t,
                    id=S.ids[first_live],
                    text="live posts went back on one connection across a re-join",
                )
            conn_last[seg.conn] = max(before if before is not None else -1, prev)

    if start is None:
        start = 0 if not view.segments else len(S)
    # -- 3. coverage
    for p in range(start, len(S)):
        if p not in where and p not in skipped:
            found.add("lost", id=S.ids[p])
    # -- 4. exactly once
    for p, deliveries in where.items():
        for n in range(1, len(deliveries)):
            si, part = deliveries[n]
            earlier = deliveries[:n]
            if part == "live" and (si, "page") in earlier:
                found.add("page_live_overlap")
            elif part == "page" and (si, "live") in earlier:
                found.add("page_live_overlap")
            elif (
                part in ("ack", "page")
                and all(e[0] < si for e in earlier)
                and (view.segments[si].after is None or p >= S.succ(view.segments[si].after))
            ):
                found.add("refetched")  # the client asked again: its `after` was behind p
            else:
                found.add(
                    "doubled",
                    id=S.ids[p],
                    segments=[d[0] for d in deliveries],
                    parts=[d[1] for d in deliveries],
                    t=view.segments[si].t,
                )
    for v in view.violations:
        found.add("contract", **v)
    return found


def _step(found, S, si, seg, part, prev, p):
    """Check that position ``p`` follows ``prev`` in one run."""
    if p == prev:
        pass  # counted once, as doubled, by the exactly-once pass
    elif p < prev:
        found.add("reordered", segment=si, part=part, t=seg.t, id=S.ids[p], after_id=S.ids[prev])
    elif p != prev + 1:
        found.add(
            "gap",
            p - prev - 1,
            segment=si,
            part=part,
            t=seg.t,
            after_id=S.ids[prev],
            next_id=S.ids[p],
            missing=p - prev - 1,
        )


def _misplaced(found, S, si, seg, part, expect, p):
    """The first post of a run is not where the protocol says it starts."""
    if p < expect:
        found.add(
            "contract",
            segment=si,
            part=part,
            t=seg.t,
            id=S.ids[p],
            text="the %s starts at or before after=%s" % (part, seg.after),
        )
    else:
        found.add(
            "gap",
            p - expect,
            segment=si,
            part=part,
            t=seg.t,
            after=seg.after,
            next_id=S.ids[p],
            missing=p - expect,
        )
