"""Which local socket watches which wall, and how far each wall was delivered here.

Pure bookkeeping, no I/O: :class:`wall.realtime.delivery.Delivery` holds
the lock while it reads or changes it, and while it emits a batch, so that
a join sees a position and enters the room with nothing in between.

A socket on a wall is either **live** (it gets new posts as they are read)
or **pending** (it is joining: live posts skip it until its ack is ready).
"""

import threading

from ..storage.entries import id_key


class Joining:
    """A socket between :meth:`Delivery.join` and :meth:`Delivery.ready`."""

    __slots__ = ("sid", "eio_sid", "wall", "page", "newest", "organizer")

    def __init__(self, sid, eio_sid, wall, page, newest, organizer=False):
        self.sid = sid
        self.eio_sid = eio_sid
        self.wall = wall
        #: the ack's posts, complete up to ``page.end``
        self.page = page
        #: a plain join (the newest posts), not a catch-up with ``after``
        self.newest = newest
        #: joined with the wall's organiser key: also gets pending posts
        self.organizer = organizer


class Rooms:
    """The walls of this process's sockets. Callers hold :attr:`lock`."""

    def __init__(self):
        # Re-entrant: a send under the lock may close a session whose ping
        # timed out (engine.io checks on every queued send), and that close
        # leaves its walls, taking the lock again in the same task.
        self.lock = threading.RLock()
        self.positions = {}  # wall -> id of the last entry delivered here
        self.members = {}  # wall -> {sid: eio_sid} of the live local sockets
        self.pending = {}  # wall -> sids joining
        self.walls_of = {}  # sid -> set of walls
        self.organizers = {}  # wall -> sids that joined with an organiser key

    def enter(self, joining):
        """Add a pending socket; return True if the wall is new in this process.

        A page that ran ahead of the reader is cut back to the wall's
        position: what lies past it comes live.
        """
        wall, page = joining.wall, joining.page
        current = self.positions.get(wall)
        first_here = current is None
        if first_here:
            self.positions[wall] = page.end
        elif id_key(current) < id_key(page.end):
            page.posts = [p for p in page.posts if id_key(p["id"]) <= id_key(current)]
            page.end = current
        live = self.members.get(wall)
        if live is not None and live.pop(joining.sid, None) is not None and not live:
            del self.members[wall]  # a re-join: live again once its new ack is ready
        self.pending.setdefault(wall, set()).add(joining.sid)
        self.walls_of.setdefault(joining.sid, set()).add(wall)
        organizers = self.organizers.get(wall)
        if joining.organizer:
            self.organizers.setdefault(wall, set()).add(joining.sid)
        elif organizers is not None:
            organizers.discard(joining.sid)
            if not organizers:
                del self.organizers[wall]
        return first_here

    def go_live(self, joining):
        """Make a pending socket live if its page reaches the wall's position.

        :return: ``(done, position)``: done is True once it is live, or if it
            left meanwhile; otherwise the page must first be extended up to
            ``position``.
        """
        wall, sid = joining.wall, joining.sid
        pending = self.pending.get(wall)
        if pending is None or sid not in pending:
            return True, None  # it left, or went away, meanwhile
        current = self.positions[wall]
        if id_key(current) > id_key(joining.page.end):
            return False, current
        pending.discard(sid)
        if not pending:
            del self.pending[wall]
        self.members.setdefault(wall, {})[sid] = joining.eio_sid
        return True, current

    def drop(self, sid, wall):
        """Take ``sid`` off ``wall`` (pending or live); return the wall's count here.

        A wall nobody here watches any more is no longer read: a later join
        starts again from the stream's end at that moment.
        """
        members, pending = self.members.get(wall), self.pending.get(wall)
        organizers = self.organizers.get(wall)
        if organizers is not None:
            organizers.discard(sid)
            if not organizers:
                del self.organizers[wall]
        if members is not None:
            members.pop(sid, None)
            if not members:
                del self.members[wall]
        if pending is not None:
            pending.discard(sid)
            if not pending:
                del self.pending[wall]
        count = self.count(wall)
        if not count:
            self.positions.pop(wall, None)
        return count

    def leave(self, sid, wall):
        """Take ``sid`` off ``wall``; return its count there, or None if it was not on it."""
        walls = self.walls_of.get(sid)
        if not walls or wall not in walls:
            return None
        walls.discard(wall)
        if not walls:
            del self.walls_of[sid]
        return self.drop(sid, wall)

    def disconnect(self, sid):
        """Forget a socket; return ``{wall: count}`` of the walls it was on."""
        return {wall: self.drop(sid, wall) for wall in self.walls_of.pop(sid, set())}

    def count(self, wall):
        """Sockets on ``wall`` here, live and pending."""
        return len(self.members.get(wall, ())) + len(self.pending.get(wall, ()))

    def recipients(self, wall):
        """The engine.io sids of the live sockets on ``wall``."""
        members = self.members.get(wall)
        return list(members.values()) if members else []

    def organizer_recipients(self, wall):
        """The engine.io sids of the live sockets on ``wall`` that joined as organisers."""
        members, organizers = self.members.get(wall), self.organizers.get(wall)
        if not members or not organizers:
            return []
        return [members[sid] for sid in organizers if sid in members]
