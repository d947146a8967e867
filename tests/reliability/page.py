"""A client that behaves as the wall's page does, on the test's aiohttp client.

:class:`PageClient` is a :class:`tests.support.aio_client.AioWallClient`
with the page's rules, read off static/js:

- connection-hub.js: reconnect after 0.5, 1, 2, 4, 5, 5... s, each with up
  to half of it as jitter; every wall is joined again on a new session.
- sync.js (:class:`WallSync`, one per wall): join with ``after`` = the newest
  id up to which it holds *every* post (``synced_id``; live posts move it
  only once the join and its catch-up are complete); a refused or timed-out
  join is retried after 2, 4, ... 10 s (``retry_after`` when given); an ack
  with ``more`` after a re-join pages the rest in with ``GET ?after=``
  (10 tries); ``truncated`` reloads the wall (a plain join); ``resync``
  re-joins.
- outbox.js (:class:`Outbox`): posts go strictly in order, one at a time,
  each with its ``client_id`` until it is stored: ``unavailable`` waits
  ``retry_after`` or 3 s, ``rate_limited`` ``retry_after`` or 2 s, no answer
  within 10 s waits 1 s, a lost connection waits for the next session; any
  other refusal fails the entry. An entry whose post arrives first by another
  way (live, a join ack, a page) is seen, and still sent until acknowledged.

Everything the client sees goes into its :class:`tests.reliability.views.WallView`
per wall, in wire order; every post into the process's :class:`Ledger`.
"""

import asyncio
import random
import time
from urllib.parse import quote

from wall import protocol

from ..support.aio_client import AioWallClient, Disconnected
from .views import WallView, id_key

# connection-hub.js
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 5.0
JOIN_TIMEOUT_S = 10.0
# sync.js
JOIN_RETRY_S = 2.0
JOIN_RETRY_MAX_S = 10.0
CATCH_UP_TRIES = 10
# outbox-entries.js
SEND_TIMEOUT_S = 10.0
TIMEOUT_RETRY_S = 1.0
UNAVAILABLE_RETRY_S = 3.0
RATE_LIMITED_RETRY_S = 2.0
# fetch() has no timeout of its own; ours, so that nothing waits forever
HTTP_TIMEOUT_S = 30.0


#: exceptions of the tasks started with spawn(): bugs of the soak, reported as such
CRASHES = []


#: every task started with spawn(), until it ends: asyncio itself only keeps
#: weak references, and a task waiting on a future nobody else holds would be
#: collected mid-wait
TASKS = set()


def spawn(coro):
    """A task whose unexpected exception is kept in :data:`CRASHES`, not lost."""
    task = asyncio.ensure_future(coro)
    TASKS.add(task)
    task.add_done_callback(_keep_crash)
    return task


def _keep_crash(task):
    TASKS.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and len(CRASHES) < 50:
        CRASHES.append("%s: %s" % (type(exc).__name__, exc))


