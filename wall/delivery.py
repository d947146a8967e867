"""Delivery of posts from the Redis Streams to this process's sockets.

One background task per process reads, with one blocking ``XREAD``, the
stream of every wall that has a socket here, from the last id it delivered on
each, and emits each new post to that wall's local sockets only. Because the
position lives here and not in a pub/sub subscription, a Redis reconnect
resumes exactly where delivery stopped: nothing is lost, nothing is doubled.

A joining socket is pending until its ack is ready: live posts skip it, and
the ack is then completed with every post up to the wall's delivery position
in the same step that makes it live. So the ack comes first, and the first
live post it gets is the first one after what the ack held. Each post is
sent to the wall's live sockets through :mod:`wall.broadcast`.
"""

import logging
import threading
import time
import uuid

import redis

from .store import Deletion, id_key

log = logging.getLogger(__name__)

NAMESPACE = "/wall"
JOIN_POSTS = 50  # newest posts in a plain join
CATCH_UP_POSTS = 200  # posts after ``after`` in a re-join
# Entries per wall in one read. A reader that gets this many at once is that
# far behind: its sockets are told to re-join instead of being flooded.
READ_COUNT = 1000


class Delivery:
    """The per-process reader and the bookkeeping of which socket sees which wall.

    :param socketio: the ``flask_socketio.SocketIO`` to emit with.
    :param store: a :class:`wall.store.WallStore`.
    :param reader: a Redis client of its own for the blocking read, with a
                   socket timeout longer than ``block_ms``.
    :param presence: a :class:`wall.presence.Presence` told of every change.
    :param metrics: a :class:`wall.metrics.Metrics`.
    :param broadcast: a :class:`wall.broadcast.Broadcast` for ``/wall``.
    """

    def __init__(self, socketio, store, reader, presence, metrics, broadcast, block_ms=5000):
        self.socketio = socketio
        self.broadcast = broadcast
        self.metrics = metrics
        self.store = store
        self.reader = reader
        self.presence = presence
        self.block_ms = block_ms
        self.process_id = presence.process_id
        self._wake_key = store.wake_key(self.process_id)
        # Held while positions change and while a batch is emitted, so that
        # a join sees a position and enters the room with nothing in between.
        self._lock = threading.Lock()
        self._positions = {}  # wall -> id of the last post delivered here
        self._members = {}  # wall -> {sid: eio_sid} of the live local sockets
        self._pending = {}  # wall -> sids joining (see ready())
        self._walls_of = {}  # sid -> set of walls
        self._task = None
        self._running = False
        self._start_lock = threading.Lock()
        #: False under WALL_DELIVERY=pubsub: joins work, nothing is read
        self.reading = True

    # -- called by the /wall handlers ---------------------------------------

    def join(self, sid, wall, after=None):
        """Put ``sid`` on ``wall``, pending: live posts skip it until :meth:`ready`.

        Returns the :class:`Joining` to hand to :meth:`ready` once the
        handler's other work is done.
        """
        self._ensure_running()
        with self._lock:
            position = self._positions.get(wall)
        if after is None:
            page = self.store.latest(wall, JOIN_POSTS, upto=position)
        else:
            page = self.store.after(wall, after, CATCH_UP_POSTS, upto=position)
        eio_sid = self.socketio.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        joining = Joining(sid, eio_sid, wall, page, newest=after is None)
        with self._lock:
            first_here = self._enter(joining)
        if first_here and self.reading:
            self.store.wake(self._wake_key)
        return joining

    def ready(self, joining):
        """Make a pending socket live; return its join ack (without ``online``).

        Posts the reader delivered while the socket was pending are added to
        the ack. The caller must send the ack without yielding to other
        tasks in between (a handler's return value is), so that no live post
        can reach the socket before it.
        """
        sid, wall, page = joining.sid, joining.wall, joining.page
        while True:
            with self._lock:
                pending = self._pending.get(wall)
                if pending is None or sid not in pending:
                    break  # it left, or went away, meanwhile
                current = self._positions[wall]
                if id_key(current) <= id_key(page.end):
                    pending.discard(sid)
                    if not pending:
                        del self._pending[wall]
                    self._members.setdefault(wall, {})[sid] = joining.eio_sid
                    break
            self._extend(wall, page, current, joining.newest)
        ack = {"ok": True, "wall": wall, "posts": page.posts, "more": page.more}
        if page.deleted:
            ack["deleted"] = page.deleted
        if page.truncated:
            ack["truncated"] = True
        return ack

    def leave(self, sid, wall):
        """Take ``sid`` off ``wall``; return True if it was on it."""
        with self._lock:
            walls = self._walls_of.get(sid, set())
            if wall not in walls:
                return False
            walls.discard(wall)
            self._drop(sid, wall)
        self.socketio.server.leave_room(sid, wall, namespace=NAMESPACE)
        return True

    def disconnect(self, sid):
        """Forget a socket that went away (its rooms are gone with it)."""
        with self._lock:
            for wall in self._walls_of.pop(sid, set()):
                self._drop(sid, wall)

    def walls(self):
        """The walls with a socket in this process."""
        with self._lock:
            return list(self._positions)

    def joined_count(self):
        """Socket joins to walls in this process (a socket on two walls counts twice)."""
        with self._lock:
            return sum(self._count(wall) for wall in self._positions)

    # -- lifecycle -----------------------------------------------------------

    def stop(self):
        """Stop the reader (it notices within one Redis round trip)."""
        self._running = False
        if self._task is not None:
            try:
                self.store.wake(self._wake_key)
            except redis.RedisError:
                pass
            self._task.join()
            self._task = None

    def _ensure_running(self):
        if self._running or not self.reading:
            return
        with self._start_lock:
            if not self._running:
                # Read before starting, so that a wake-up sent from now on
                # (stop() included) interrupts the reader's first read.
                wake_position = self.store.last_wake(self._wake_key)
                self._running = True
                self._task = self.socketio.start_background_task(self._run, wake_position)

    # -- internals -----------------------------------------------------------

    def _enter(self, joining):
        """Add a pending socket (lock held); return True if the wall is new here."""
        wall, page = joining.wall, joining.page
        current = self._positions.get(wall)
        first_here = current is None
        if first_here:
            self._positions[wall] = page.end
        elif id_key(current) < id_key(page.end):
            # The page ran ahead of the reader: what lies past its position
            # comes live, so the page stops there.
            page.posts = [p for p in page.posts if id_key(p["id"]) <= id_key(current)]
            page.end = current
        live = self._members.get(wall)
        if live is not None and live.pop(joining.sid, None) is not None and not live:
            del self._members[wall]  # a re-join: live again once its new ack is ready
        self._pending.setdefault(wall, set()).add(joining.sid)
        self._walls_of.setdefault(joining.sid, set()).add(wall)
        self.socketio.server.enter_room(joining.sid, wall, namespace=NAMESPACE)
        self.presence.set_local(wall, self._count(wall))
        return first_here

    def _count(self, wall):
        return len(self._members.get(wall, ())) + len(self._pending.get(wall, ()))

    def _drop(self, sid, wall):
        members, pending = self._members.get(wall), self._pending.get(wall)
        if members is not None:
            members.pop(sid, None)
            if not members:
                del self._members[wall]
        if pending is not None:
            pending.discard(sid)
            if not pending:
                del self._pending[wall]
        count = self._count(wall)
        if not count:
            # Nobody here watches this wall: stop reading it. A later join
            # starts again from the stream's end at that moment.
            self._positions.pop(wall, None)
        self.presence.set_local(wall, count)

    def _extend(self, wall, page, upto, newest):
        """Add to ``page`` what the reader delivered past its end, up to ``upto``."""
        limit = JOIN_POSTS if newest else CATCH_UP_POSTS
        if not newest and page.more:
            # The client pages the rest over HTTP; live posts start at upto.
            page.end = upto
            return
        extra = self.store.range(wall, page.end, upto, limit)
        if newest and extra.more:
            # More than a page arrived meanwhile: the newest page up to upto.
            fresh = self.store.latest(wall, limit, upto=upto)
            page.posts, page.more, page.end = fresh.posts, True, upto
            return
        gone = set(extra.deleted)
        page.deleted += extra.deleted
        posts = [p for p in page.posts if p["id"] not in gone] + extra.posts
        if newest:
            page.more = page.more or len(posts) > limit
            page.posts = posts[-limit:]
        else:
            page.more = extra.more or len(posts) > limit
            page.posts = posts[:limit]
        page.end = upto

    def _run(self, wake_position):
        failures = 0
        while self._running:
            try:
                with self._lock:
                    positions = dict(self._positions)
                positions[self._wake_key] = wake_position
                batches = self.store.read_new(
                    self.reader, positions, self.block_ms, count=READ_COUNT
                )
                walls = [name for name, _ in batches if name != self._wake_key]
                behind = self._behind(walls, batches)
                failures = 0
            except redis.RedisError as exc:
                # Reconnect at once, then slowly while Redis stays away; the
                # positions are kept, so nothing is skipped meanwhile.
                failures += 1
                self.metrics.redis_errors.labels("reader").inc()
                if failures == 1 or failures % 50 == 0:
                    log.warning("delivery: Redis read failed (%s); retrying", exc)
                self.socketio.sleep(0 if failures == 1 else 0.2)
                continue
            except Exception:
                log.exception("delivery: unexpected error; retrying")
                self.socketio.sleep(0.5)
                continue
            for name, entries in batches:
                if name == self._wake_key:
                    wake_position = entries[-1][0]
                elif name in behind:
                    self._resync(name, behind[name])
                else:
                    self._deliver(name, entries)

    def _behind(self, walls, batches):
        """Walls this reader cannot continue gap-free -> the id to restart from.

        Either retention cut past the position (the posts in between are gone)
        or a read came back full (more than READ_COUNT posts behind).
        """
        if not walls:
            return {}
        with self._lock:
            positions = {w: self._positions.get(w) for w in walls}
        marks = self.store.trim_marks(walls)
        behind = {}
        for wall, entries in batches:
            position, mark = positions.get(wall), marks.get(wall)
            if position is None:
                continue
            cut = mark is not None and id_key(position) < id_key(mark)
            if cut or len(entries) >= READ_COUNT:
                behind[wall] = self.store.newest_id(wall)
        return behind

    def _resync(self, wall, newest):
        # Sockets re-join with ``after`` and get the missing posts, or learn
        # (``truncated``) that retention dropped some; live delivery goes on
        # from the newest entry. Pending joins catch up in ready().
        with self._lock:
            position = self._positions.get(wall)
            if position is None or id_key(newest) <= id_key(position):
                return
            log.warning("delivery: %s fell behind at %s; sending resync", wall, position)
            self.metrics.resyncs.inc()
            self._positions[wall] = newest
            members = self._members.get(wall)
            if members:
                self.broadcast.send(list(members.values()), "resync", {"wall": wall})

    def _deliver(self, wall, items):
        with self._lock:
            position = self._positions.get(wall)
            if position is None:
                return  # everyone left while we were reading
            last = id_key(position)
            members = self._members.get(wall)
            recipients = list(members.values()) if members else []
            send = self.broadcast.send
            now_ms = time.time() * 1000
            for item in items:
                entry_id = item.id if isinstance(item, Deletion) else item["id"]
                key = id_key(entry_id)
                if key <= last:
                    continue  # already delivered: a read may overlap a join
                if isinstance(item, Deletion):
                    event, data = "post deleted", {"wall": wall, "id": item.post_id}
                else:
                    event, data = "new post", item
                    self.metrics.delivery_lag.observe(max(0.0, now_ms - item["ts"]) / 1000)
                if recipients:
                    send(recipients, event, data)
                    self.metrics.deliveries.inc(len(recipients))
                last = key
                self._positions[wall] = entry_id


class Joining:
    """A socket between :meth:`Delivery.join` and :meth:`Delivery.ready`."""

    __slots__ = ("sid", "eio_sid", "wall", "page", "newest")

    def __init__(self, sid, eio_sid, wall, page, newest):
        self.sid = sid
        self.eio_sid = eio_sid
        self.wall = wall
        #: the ack's posts, complete up to ``page.end``
        self.page = page
        #: a plain join (the newest posts), not a catch-up with ``after``
        self.newest = newest


def new_process_id():
    """A name for this process in presence and wake-up keys."""
    return uuid.uuid4().hex[:12]
