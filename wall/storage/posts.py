"""The posts of every wall: one Redis Stream per wall, written by Lua scripts.

A post is stored by one atomic script (the settings version, bans, slow
mode, the ``client_id`` check, ``XADD``, retention, the walls index), so a
retried post is stored at most once and every check sees the wall as it is
at that moment. Nothing here retries a write on its own (see
:func:`wall.storage.connect`). Moderation changes are entries of the same
stream (:mod:`wall.storage.entries`), so that readers catch up on them in
order; each post's current state (status, pinned) is also kept in a hash,
so that a page read shows posts as they are now.
"""

import time
from typing import NamedTuple

import redis

from .. import protocol
from . import keys, lua
from .entries import (
    Change,
    Deletion,
    EntryLog,
    LikesChange,
    SettingsChange,
    Skipped,
    apply_state,
    id_key,
    pairs,
    parse,
)
from .entries import to_post as entry_to_post
from .streams import newest_id

#: posts a read of the queue or the hidden posts returns at most
LIST_MAX = 200
#: walls ``GET /api/walls`` lists at most
WALLS_MAX = 100

# Tombstones and moderation changes take room in a read, so pages are read
# in rounds until they are full, each round reading twice as many entries.
_READ_COUNT_MAX = 1000
_READ_ROUNDS = 50


class NewPost(NamedTuple):
    """A validated post and what the store must check before it keeps it."""

    wall: str
    username: str
    message: str
    client_id: str = None
    #: the wall's settings version the caller checked against ("" for none)
    version: str = ""
    #: who posts (``c:<cookie id>``, ``s:<session>`` or ``a:<address>``)
    who: str = ""
    #: the address as bans name it (``a:<ip>``), or ""
    address: str = ""
    #: slow mode: ms this client must wait between posts (0: none)
    slow_ms: int = 0
    #: held for approval
    pending: bool = False
    #: refused by the caller ("closed", "rejected"), unless it is a retry of a stored post
    refuse: str = ""


class Added(NamedTuple):
    """What :meth:`PostStore.add_post` did.

    ``kind``: ``stored`` (``post``, ``created`` True), ``exists`` (the
    original ``post`` of that client_id), ``stale`` (the settings changed:
    ``version`` is the new one), ``banned``, ``slow`` (``wait_ms``), or the
    caller's ``refuse`` (``closed``, ``rejected``).
    """

    kind: str
    post: dict = None
    created: bool = False
    version: str = None
    wait_ms: int = None


class PostPage:
    """A slice of a wall's posts, oldest first."""

    def __init__(self, posts, more, truncated=False, end=None, deleted=()):
        self.posts = posts
        self.more = more
        self.truncated = truncated
        #: the stream id up to which this page is complete (for joins)
        self.end = end
        #: ids of posts deleted or hidden within the range read (forward reads)
        self.deleted = list(deleted)
        #: with ``extras``: the visible pinned posts, and the settings hash
        self.pinned = []
        self.settings = {}
        #: forward reads: the newest settings change read (its JSON), or None
        self.settings_change = None

    def copy(self):
        """A page to change (a join cuts and extends its own), sharing the posts."""
        page = PostPage(list(self.posts), self.more, self.truncated, self.end, self.deleted)
        page.pinned = self.pinned
        page.settings = self.settings
        page.settings_change = self.settings_change
        return page