def newer(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return b if id_key(b) > id_key(a) else a


class PostRecord:
    """One post the soak made: when, how often it was sent, how it ended."""

    __slots__ = (
        "client_id",
        "wall",
        "client",
        "created",
        "first_sent",
        "last_sent",
        "attempts",
        "outcomes",
        "acked_id",
        "acked_at",
        "seen_id",
        "seen_at",
        "failed",
    )

    def __init__(self, client_id, wall, client, created):
        self.client_id = client_id
        self.wall = wall
        self.client = client
        self.created = created
        self.first_sent = None
        self.last_sent = None
        self.attempts = 0
        self.outcomes = {}
        self.acked_id = None  # the id the ack gave (ok)
        self.acked_at = None
        self.seen_id = None  # the id its post arrived with before any ack (outbox.settle)
        self.seen_at = None
        self.failed = None

    def to_json(self, t0):
        def rel(t):
            return None if t is None else round(t - t0, 3)

        return {
            "wall": self.wall,
            "client": self.client,
            "created": rel(self.created),
            "first_sent": rel(self.first_sent),
            "last_sent": rel(self.last_sent),
            "attempts": self.attempts,
            "outcomes": self.outcomes,
            "acked_id": self.acked_id,
            "acked_at": rel(self.acked_at),
            "seen_id": self.seen_id,
            "seen_at": rel(self.seen_at),
            "failed": self.failed,
        }


class Ledger:
    """Every post of one client process, by client_id."""

    def __init__(self, timeline):
        self.records = {}
        self.timeline = timeline
        self.acked = 0
        self.pending = 0

    def created(self, record):
        self.records[record.client_id] = record
        self.pending += 1
        self.timeline.count("created", record.created)

    def attempt(self, record, now):
        if record.first_sent is None:
            record.first_sent = now
        record.last_sent = now
        record.attempts += 1
        self.timeline.count("attempts", now)

    def outcome(self, record, what, now):
        record.outcomes[what] = record.outcomes.get(what, 0) + 1
        self.timeline.count(what, now)

    def done(self, record, now, post_id, how):
        """The entry left the outbox: ``how`` is ``ack`` or ``seen`` (settled first)."""
        if how == "ack":
            record.acked_id, record.acked_at = post_id, now
        else:
            record.seen_id, record.seen_at = post_id, now
        self.pending -= 1
        self.acked += 1
        self.timeline.count("acked", now)
        start = record.first_sent if record.first_sent is not None else record.created
        self.timeline.latency("ack", now, (now - start) * 1000)

    def late_ack(self, record, now, post_id):
        """An ack for an entry already settled by its post's arrival."""
        record.acked_id, record.acked_at = post_id, now

    def failed(self, record, now, reply):
        record.failed = reply
        self.pending -= 1
        self.timeline.count("failed", now)


class Entry:
    __slots__ = ("record", "retry_at", "done")

    def __init__(self, record):
        self.record = record
        self.retry_at = 0.0
        self.done = False


class Outbox:
    """outbox.js for one client: strictly in order, one post in flight."""

    def __init__(self, client, ledger):
        self.client = client
        self.ledger = ledger
        self.entries = []  # oldest first
        self.by_id = {}
        self.task = None

    def __len__(self):
        return len(self.entries)

    def add(self, wall, client_id, now):
        record = PostRecord(client_id, wall, self.client.name, now)
        self.ledger.created(record)
        entry = Entry(record)
        self.entries.append(entry)
        self.by_id[client_id] = entry
        self.pump()

    def settle(self, post):
        """A post arrived: if it is one of ours still waiting, it is seen, and
        still sent until acknowledged (outbox.js: what arrives unacknowledged
        may be lost with a Redis that fails over)."""
        entry = self.by_id.get(post.get("client_id") or "")
        if entry is not None and entry.record.seen_id is None:
            entry.record.seen_id, entry.record.seen_at = post["id"], time.time()

    def pump(self):
        if self.entries and (self.task is None or self.task.done()):
            self.task = spawn(self._run())

    async def _run(self):
        client = self.client
        while self.entries:
            entry = self.entries[0]
            wait = entry.retry_at - time.time()
            if wait > 0:
                await asyncio.sleep(min(wait, 1.0))
                continue
            if not client.connected:
                try:
                    await asyncio.wait_for(client.up.wait(), 1.0)
                except TimeoutError:
                    pass
                continue
            record = entry.record
            payload = {
                "wall": record.wall,
                "username": client.name,
                "message": "soak " + record.client_id,
                "client_id": record.client_id,
            }
            now = time.time()
            self.ledger.attempt(record, now)
            try:
                reply = await client.call(protocol.ADD_TO_WALL, payload, timeout=SEND_TIMEOUT_S)
            except TimeoutError:
                self.ledger.outcome(record, "timeout", time.time())
                entry.retry_at = time.time() + TIMEOUT_RETRY_S
                continue
            except Disconnected:
                self.ledger.outcome(record, "offline", time.time())
                continue  # sent again once the connection is back
            now = time.time()
            if reply.get("ok") and reply.get("post"):
                self.ledger.outcome(record, "ok", now)
                if entry.done:
                    self.ledger.late_ack(record, now, reply["post"]["id"])
                else:
                    self.by_id.pop(record.client_id, None)
                    self.entries.remove(entry)
                    entry.done = True
                    self.ledger.done(record, now, reply["post"]["id"], "ack")
                continue
            error = reply.get("error") or "unknown"
            self.ledger.outcome(record, error, now)
            if entry.done:
                continue
            retry_after = float(reply.get("retry_after") or 0)
            if error == protocol.RATE_LIMITED:
                entry.retry_at = now + (retry_after or RATE_LIMITED_RETRY_S)
            elif error == protocol.UNAVAILABLE:
                entry.retry_at = now + (retry_after or UNAVAILABLE_RETRY_S)
            else:  # "failed": kept for the person to edit; for the soak, a failure
                self.by_id.pop(record.client_id, None)
                self.entries.remove(entry)
                entry.done = True
                self.ledger.failed(record, now, reply)


class WallSync:
    """sync.js for one wall of one client."""

    def __init__(self, client, wall):
        self.client = client
        self.wall = wall
        self.view = WallView(wall)
        self.synced_id = None
        self.synced = False
        self.generation = 0
        self.session = None
        self.feed_newest = None  # the newest id the feed holds
        self.next_kind = "join"
        self.truncations = 0
        self.catch_ups = 0
        self.gave_up = 0

    # -- connection state --------------------------------------------------------

    def live(self, session):
        if session != self.session:
            self.session = session
            self.view.opened(session)
            self.rejoin()

    def offline(self):
        self.session = None
        self.generation += 1
        self.synced = False
        self.view.closed()

    # -- server events -------------------------------------------------------------

    def on_post(self, post, now):
        self.view.live(post["id"], now - self.client.t0)
        self.feed_newest = newer(self.feed_newest, post["id"])
        if self.synced:
            self.synced_id = newer(self.synced_id, post["id"])

    def on_resync(self):
        self.view.resynced()
        if self.session is not None:
            self.next_kind = "resync"
            self.rejoin()

    # -- joining ----------------------------------------------------------------------

    def rejoin(self):
        self.generation += 1
        self.synced = False
        spawn(self._join(self.generation))

    async def _join(self, gen):
        failures = 0
        while gen == self.generation:
            after = self.synced_id
            kind = self.next_kind  # only "reload" matters to the check
            follow = {}

            def on_reply(reply, after=after, kind=kind, follow=follow):
                # Runs as the ack is read, like the page's promise callback
                # (a microtask, before the socket's next message).
                if gen != self.generation or not reply.get("ok"):
                    return
                now = time.time() - self.client.t0
                seg = self.view.acked(kind, now, after, reply)
                self.next_kind = "rejoin"
                if reply.get("truncated"):
                    self.truncations += 1
                    follow["restart"] = True
                    return
                for post in reply.get("posts", ()):
                    self._accept(post)
                if after is not None and reply.get("more"):
                    posts = reply.get("posts") or ()
                    follow["catch_up"] = (seg, posts[-1]["id"] if posts else after)
                else:
                    self._mark_synced()

            def on_late_reply(reply, after=after, kind=kind):
                # This join timed out and was retried, but the server did
                # answer it: the socket is live on the wall from this ack on,
                # and live posts follow it. The page ignores it, as the
                # browser's hub does (its ack timeout drops it, and the retry
                # asks again from the same synced_id); the record keeps it,
                # since it is on the wire before those live posts.
                if reply.get("ok") and self.session is not None:
                    self.view.acked(kind, time.time() - self.client.t0, after, reply)

            data = {"wall": self.wall} if after is None else {"wall": self.wall, "after": after}
            try:
                reply = await self.client.call(
                    protocol.JOIN,
                    data,
                    timeout=JOIN_TIMEOUT_S,
                    on_reply=on_reply,
                    on_late_reply=on_late_reply,
                )
            except Disconnected:
                return  # 'offline': the next session re-joins anyway
            except TimeoutError:
                reply = None
            if gen != self.generation:
                return
            if reply is None or not reply.get("ok"):
                failures += 1
                retry_after = float((reply or {}).get("retry_after") or 0)
                await asyncio.sleep(retry_after or min(JOIN_RETRY_S * failures, JOIN_RETRY_MAX_S))
                continue
            if follow.get("restart"):
                self._restart()
            elif "catch_up" in follow:
                await self._catch_up(gen, *follow["catch_up"])
            return

    async def _catch_up(self, gen, seg, cursor):
        self.catch_ups += 1
        failures = 0
        path = "/api/walls/%s/posts" % quote(self.wall)
        while gen == self.generation:
            try:
                status, data = await self.client.http_get(
                    "%s?after=%s&limit=%d" % (path, quote(cursor), protocol.CATCH_UP_POSTS),
                    timeout=HTTP_TIMEOUT_S,
                )
                if status != 200 or not isinstance(data, dict):
                    raise OSError("HTTP %s" % status)
            except Exception:
                failures += 1
                if failures >= CATCH_UP_TRIES:
                    self.gave_up += 1
                    return  # the next reconnect resumes from synced_id
                await asyncio.sleep(min(JOIN_RETRY_S * failures, JOIN_RETRY_MAX_S))
                continue
            if gen != self.generation:
                return
            if data.get("truncated"):
                self.truncations += 1
                self._restart()
                return
            posts = data.get("posts") or []
            self.view.paged(seg, posts, bool(data.get("more")))
            for post in posts:
                self._accept(post)
            last = posts[-1]["id"] if posts else None
            if not data.get("more") or last is None:
                self._mark_synced()
                return
            cursor = last

    def _accept(self, post):
        self.feed_newest = newer(self.feed_newest, post["id"])
        self.client.outbox.settle(post)

    def _mark_synced(self):
        self.synced_id = newer(self.synced_id, self.feed_newest)
        self.synced = True

    def _restart(self):
        # retention dropped posts we never saw: the wall afresh
        self.feed_newest = None
        self.synced_id = None
        self.next_kind = "reload"
        self.rejoin()


class PageClient(AioWallClient):
    """One page's connection: its walls, its outbox, what it saw."""

    def __init__(self, name, base_url, transport, local_addr, walls, ledger, timeline, t0):
        super().__init__(
            base_url, transport, local_addr, reconnect=True, keep=False, watch_pings=True
        )
        self.name = name
        self.ledger = ledger
        self.timeline = timeline
        self.t0 = t0
        self.session = 0
        self.syncs = {wall: WallSync(self, wall) for wall in walls}
        self.outbox = Outbox(self, ledger)
        self.up = asyncio.Event()  # set while a session is open
        self.delivered = 0
        self.disconnects = 0
        self.stray = []  # events for walls this client never joined
        # canaries count their deliveries apart: one series per app process
        self.series = "delivered:" + name if name.startswith("canary") else "delivered"

    @property
    def walls_list(self):
        return list(self.syncs)

    def joined_everywhere(self):
        """Connected and synced on every wall (the first joins are done)."""
        return self.connected and all(s.synced for s in self.syncs.values())

    def synced_everywhere(self, newest):
        """Connected, synced and holding ``newest[wall]`` on every wall."""
        return self.connected and all(
            s.synced and s.feed_newest == newest.get(w) for w, s in self.syncs.items()
        )

    async def start(self, deadline):
        """Connect, retrying as the page does, until ``deadline`` (time.time())."""
        failures = 0
        while True:
            try:
                await self.connect(timeout=JOIN_TIMEOUT_S)
                return
            except Exception:
                if time.time() > deadline:
                    raise
                await asyncio.sleep(self.reconnect_delay(failures))
                failures += 1

    # -- the hub's rules ------------------------------------------------------------

    def reconnect_delay(self, failures):
        ceiling = min(RETRY_MAX_S, RETRY_FIRST_S * 2**failures)
        return ceiling * (0.5 + random.random() / 2)

    def on_session(self, reconnected):
        self.session += 1
        if reconnected:
            self.timeline.count("reconnects", time.time())
        self.up.set()
        for sync in self.syncs.values():
            sync.live(self.session)
        self.outbox.pump()

    def on_disconnect(self, reason):
        self.disconnects += 1
        self.timeline.count("disconnects", time.time())
        self.up.clear()
        for sync in self.syncs.values():
            sync.offline()

    def on_post(self, post):
        now = time.time()
        sync = self.syncs.get(post.get("wall"))
        if sync is None:
            self.stray.append(("new post", post.get("wall"), post.get("id")))
            return
        self.delivered += 1
        self.timeline.count(self.series, now)
        self.timeline.latency("delivery", now, max(0.0, now * 1000 - post["ts"]))
        sync.on_post(post, now)
        self.outbox.settle(post)

    def on_event(self, name, payload):
        wall = payload.get("wall") if isinstance(payload, dict) else None
        if name == protocol.ONLINE:
            return
        sync = self.syncs.get(wall)
        if sync is None:
            self.stray.append((name, wall, None))
            return
        if name == protocol.RESYNC:
            self.timeline.count("resyncs", time.time())
            sync.on_resync()
        elif name == protocol.POST_DELETED:
            sync.view.violate(
                "post deleted", "post deleted %r (the soak deletes nothing)" % (payload,), 0
            )
