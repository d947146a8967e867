"""The posts of every wall: one Redis Stream per wall, written by Lua scripts.

A post is stored by one atomic script (the ``client_id`` check, ``XADD``
with retention, the walls index), so a retried post is stored at most once.
Nothing here retries a write on its own (see :func:`wall.storage.connect`).
"""

import redis

from . import keys, lua
from .entries import Deletion, EntryLog, Skipped, id_key, pairs, parse, to_post
from .streams import newest_id

_READ_ROUNDS = 20  # bound on re-reads when tombstones thin out a page


class PostPage:
    """A slice of a wall's posts, oldest first."""

    def __init__(self, posts, more, truncated=False, end=None, deleted=()):
        self.posts = posts
        self.more = more
        self.truncated = truncated
        #: the stream id up to which this page is complete (for joins)
        self.end = end
        #: ids of posts deleted within the range read (forward reads only)
        self.deleted = list(deleted)


class PostStore:
    """Reads and writes walls' posts in one Redis.

    :param client: a ``redis.Redis`` with ``decode_responses=True``.
    :param history: how many posts each wall keeps (approximately, at least).
    :param entries: the :class:`~wall.storage.entries.EntryLog` of skipped entries.
    """

    def __init__(self, client, history=10000, entries=None):
        self.redis = client
        self.history = history
        self.entries = entries or EntryLog()
        self._add_post = lua.register(client, "add_post")
        self._delete_post = lua.register(client, "delete_post")

    # -- writes --------------------------------------------------------------

    def add_post(self, wall, username, message, client_id=None):
        """Store a post once; return ``(post, created)``.

        With a ``client_id`` already used on this wall in the last 24 h the
        original post comes back with ``created`` False and nothing is stored.
        """
        script_keys, args = self._add_post_call(wall, username, message, client_id)
        result = self._add_post(keys=script_keys, args=args)
        return self._added(result, wall, username, message, client_id)

    def add_posts(self, posts):
        """Store several posts in one round trip, each as :meth:`add_post` would.

        :param posts: ``[(wall, username, message, client_id)]``.
        :return: one ``(post, created)`` or exception per post, in order.
        """
        pipe = self.redis.pipeline(transaction=False)
        for post in posts:
            script_keys, args = self._add_post_call(*post)
            pipe.execute_command(
                "EVALSHA", self._add_post.sha, len(script_keys), *script_keys, *args
            )
        replies = pipe.execute(raise_on_error=False)
        out = []
        for post, reply in zip(posts, replies):
            if isinstance(reply, redis.exceptions.NoScriptError):
                # Not run (Redis lost its script cache): run it alone, which loads it.
                try:
                    out.append(self.add_post(*post))
                except redis.RedisError as exc:
                    out.append(exc)
            elif isinstance(reply, Exception):
                out.append(reply)
            else:
                out.append(self._added(reply, *post))
        return out

    def _add_post_call(self, wall, username, message, client_id):
        cid = client_id or ""
        script_keys = [keys.posts(wall), keys.client_id(wall, cid), keys.trimmed(), keys.index()]
        args = [username, message, cid, self.history, keys.CLIENT_ID_TTL, wall]
        return script_keys, args

    def _added(self, result, wall, username, message, client_id):
        created, post_id = bool(result[0]), result[1]
        if len(result) > 2:
            fields = pairs(result[2])
        else:
            # The original is gone (trimmed or deleted); the retry carries its text.
            fields = {"u": username, "m": message, "c": client_id or ""}
        return to_post(wall, post_id, fields), created

    def delete_post(self, wall, post_id):
        """Delete a post; return True if it existed. Readers get a tombstone."""
        script_keys = [keys.posts(wall), keys.trimmed()]
        return bool(self._delete_post(keys=script_keys, args=[post_id, self.history, wall]))

    # -- reads ---------------------------------------------------------------

    def latest(self, wall, limit, upto=None):
        """The newest ``limit`` posts (up to id ``upto``); ``more``: older ones exist.

        ``end`` is the newest stream entry at the time of the read (``upto``
        when given), tombstones included: where a reader would resume.
        """
        posts, more, last_read = self._read_back(wall, upto or "+", limit)
        if upto is None:
            upto = last_read or "0-0"
        return PostPage(posts, more, end=upto)

    def before(self, wall, before_id, limit):
        """The ``limit`` posts just before ``before_id``; ``more``: older ones exist."""
        posts, more, _ = self._read_back(wall, "(" + before_id, limit)
        return PostPage(posts, more)

    def after(self, wall, after_id, limit, upto=None):
        """Up to ``limit`` posts after ``after_id``; ``more``: later ones remain.

        ``deleted`` lists posts deleted since ``after_id`` (their tombstones
        lie after it), so a client that was away can drop them. ``truncated``
        is True when retention has cut past ``after_id``: some posts after it
        may be gone for good.
        """
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(keys.trimmed(), wall)
        if upto is None:
            pipe.xrevrange(keys.posts(wall), "+", "-", count=1)
        replies = pipe.execute()
        mark = replies[0]
        if upto is None:
            upto = replies[1][0][0] if replies[1] else "0-0"
        page = self._read_forward(wall, after_id, upto, limit)
        page.truncated = bool(mark) and id_key(after_id) < id_key(mark)
        return page

    def range(self, wall, after_id, upto, limit):
        """Posts and deletions with ``after_id < id <= upto``, as a page."""
        return self._read_forward(wall, after_id, upto, limit)

    def trim_marks(self, walls):
        """wall -> the oldest id kept when retention last cut it (or None)."""
        return dict(zip(walls, self.redis.hmget(keys.trimmed(), walls))) if walls else {}

    def newest_id(self, wall):
        """The id of the newest entry in a wall's stream, or ``0-0``."""
        return newest_id(self.redis, keys.posts(wall))

    def walls(self, limit=100):
        """``[(wall, entries kept)]`` for the walls with the most recent posts."""
        names = self.redis.zrevrange(keys.index(), 0, limit - 1)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.xlen(keys.posts(name))
        return [(n, c) for n, c in zip(names, pipe.execute()) if c]

    def ping(self):
        return self.redis.ping()

    def _read_back(self, wall, start, limit):
        # Tombstones take room in a read; read on until the page is full.
        posts, last_read = [], None
        for _ in range(_READ_ROUNDS):
            entries = self.redis.xrevrange(keys.posts(wall), start, "-", count=limit + 1)
            if last_read is None and entries:
                last_read = entries[0][0]
            for entry_id, fields in entries:
                item = parse(wall, entry_id, fields, self.entries)
                if not isinstance(item, (Deletion, Skipped)):
                    posts.append(item)
            if len(posts) > limit or len(entries) <= limit:
                break
            start = "(" + entries[-1][0]
        more = len(posts) > limit
        return list(reversed(posts[:limit])), more, last_read

    def _read_forward(self, wall, after_id, upto, limit):
        posts, deleted, start = [], [], "(" + after_id
        for _ in range(_READ_ROUNDS):
            entries = self.redis.xrange(keys.posts(wall), start, upto, count=limit + 1)
            for entry_id, fields in entries:
                item = parse(wall, entry_id, fields, self.entries)
                if isinstance(item, Deletion):
                    if len(posts) <= limit:
                        deleted.append(item.post_id)
                elif not isinstance(item, Skipped):
                    posts.append(item)
            if len(posts) > limit or len(entries) <= limit:
                break
            start = "(" + entries[-1][0]
        page = PostPage(posts[:limit], len(posts) > limit, end=upto)
        gone = set(deleted)
        page.posts = [p for p in page.posts if p["id"] not in gone]
        page.deleted = deleted
        return page
