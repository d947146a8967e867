"""Stream-driven delivery: every post reaches every socket once, even across Redis hiccups.

Posts are not published over pub/sub (at most once, lost on a reconnect).
Instead each server process reads, with one blocking ``XREAD``, the stream of
every wall that has a socket here, from the last id it delivered on each,
and emits each new post to that wall's local sockets only. Because the
position lives here and not in a pub/sub subscription, a Redis reconnect
resumes exactly where delivery stopped: nothing is lost, nothing is doubled.

A joining socket is pending until its ack is ready: live posts skip it, and
the ack is then completed with every post up to the wall's delivery position
in the same step that makes it live. So the ack comes first, and the first
live post it gets is the first one after what the ack held. Each post is
sent to the wall's live sockets through :mod:`wall.realtime.broadcast`.
"""

import logging
import threading
import time

from .. import protocol
from ..domain.walls import WallSettings
from ..errors import Forbidden
from ..storage import keys
from ..storage.entries import Change, Deletion, LikesChange, SettingsChange, id_key
from .coalesce import Shared
from .reader import GroupReader
from .rooms import Joining, Rooms

log = logging.getLogger(__name__)

# The blocking read waits this long; the reader's connection times out later.
READ_BLOCK_MS = 5000


class Delivery:
    """The per-process reader, and which socket sees which wall.

    :param posts: a :class:`wall.storage.posts.PostStore`.
    :param make_reader: ``(group) -> (StreamReader, client)``: what a slot
        group's reader reads with (:mod:`wall.realtime.reader`).
    :param sockets: :class:`SocketRooms` (Socket.IO rooms and session ids).
    :param presence: told of every change of a wall's count here (``set_local``).
    :param broadcast: sends ``(eio_sids, event, data)``.
    :param metrics: a :class:`wall.metrics.Metrics`.
    :param on_first_join: called once a socket joins (starts the scheduler).
    :param on_restart: called when :meth:`watch` starts the reader again (a metric).
    :param access: ``(sid, wall, grant, salt) -> bool``: may a socket stay on a wall
        that became private (or got a new passcode)?
    """

    def __init__(
        self,
        posts,
        make_reader,
        sockets,
        presence,
        broadcast,
        metrics,
        spawn,
        block_ms=READ_BLOCK_MS,
        on_first_join=None,
        on_restart=None,
        access=None,
    ):
        self.posts = posts
        #: ``make_reader(group) -> (StreamReader, blocking client)``
        self.make_reader = make_reader
        self.sockets = sockets
        self.presence = presence
        self.broadcast = broadcast
        self.metrics = metrics
        self.spawn = spawn
        self.block_ms = block_ms
        self.on_first_join = on_first_join
        self.on_restart = on_restart
        #: ``access(sid, wall, grant)``: may a socket stay on a private wall?
        self.access = access
        self.rooms = Rooms()
        #: the page reads of joins at the same time, made once
        self.shared = Shared()
        self._readers = {}  # group -> GroupReader, started with its first wall
        self._start_lock = threading.Lock()
        self._started = False

    # -- called by the /wall handlers ---------------------------------------

    def join(self, sid, wall, after=None, organizer=False):
        """Put ``sid`` on ``wall``, pending: live posts skip it until :meth:`ready`.

        Returns the :class:`Joining` to hand to :meth:`ready` once the
        handler's other work is done. An ``organizer`` also gets the wall's
        pending posts (``post pending``) and every change as ``post updated``.
        """
        reader = self._reader(keys.group_of(wall))
        rooms = self.rooms
        with rooms.lock:
            position = rooms.positions.get(wall)
        # Joins that read the same page at once read it once (a storm).
        if after is None:
            page = self.shared.call(
                ("latest", wall, position),
                self.posts.latest,
                wall,
                protocol.JOIN_POSTS,
                position,
                True,
            )
        else:
            page = self.shared.call(
                ("after", wall, after, position),
                self.posts.after,
                wall,
                after,
                protocol.CATCH_UP_POSTS,
                position,
                True,
            )
        page = page.copy()
        joining = Joining(
            sid, self.sockets.eio_sid(sid), wall, page, newest=after is None, organizer=organizer
        )
        with rooms.lock:
            first_here = rooms.enter(joining)
            self.sockets.enter(sid, wall)
            self.presence.set_local(wall, rooms.count(wall))
        if first_here:
            reader.wake()
        return joining

    def ready(self, joining):
        """Make a pending socket live; return its join ack (without ``online``).

        Posts the reader delivered while the socket was pending are added to
        the ack. The caller must send the ack without yielding to other
        tasks in between (a handler's return value is), so that no live post
        can reach the socket before it.
        """
        page = joining.page
        while True:
            with self.rooms.lock:
                done, position = self.rooms.go_live(joining)
            if done:
                break
            self._extend(joining.wall, page, position, joining.newest)
        change = page.settings_change
        if change is not None:
            # The settings changed while the socket was joining: the reader
            # told the wall's live sockets, not this one, so its ack does.
            self._enforce_on(joining, change)
            public = {k: v for k, v in change.items() if not k.startswith("_")}
        else:
            public = WallSettings.from_meta(joining.wall, page.settings).public()
        ack = {"ok": True, "wall": joining.wall, "posts": page.posts, "more": page.more}
        if page.deleted:
            ack["deleted"] = page.deleted
        if page.truncated:
            ack["truncated"] = True
        ack["settings"] = public
        ack["pinned"] = page.pinned
        return ack

    def _enforce_on(self, joining, settings):
        # as _enforce, for one socket that was not live yet
        if settings.get("visibility") != "private" or self.access is None or joining.organizer:
            return
        grant, salt = settings.get("_grant", 0), settings.get("_salt", "")
        if not self.access(joining.sid, joining.wall, grant, salt):
            self.leave(joining.sid, joining.wall)
            raise Forbidden("This wall is private: unlock it with its passcode.")

    def leave(self, sid, wall):
        """Take ``sid`` off ``wall``; return True if it was on it."""
        with self.rooms.lock:
            count = self.rooms.leave(sid, wall)
            if count is not None:
                self.presence.set_local(wall, count)
        if count is None:
            return False
        self.sockets.leave(sid, wall)
        return True

    def organizer_on(self, sid, wall):
        """True if ``sid`` is on ``wall`` having joined it with the organiser key."""
        # Every post asks this, so no lock: the rooms lock is held while a
        # post goes out to a wall's sockets, and one lookup in a set is atomic.
        return sid in self.rooms.organizers.get(wall, ())

    def disconnect(self, sid):
        """Forget a socket that went away (its rooms are gone with it)."""
        with self.rooms.lock:
            for wall, count in self.rooms.disconnect(sid).items():
                self.presence.set_local(wall, count)

    def walls(self):
        """The walls with a socket in this process."""
        with self.rooms.lock:
            return list(self.rooms.positions)

    def joined_count(self):
        """Socket joins to walls in this process (a socket on two walls counts twice)."""
        rooms = self.rooms
        with rooms.lock:
            return sum(rooms.count(wall) for wall in rooms.positions)

    # -- lifecycle -----------------------------------------------------------

    @property
    def readers(self):
        """group -> :class:`wall.realtime.reader.GroupReader` started here."""
        return dict(self._readers)

    @property
    def restarts(self):
        """Times a reader task had ended or died and was started again."""
        return sum(r.restarts for r in list(self._readers.values()))

    def stalled_for(self):
        """Seconds a reader is past its deadline, or None when all are on time.

        A round blocks at most ``block_ms``; one that has not completed
        within twice that is stalled. A process that watches no wall has no
        reader to wait for.
        """
        if not self.walls():
            return None
        late = [r.stalled_for() for r in list(self._readers.values())]
        late = [s for s in late if s is not None]
        return max(late) if late else None

    def watch(self):
        """Start a reader again if its task ended (the scheduler runs this each second)."""
        for reader in list(self._readers.values()):
            reader.watch()

    def stop(self):
        """Stop the readers (each notices within one Redis round trip)."""
        for reader in list(self._readers.values()):
            reader.stop()

    def _reader(self, group):
        """The reader of ``group``, started on first use."""
        reader = self._readers.get(group)
        if reader is not None:
            return reader
        with self._start_lock:
            reader = self._readers.get(group)
            if reader is None:
                if not self._started and self.on_first_join is not None:
                    self._started = True
                    self.on_first_join()
                stream_reader, client = self.make_reader(group)
                reader = GroupReader(
                    group,
                    stream_reader,
                    client,
                    self.poll,
                    self.spawn,
                    self.block_ms,
                    self.metrics,
                    self.on_restart,
                )
                # Known before it starts: in threading mode its first round
                # runs at once and looks itself up.
                self._readers[group] = reader
                try:
                    reader.start()
                except BaseException:
                    del self._readers[group]
                    raise
        return reader

    # -- internals -----------------------------------------------------------

    def _extend(self, wall, page, upto, newest):
        """Add to ``page`` what the reader delivered past its end, up to ``upto``."""
        limit = protocol.JOIN_POSTS if newest else protocol.CATCH_UP_POSTS
        if not newest and page.more:
            # The client pages the rest over HTTP; live posts start at upto.
            # Only the settings must be as of upto (a change meanwhile).
            meta = self.posts.settings_hash(wall)
            if meta.get("v") != page.settings.get("v"):
                settings = WallSettings.from_meta(wall, meta)
                page.settings = meta
                page.settings_change = {
                    **settings.public(),
                    "_grant": settings.grant,
                    "_salt": settings.grant_salt,
                }
            page.end = upto
            return
        extra = self.shared.call(
            ("range", wall, page.end, upto, limit), self.posts.range, wall, page.end, upto, limit
        )
        if extra.settings_change is not None:
            page.settings_change = extra.settings_change
        if newest and extra.more:
            # More than a page arrived meanwhile: the newest page up to upto.
            fresh = self.shared.call(
                ("latest", wall, upto, limit), self.posts.latest, wall, limit, upto
            )
            page.posts, page.more, page.end = list(fresh.posts), True, upto
            return
        gone = set(extra.deleted)
        page.deleted += extra.deleted
        fresh = {p["id"] for p in extra.posts}
        posts = sorted(
            [p for p in page.posts if p["id"] not in gone and p["id"] not in fresh] + extra.posts,
            key=lambda p: id_key(p["id"]),
        )
        if newest:
            page.more = page.more or len(posts) > limit
            page.posts = posts[-limit:]
        else:
            page.more = extra.more or len(posts) > limit
            page.posts = posts[:limit]
        page.end = upto

    def poll(self, group, wake_position, block_ms):
        """One round of a group's reader: wait up to ``block_ms`` for what is new
        on the group's walls watched here, and deliver it. Returns the new
        wake-up position."""
        reader = self._readers[group]
        with self.rooms.lock:
            positions = {
                wall: position
                for wall, position in self.rooms.positions.items()
                if keys.group_of(wall) == group
            }
        if reader.suspect:
            for wall in self.posts.missing(positions):
                self._rolled_back(wall, positions[wall])
            reader.suspect = False
            with self.rooms.lock:
                positions = {w: self.rooms.positions.get(w, p) for w, p in positions.items()}
        batches, wake_position = reader.stream_reader.read(
            reader.client,
            positions,
            wake_position,
            block_ms,
            count=protocol.RESYNC_BEHIND,
        )
        behind = self._behind(batches)
        for wall, entries in batches:
            if wall in behind:
                self._resync(wall, behind[wall])
            else:
                self._deliver(wall, entries)
        return wake_position

    def _behind(self, batches):
        """Walls this reader cannot continue gap-free -> the id to restart from.

        Either retention cut past the position (the posts in between are gone)
        or a read came back full (more than RESYNC_BEHIND posts behind). Like
        entries do not count towards a full read: they are small and cheap to
        deliver, and likes must never send pages to re-join (docs/protocol.md);
        a read filled by them is delivered, and the next round goes on after it.
        """
        if not batches:
            return {}
        walls = [wall for wall, _ in batches]
        with self.rooms.lock:
            positions = {w: self.rooms.positions.get(w) for w in walls}
        marks = self.posts.trim_marks(walls)
        behind = {}
        for wall, entries in batches:
            position, mark = positions.get(wall), marks.get(wall)
            if position is None:
                continue
            cut = mark is not None and id_key(position) < id_key(mark)
            if cut or _not_likes(entries) >= protocol.RESYNC_BEHIND:
                behind[wall] = self.posts.newest_id(wall)
        return behind

    def _resync(self, wall, newest):
        # Sockets re-join with ``after`` and get the missing posts, or learn
        # (``truncated``) that retention dropped some; live delivery goes on
        # from the newest entry. Pending joins catch up in ready().
        rooms = self.rooms
        with rooms.lock:
            position = rooms.positions.get(wall)
            if position is None or id_key(newest) <= id_key(position):
                return
            log.warning("delivery: %s fell behind at %s; sending resync", wall, position)
            self.metrics.resyncs.inc()
            rooms.positions[wall] = newest
            recipients = rooms.recipients(wall)
            if recipients:
                self.broadcast.send(recipients, protocol.RESYNC, {"wall": wall})

    def _rolled_back(self, wall, position):
        # The entry delivered last is gone: Redis came back without it (a
        # replica promoted before it had it, an AOF short of its last
        # second). Pages may show posts that no longer exist; resync makes
        # them re-join, and a re-join after such a post is `truncated`, so
        # they reload. Live delivery goes on from the entry before the lost
        # one: whatever was written since comes live.
        newest = self.posts.newest_before(wall, position)
        rooms = self.rooms
        with rooms.lock:
            if rooms.positions.get(wall) != position:
                return  # delivered on meanwhile, or left
            log.warning(
                "delivery: %s lost entry %s (Redis came back without it); sending resync",
                wall,
                position,
            )
            self.metrics.resyncs.inc()
            rooms.positions[wall] = newest
            recipients = rooms.recipients(wall)
            if recipients:
                self.broadcast.send(recipients, protocol.RESYNC, {"wall": wall})

    def _deliver(self, wall, items):
        rooms = self.rooms
        with rooms.lock:
            position = rooms.positions.get(wall)
            if position is None:
                return  # everyone left while we were reading
            last = id_key(position)
            recipients = rooms.recipients(wall)
            organizers = rooms.organizer_recipients(wall)
            now_ms = time.time() * 1000
            pending = []
            for item in items:
                entry_id = item["id"] if isinstance(item, dict) else item.id
                key = id_key(entry_id)
                if key <= last:
                    continue  # already delivered: a read may overlap a join
                if recipients:
                    self._emit(wall, entry_id, item, recipients, organizers, now_ms, pending)
                    if isinstance(item, SettingsChange):
                        self._flush(wall, pending)  # to the watchers from before it
                        self._enforce(wall, item.settings)
                        recipients = rooms.recipients(wall)
                        organizers = rooms.organizer_recipients(wall)
                last = key
                rooms.positions[wall] = entry_id
            self._flush(wall, pending)

    def _flush(self, wall, pending):
        """Send what :meth:`_emit` gathered, in order (lock held).

        A run of messages to the same sockets (the entries of one read, when
        posts come faster than one is delivered) goes out in one write per
        socket instead of one per message.
        """
        i, n = 0, len(pending)
        while i < n:
            to = pending[i][1]
            j = i + 1
            while j < n and pending[j][1] is to:
                j += 1
            if j - i == 1:
                self._send_entry(wall, *pending[i])
            else:
                run = pending[i:j]
                try:
                    self.broadcast.send_many(to, [(event, data) for _, _, event, data in run])
                except Exception:
                    # One of them cannot be encoded, so none was sent: each
                    # on its own, and only that one's sockets resync.
                    for message in run:
                        self._send_entry(wall, *message)
                else:
                    self.metrics.deliveries.inc(len(to) * len(run))
            i = j
        pending.clear()

    def _send_entry(self, wall, entry_id, to, event, data):
        try:
            self.broadcast.send(to, event, data)
        except Exception:
            # Not one recipient (the broadcast copes with those): this
            # entry cannot be sent at all. Its sockets re-join and read
            # it from the stream instead.
            log.exception("delivery: %s of %s could not be sent", entry_id, wall)
            self.broadcast.send(to, protocol.RESYNC, {"wall": wall})
        self.metrics.deliveries.inc(len(to))

    def _enforce(self, wall, settings):
        """A wall that is private now (or has a new passcode): its watchers
        without the new grant, told by ``wall updated``, leave it (lock held)."""
        if settings.get("visibility") != "private" or self.access is None:
            return
        grant, salt = settings.get("_grant", 0), settings.get("_salt", "")
        rooms = self.rooms
        organizers = rooms.organizers.get(wall, set())
        for sid in list(rooms.members.get(wall, {})):
            if sid not in organizers and not self.access(sid, wall, grant, salt):
                count = rooms.leave(sid, wall)
                if count is not None:
                    self.presence.set_local(wall, count)
                    self.sockets.leave(sid, wall)

    def _emit(self, wall, entry_id, item, recipients, organizers, now_ms, pending):
        """What each of the wall's sockets must see of one stream entry, added
        to ``pending`` as ``(entry_id, sockets, event, data)`` for :meth:`_flush`."""
        sends = []
        if isinstance(item, dict):
            if item["status"] == protocol.PENDING:
                sends.append((organizers, protocol.POST_PENDING, {"wall": wall, "post": item}))
            else:
                sends.append((recipients, protocol.NEW_POST, item))
                self.metrics.delivery_lag.observe(max(0.0, now_ms - item["ts"]) / 1000)
        elif isinstance(item, Deletion):
            sends.append((recipients, protocol.POST_DELETED, {"wall": wall, "id": item.post_id}))
        elif isinstance(item, Change):
            post = item.post
            if item.kind in ("approve", "restore"):
                sends.append((recipients, protocol.NEW_POST, post))
            elif item.kind == "hide":
                sends.append((recipients, protocol.POST_DELETED, {"wall": wall, "id": post["id"]}))
            elif post["status"] == protocol.VISIBLE:  # pin, unpin
                sends.append((recipients, protocol.POST_UPDATED, {"wall": wall, "post": post}))
            if item.kind not in ("pin", "unpin") or post["status"] != protocol.VISIBLE:
                # organisers follow every change of status, to move posts between lists
                sends.append((organizers, protocol.POST_UPDATED, {"wall": wall, "post": post}))
        elif isinstance(item, LikesChange):
            for post in item.posts:
                if post["status"] == protocol.VISIBLE:
                    sends.append((recipients, protocol.POST_UPDATED, {"wall": wall, "post": post}))
        elif isinstance(item, SettingsChange):
            settings = {k: v for k, v in item.settings.items() if not k.startswith("_")}
            sends.append((recipients, protocol.WALL_UPDATED, {"wall": wall, "settings": settings}))
        # a Skipped entry (not understood, logged once) is stepped over
        for to, event, data in sends:
            if to:
                pending.append((entry_id, to, event, data))


def _not_likes(entries):
    return sum(1 for entry in entries if not isinstance(entry, LikesChange))


class SocketRooms:
    """The Socket.IO side of a join: the session's engine.io id and its room.

    :param server: the ``socketio.Server``.
    """

    def __init__(self, server):
        self.server = server

    def eio_sid(self, sid):
        return self.server.manager.eio_sid_from_sid(sid, protocol.NAMESPACE)

    def enter(self, sid, wall):
        self.server.enter_room(sid, wall, namespace=protocol.NAMESPACE)

    def leave(self, sid, wall):
        self.server.leave_room(sid, wall, namespace=protocol.NAMESPACE)