class PostStore:
    """Reads and writes walls' posts in one Redis.

    :param client: a ``redis.Redis`` with ``decode_responses=True``.
    :param history: how many posts each wall keeps (approximately, at least).
    :param entries: the :class:`~wall.storage.entries.EntryLog` of skipped entries.
    """

    def __init__(self, client, history=10000, entries=None, durability=None):
        self.redis = client
        self.history = history
        self.entries = entries or EntryLog()
        #: a :class:`~wall.storage.durable.Durability`: posts wait for replicas
        self.durability = durability
        self._add_post = lua.register(client, "add_post")
        self._delete_post = lua.register(client, "delete_post")
        self._moderate = lua.register(client, "moderate")
        self._read_page = lua.register(client, "read_page")
        self._like = lua.register(client, "like")
        self._flush_likes = lua.register(client, "flush_likes")

    # -- writes --------------------------------------------------------------

    def add_post(self, new):
        """Store a :class:`NewPost` once; return an :class:`Added`.

        With a ``client_id`` already used on this wall in the last 24 h the
        original post comes back (``exists``) and nothing is stored.
        """
        if self.durability is not None:
            result = self.add_posts([new])[0]
            if isinstance(result, Exception):
                raise result
            return result
        script_keys, args = self._add_post_call(new)
        return self._added(self._add_post(keys=script_keys, args=args), new)

    def add_posts(self, posts):
        """Store several :class:`NewPost` in one round trip, each as :meth:`add_post`.

        :return: one :class:`Added` or exception per post, in order.
        """
        if self.durability is not None:
            calls = [self._add_post_call(new) for new in posts]
            replies = self.durability.run(self._add_post, calls)
            return [
                r if isinstance(r, Exception) else self._added(r, n) for n, r in zip(posts, replies)
            ]
        pipe = self.redis.pipeline(transaction=False)
        for new in posts:
            script_keys, args = self._add_post_call(new)
            pipe.execute_command(
                "EVALSHA", self._add_post.sha, len(script_keys), *script_keys, *args
            )
        replies = pipe.execute(raise_on_error=False)
        out = []
        for new, reply in zip(posts, replies):
            if isinstance(reply, redis.exceptions.NoScriptError):
                # Not run (Redis lost its script cache): run it alone, which loads it.
                try:
                    out.append(self.add_post(new))
                except redis.RedisError as exc:
                    out.append(exc)
            elif isinstance(reply, Exception):
                out.append(reply)
            else:
                out.append(self._added(reply, new))
        return out

    def _add_post_call(self, new):
        wall, cid = new.wall, new.client_id or ""
        script_keys = [
            keys.posts(wall),
            keys.client_id(wall, cid),
            keys.trimmed(wall),
            keys.index(wall),
            keys.post_ids(wall),
            keys.meta(wall),
            keys.banned(wall),
            keys.slow(wall, new.who),
            keys.authors(wall),
            keys.pending(wall),
            keys.state(wall),
            keys.hidden(wall),
            keys.pinned(wall),
            keys.popular(wall),
        ]
        args = [
            new.username,
            new.message,
            cid,
            self.history,
            keys.CLIENT_ID_TTL,
            wall,
            new.version,
            new.who,
            new.address,
            int(new.slow_ms),
            "1" if new.pending else "0",
            "%s|%s" % (new.who, new.address),
            new.refuse,
        ]
        return script_keys, args

    def _added(self, result, new):
        code = result[0]
        if code == 1:
            fields = {"u": new.username, "m": new.message, "c": new.client_id or ""}
            if new.pending:
                fields["s"] = "p"
            return Added("stored", entry_to_post(new.wall, result[1], fields), True)
        if code == 0:
            if len(result) > 2:
                fields = pairs(result[2])
            else:
                # The original is gone (trimmed or deleted); the retry carries its text.
                fields = {"u": new.username, "m": new.message, "c": new.client_id or ""}
            return Added("exists", entry_to_post(new.wall, result[1], fields))
        if code == -1:
            return Added("stale", version=result[1])
        if code == -2:
            return Added("banned")
        if code == -4:
            return Added(result[1])
        return Added("slow", wait_ms=int(result[1]))

    def delete_post(self, wall, post_id):
        """Delete a post; return True if it existed. Readers get a tombstone."""
        script_keys = [
            keys.posts(wall),
            keys.state(wall),
            keys.pending(wall),
            keys.hidden(wall),
            keys.pinned(wall),
            keys.authors(wall),
            keys.popular(wall),
            keys.likers(wall, post_id),
            keys.likes_changed(wall),
        ]
        return bool(self._delete_post(keys=script_keys, args=[post_id]))

    def moderate(self, wall, post_id, action):
        """Apply ``action`` (approve, hide, restore, pin, unpin) to a post.

        :return: ``(post, changed)``, or ``(None, "not_found")``, or
                 ``(None, "too_many")`` past :data:`protocol.MAX_PINS`, or
                 ``(None, "<status>")`` when the action does not apply to a
                 post in that status.
        """
        script_keys = [
            keys.posts(wall),
            keys.state(wall),
            keys.pending(wall),
            keys.hidden(wall),
            keys.pinned(wall),
            keys.popular(wall),
        ]
        now = int(time.time() * 1000)
        result = self._moderate(keys=script_keys, args=[action, post_id, now, protocol.MAX_PINS])
        if result[0] == 0:
            return None, result[2] if len(result) > 2 else result[1]
        post = entry_to_post(wall, post_id, pairs(result[4]))
        post.update(
            status=result[1], pinned=result[2] == 1, rev=int(result[3]), likes=int(result[5])
        )
        return post, result[0] == 1

    def like(self, wall, post_id, who, like=True, version=""):
        """One like (or unlike) of a visible post by ``who``, counted once,
        if the wall's settings are still at ``version``.

        :return: ``(likes, liked)``, None when the post is not visible, or
                 ``"stale"`` when the settings changed.
        """
        script_keys = [
            keys.posts(wall),
            keys.state(wall),
            keys.likers(wall, post_id),
            keys.popular(wall),
            keys.likes_changed(wall),
            keys.walls_with_likes(wall),
            keys.meta(wall),
        ]
        result = self._like(
            keys=script_keys, args=["like" if like else "unlike", post_id, who, wall, version]
        )
        if result[0] == -1:
            return "stale"
        if result[0] == 0:
            return None
        return int(result[1]), bool(result[2])

    def walls_with_new_likes(self):
        """The walls whose likes changed since their last flush."""
        found = set()
        for group in keys.groups():
            found |= self.redis.smembers(keys.walls_with_likes(group=group))
        return found

    def flush_likes(self, wall, gap_ms):
        """One stream entry for the posts of ``wall`` liked since the last one;
        at most one flush per ``gap_ms`` per wall. Returns how many posts."""
        script_keys = [
            keys.likes_changed(wall),
            keys.posts(wall),
            keys.state(wall),
            keys.likes_gate(wall),
            keys.walls_with_likes(wall),
        ]
        return int(self._flush_likes(keys=script_keys, args=[wall, gap_ms]))

    def popular(self, wall, limit):
        """The ``limit`` most liked visible posts, most liked first, then newest;
        posts nobody liked fill the rest, newest first."""
        liked = self._posts_of(wall, self.redis.zrevrange(keys.popular(wall), 0, 2 * limit - 1))
        posts = [p for p in liked if p["status"] == "visible" and p["likes"] > 0]
        posts.sort(key=lambda p: (p["likes"], id_key(p["id"])), reverse=True)
        posts = posts[:limit]
        if len(posts) < limit:
            have = {p["id"] for p in posts}
            newest = self.latest(wall, limit).posts
            posts += [p for p in reversed(newest) if p["id"] not in have][: limit - len(posts)]
        return posts

    # -- reads ---------------------------------------------------------------

    def latest(self, wall, limit, upto=None, extras=False):
        """The newest ``limit`` visible posts (up to id ``upto``); ``more``: older ones exist.

        ``end`` is the newest stream entry at the time of the read (``upto``
        when given), whatever its kind: where a reader would resume. With
        ``extras`` the page also has the pinned posts and the settings.
        """
        page = self._read_back(wall, upto or "+", limit, extras)
        if upto is None:
            upto = page.end or "0-0"
        page.end = upto
        return page

    def before(self, wall, before_id, limit):
        """The ``limit`` visible posts just before ``before_id``; ``more``: older ones exist."""
        page = self._read_back(wall, "(" + before_id, limit, False)
        page.end = None
        return page

    def after(self, wall, after_id, limit, upto=None, extras=False):
        """What changed after ``after_id``: up to ``limit`` posts, and what left.

        ``posts`` are the visible posts after ``after_id``, and older ones
        that were approved or restored since (as they are now); ``deleted``
        lists posts deleted or hidden since, so a client that was away can
        drop them; ``more``: later posts remain. ``truncated`` is True when
        retention has cut past ``after_id`` (some posts after it may be gone
        for good), or when the wall never had it: the client saw a post that
        Redis then lost (a failover to a replica that had not got it, an
        AOF that missed its last second) or a wall deleted since.
        """
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(keys.trimmed(wall), wall)
        pipe.xrange(keys.posts(wall), after_id, after_id)
        pipe.lpos(keys.post_ids(wall), after_id)  # a post kept, even if deleted since
        pipe.lindex(keys.post_ids(wall), 0)
        if upto is None:
            pipe.xrevrange(keys.posts(wall), "+", "-", count=1)
        replies = pipe.execute()
        mark, entry, listed, first = replies[:4]
        if upto is None:
            upto = replies[4][0][0] if replies[4] else "0-0"
        page = self._read_forward(wall, after_id, upto, limit, extras)
        cut = bool(mark) and id_key(after_id) < id_key(mark)
        # An id among the wall's posts that is not one of them. (Before the
        # first post is from before the wall began; a stream from before the
        # ids list cannot tell.)
        unknown = (
            not entry and listed is None and first is not None and id_key(after_id) > id_key(first)
        )
        page.truncated = cut or unknown
        return page

    def missing(self, wall_positions):
        """The walls of ``{wall: entry id}`` whose entry is not in their stream
        (ids ``0-0`` are positions of empty walls, never missing)."""
        walls = [w for w, p in wall_positions.items() if p != "0-0"]
        if not walls:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for wall in walls:
            pipe.xrange(keys.posts(wall), wall_positions[wall], wall_positions[wall])
        return [wall for wall, found in zip(walls, pipe.execute()) if not found]

    def range(self, wall, after_id, upto, limit):
        """What changed with ``after_id < id <= upto``, as :meth:`after` reads it."""
        return self._read_forward(wall, after_id, upto, limit, False)

    def queue(self, wall, limit=LIST_MAX):
        """The posts waiting for approval, oldest first."""
        return self._posts_of(wall, self.redis.zrange(keys.pending(wall), 0, limit - 1))

    def hidden(self, wall, limit=LIST_MAX):
        """The hidden posts, most recently hidden first."""
        return self._posts_of(wall, self.redis.zrevrange(keys.hidden(wall), 0, limit - 1))

    def get(self, wall, post_id):
        """One post as it is now (any status), or None."""
        found = self._posts_of(wall, [post_id])
        return found[0] if found else None

    def author(self, wall, post_id):
        """``(who, address)`` of a post's author as recorded, or None."""
        record = self.redis.hget(keys.authors(wall), post_id)
        if not record:
            return None
        who, _, address = record.partition("|")
        return who, address

    def every_post(self, wall, chunk=1000):
        """Every post the wall keeps, any status, as it is now, oldest first (lazily)."""
        start = "-"
        while True:
            entries = self._page(wall, "forward", start, "+", chunk, False)[0]
            for entry in entries:
                item = self._parse(wall, entry)
                if isinstance(item, dict):
                    yield item
            if len(entries) < chunk:
                return
            start = "(" + entries[-1][0]

    def trim_marks(self, walls):
        """wall -> the oldest id kept when retention last cut it (or None)."""
        marks = {}
        by_key = {}
        for wall in walls:
            by_key.setdefault(keys.trimmed(wall), []).append(wall)
        for key, group in by_key.items():
            marks.update(zip(group, self.redis.hmget(key, group)))
        return marks

    def newest_before(self, wall, entry_id):
        """The id of the newest entry before ``entry_id`` in a wall's stream, or ``0-0``."""
        found = self.redis.xrevrange(keys.posts(wall), "(" + entry_id, "-", count=1)
        return found[0][0] if found else "0-0"

    def newest_id(self, wall):
        """The id of the newest entry in a wall's stream, or ``0-0``."""
        return newest_id(self.redis, keys.posts(wall))

    def walls(self, limit=WALLS_MAX):
        """``[(wall, posts kept)]`` for the walls with the most recent posts."""
        newest = []
        for key in keys.indexes():
            newest += self.redis.zrevrange(key, 0, limit - 1, withscores=True)
        newest.sort(key=lambda pair: pair[1], reverse=True)
        names = [name for name, _ in newest[:limit]]
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.llen(keys.post_ids(name))
            pipe.xlen(keys.posts(name))
        counts = pipe.execute()
        # walls from before the ids list count their stream's entries
        kept = [(n, ids or length) for n, ids, length in zip(names, counts[0::2], counts[1::2])]
        return [(n, c) for n, c in kept if c]

    def settings_hash(self, wall):
        """The wall's settings hash as stored now (wall/domain/walls.py reads it)."""
        return self.redis.hgetall(keys.meta(wall))

    def ping(self):
        return self.redis.ping()

    # -- internals -------------------------------------------------------------

    def _page_keys(self, wall):
        return [
            keys.posts(wall),
            keys.state(wall),
            keys.pinned(wall),
            keys.meta(wall),
            keys.post_ids(wall),
        ]

    def _page(self, wall, direction, start, end, count, extras):
        # -> (entries, extras, cursor, newest): see scripts/read_page.lua
        return self._read_page(
            keys=self._page_keys(wall),
            args=[direction, start, end, count, "1" if extras else "0"],
        )

    def _parse(self, wall, entry):
        entry_id, flat, state = entry
        return parse(wall, entry_id, pairs(flat), self.entries, state or None)

    def _posts_of(self, wall, post_ids):
        if not post_ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for post_id in post_ids:
            pipe.xrange(keys.posts(wall), post_id, post_id)
        pipe.hmget(keys.state(wall), post_ids)
        *found, states = pipe.execute()
        posts = []
        for entries, state in zip(found, states):
            if entries:
                item = parse(wall, entries[0][0], entries[0][1], self.entries, state)
                if isinstance(item, dict):
                    posts.append(item)
        return posts

    def _read_back(self, wall, start, limit, extras):
        # Newest first, visible posts only, as they are now.
        posts, count = [], limit + 1
        page = PostPage([], False)
        for round_ in range(_READ_ROUNDS):
            entries, more, cursor, newest = self._page(
                wall, "back", start, "-", count, extras and not round_
            )
            if more:
                page.pinned = self._visible(wall, more[0])
                page.settings = pairs(more[1])
            if not round_:
                page.end = newest or None
            for entry in entries:
                item = self._parse(wall, entry)
                if isinstance(item, dict) and item["status"] == "visible":
                    posts.append(item)
            if len(posts) > limit or not cursor:
                break
            start = "(" + cursor
            count = min(2 * count, _READ_COUNT_MAX)
        else:
            page.more = True  # rounds ran out: older posts may remain
        page.posts = list(reversed(posts[:limit]))
        page.more = page.more or len(posts) > limit
        return page

    def _read_forward(self, wall, after_id, upto, limit, extras):
        # Oldest first: new visible posts, and what changed about older ones.
        shown, deleted, start = {}, [], "(" + after_id
        liked = set()  # posts last seen in a likes snapshot
        new_posts, count = 0, limit + 1
        page = PostPage([], False, end=upto)
        done = False
        for round_ in range(_READ_ROUNDS):
            entries, more, cursor, _ = self._page(
                wall, "forward", start, upto, count, extras and not round_
            )
            if more:
                page.pinned = self._visible(wall, more[0])
                page.settings = pairs(more[1])
            for entry in entries:
                item = self._parse(wall, entry)
                if isinstance(item, dict):
                    if item["status"] == "pending":
                        continue
                    new_posts += 1
                    if new_posts > limit:
                        page.more = done = True
                        break
                    if item["status"] == "visible":
                        shown[item["id"]] = item
                    else:
                        deleted.append(item["id"])
                elif isinstance(item, Change):
                    post, state = item.post, entry[2]
                    if state:
                        apply_state(post, state)
                        self._fold(post, shown, deleted)
                    else:
                        # a changed post keeps its state until it is deleted
                        # or trimmed: the snapshot is all that is left of it
                        shown.pop(post["id"], None)
                        deleted.append(post["id"])
                elif isinstance(item, LikesChange):
                    for post in item.posts:
                        self._fold(post, shown, deleted)
                        liked.add(post["id"])
                elif isinstance(item, Deletion):
                    shown.pop(item.post_id, None)
                    deleted.append(item.post_id)
                elif isinstance(item, SettingsChange):
                    page.settings_change = item.settings
                # Skipped: nothing to show
            if done or not cursor:
                break
            start = "(" + cursor
            count = min(2 * count, _READ_COUNT_MAX)
        else:
            page.more = True  # rounds ran out: later entries remain
        self._as_they_are_now(wall, shown, deleted, liked)
        gone = set(deleted)
        page.posts = sorted(
            (p for p in shown.values() if p["id"] not in gone), key=lambda p: id_key(p["id"])
        )
        page.deleted = list(dict.fromkeys(deleted))
        return page

    def _as_they_are_now(self, wall, shown, deleted, liked):
        # A likes snapshot is the post as it was at the flush; it may have
        # been deleted or trimmed since (with no tombstone for a trim).
        snapshots = [pid for pid in shown if pid in liked]
        now = {post["id"]: post for post in self._posts_of(wall, snapshots)}
        for pid in snapshots:
            post = now.get(pid)
            if post is not None and post["status"] == "visible":
                shown[pid] = post
            else:
                del shown[pid]
                deleted.append(pid)

    @staticmethod
    def _fold(post, shown, deleted):
        # The latest word on a post in a forward read: shown as it is, or gone.
        if post["status"] == "visible":
            shown[post["id"]] = post
        elif post["status"] == "hidden":
            shown.pop(post["id"], None)
            deleted.append(post["id"])

    def _visible(self, wall, entries):
        posts = []
        for entry in entries:
            item = self._parse(wall, entry)
            if isinstance(item, dict) and item["status"] == "visible":
                posts.append(item)
        return posts


__all__ = ["Added", "NewPost", "PostPage", "PostStore", "SettingsChange", "Skipped"]
