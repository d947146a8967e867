"""Every Redis key and command the wall uses lives here.

Posts of a wall are one Redis Stream; the stream id is the post id, so ids
sort in time order and a reader can resume from any id. Field names in the
stream are short because every post pays for them.
"""

import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

PREFIX = "wall:"
POSTS = PREFIX + "posts:"  # stream per wall: posts (u, m, c) and tombstones (d)
CLIENT_IDS = PREFIX + "cid:"  # cid:<wall>:<client_id> -> post id, 24 h
TRIMMED = PREFIX + "trimmed"  # hash: wall -> oldest id kept after retention last trimmed it
INDEX = PREFIX + "index"  # zset: wall -> ms of its newest post
ONLINE = PREFIX + "online:"  # hash per wall: process id -> local socket count
ONLINE_LAST = PREFIX + "online-last:"  # last count announced for a wall
ONLINE_GATE = PREFIX + "online-gate:"  # held 1 s after an announcement
PROCESSES = PREFIX + "processes"  # zset: process id -> last heartbeat ms
WAKE = PREFIX + "wake:"  # stream per process that interrupts its blocking read

CLIENT_ID_TTL = 24 * 3600
_READ_ROUNDS = 20  # bound on re-reads when tombstones thin out a page

# Appends to a wall's stream with retention, and remembers how far retention
# has cut, so that readers behind that point know they missed something.
_APPEND = """
local function append(stream, trimmed, wall, maxlen, fields)
  local before = redis.call('XLEN', stream)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(fields))
  if redis.call('XLEN', stream) <= before then
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
    redis.call('HSET', trimmed, wall, oldest[1][1])
  end
  return id
end
"""

_ADD_POST = _APPEND + """
local cid = ARGV[3]
if cid ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    local found = redis.call('XRANGE', KEYS[1], existing, existing)
    if #found > 0 then return {0, found[1][1], found[1][2]} end
    return {0, existing}
  end
end
local fields = {'u', ARGV[1], 'm', ARGV[2]}
if cid ~= '' then
  fields[5] = 'c'
  fields[6] = cid
end
local id = append(KEYS[1], KEYS[3], ARGV[6], ARGV[4], fields)
if cid ~= '' then
  redis.call('SET', KEYS[2], id, 'EX', ARGV[5])
end
redis.call('ZADD', KEYS[4], tonumber(string.match(id, '^%d+')), ARGV[6])
return {1, id}
"""

# A deletion removes the post and appends a tombstone to the same stream, so
# it reaches every reader on the same ordered, resumable path as posts do.
_DELETE_POST = _APPEND + """
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then
  return false
end
return append(KEYS[1], KEYS[2], ARGV[3], ARGV[2], {'d', ARGV[1]})
"""

# Counts the sockets of live processes, forgets dead ones, and decides
# whether this caller announces the new total: only when it changed, and at
# most once a second per wall across all processes (the gate key).
_PRESENCE = """
local count = tonumber(ARGV[2])
if count > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], count)
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local total = 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local seen = redis.call('ZSCORE', KEYS[2], flat[i])
  if seen and tonumber(seen) >= tonumber(ARGV[4]) then
    total = total + tonumber(flat[i + 1])
  else
    redis.call('HDEL', KEYS[1], flat[i])
  end
end
if redis.call('GET', KEYS[3]) == tostring(total) then
  return {total, 0}
end
if redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[5]) then
  redis.call('SET', KEYS[3], tostring(total), 'EX', 86400)
  return {total, 1}
end
return {total, -1}
"""


def id_key(post_id):
    """Sort key of a stream id: ``"12-3"`` -> ``(12, 3)``."""
    ms, _, seq = post_id.partition("-")
    return int(ms), int(seq or 0)


def connect(url, socket_timeout=5.0, retry_writes=False):
    """Return a Redis client for ``url`` tuned for the wall.

    The post path must never repeat a write on its own (a timed-out XADD may
    have been applied), so retries are off unless asked for.
    """
    options = dict(
        socket_connect_timeout=2.0,
        socket_timeout=socket_timeout,
        socket_keepalive=True,
        health_check_interval=30,
        decode_responses=True,
    )
    if not retry_writes:
        options["retry"] = Retry(NoBackoff(), 0)
        options["retry_on_error"] = []
    return redis.Redis.from_url(url, **options)


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


class WallStore:
    """Reads and writes walls, presence and wake-ups in one Redis.

    :param client: a ``redis.Redis`` with ``decode_responses=True``.
    :param history: how many posts each wall keeps (approximately, at least).
    """

    def __init__(self, client, history=10000):
        self.redis = client
        self.history = history
        self._add_post = client.register_script(_ADD_POST)
        self._delete_post = client.register_script(_DELETE_POST)
        self._presence = client.register_script(_PRESENCE)

    # -- posts -------------------------------------------------------------

    def add_post(self, wall, username, message, client_id=None):
        """Store a post once; return ``(post, created)``.

        With a ``client_id`` already used on this wall in the last 24 h the
        original post comes back with ``created`` False and nothing is stored.
        """
        keys, args = self._add_post_call(wall, username, message, client_id)
        result = self._add_post(keys=keys, args=args)
        return self._added(result, wall, username, message, client_id)

    def add_posts(self, posts):
        """Store several posts in one round trip, each as :meth:`add_post` would.

        :param posts: ``[(wall, username, message, client_id)]``.
        :return: one ``(post, created)`` or exception per post, in order.
        """
        pipe = self.redis.pipeline(transaction=False)
        for post in posts:
            keys, args = self._add_post_call(*post)
            pipe.execute_command("EVALSHA", self._add_post.sha, len(keys), *keys, *args)
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
        keys = [POSTS + wall, CLIENT_IDS + wall + ":" + cid, TRIMMED, INDEX]
        args = [username, message, cid, self.history, CLIENT_ID_TTL, wall]
        return keys, args

    def _added(self, result, wall, username, message, client_id):
        created, post_id = bool(result[0]), result[1]
        if len(result) > 2:
            fields = _pairs(result[2])
        else:
            # The original is gone (trimmed or deleted); the retry carries its text.
            fields = {"u": username, "m": message, "c": client_id or ""}
        return to_post(wall, post_id, fields), created

    def delete_post(self, wall, post_id):
        """Delete a post; return True if it existed. Readers get a tombstone."""
        keys = [POSTS + wall, TRIMMED]
        return bool(self._delete_post(keys=keys, args=[post_id, self.history, wall]))

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
        pipe.hget(TRIMMED, wall)
        if upto is None:
            pipe.xrevrange(POSTS + wall, "+", "-", count=1)
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
        return dict(zip(walls, self.redis.hmget(TRIMMED, walls))) if walls else {}

    def newest_id(self, wall):
        """The id of the newest entry in a wall's stream, or ``0-0``."""
        newest = self.redis.xrevrange(POSTS + wall, "+", "-", count=1)
        return newest[0][0] if newest else "0-0"

    def walls(self, limit=100):
        """``[(wall, entries kept)]`` for the walls with the most recent posts."""
        names = self.redis.zrevrange(INDEX, 0, limit - 1)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.xlen(POSTS + name)
        return [(n, c) for n, c in zip(names, pipe.execute()) if c]

    def _read_back(self, wall, start, limit):
        # Tombstones take room in a read; read on until the page is full.
        posts, last_read = [], None
        for _ in range(_READ_ROUNDS):
            entries = self.redis.xrevrange(POSTS + wall, start, "-", count=limit + 1)
            if last_read is None and entries:
                last_read = entries[0][0]
            for entry_id, fields in entries:
                if "d" not in fields:
                    posts.append(to_post(wall, entry_id, fields))
            if len(posts) > limit or len(entries) <= limit:
                break
            start = "(" + entries[-1][0]
        more = len(posts) > limit
        return list(reversed(posts[:limit])), more, last_read

    def _read_forward(self, wall, after_id, upto, limit):
        posts, deleted, start = [], [], "(" + after_id
        for _ in range(_READ_ROUNDS):
            entries = self.redis.xrange(POSTS + wall, start, upto, count=limit + 1)
            for entry_id, fields in entries:
                if "d" in fields:
                    if len(posts) <= limit:
                        deleted.append(fields["d"])
                else:
                    posts.append(to_post(wall, entry_id, fields))
            if len(posts) > limit or len(entries) <= limit:
                break
            start = "(" + entries[-1][0]
        page = PostPage(posts[:limit], len(posts) > limit, end=upto)
        gone = set(deleted)
        page.posts = [p for p in page.posts if p["id"] not in gone]
        page.deleted = deleted
        return page

    # -- delivery ----------------------------------------------------------

    def read_new(self, client, positions, block_ms, count):
        """Block until any of ``positions`` (wall -> id, or a wake key) has news.

        :param client: the caller's own connection, since the call blocks.
        :return: ``[(wall or key, [post or Deletion...])]``; wake-up keys
                 come back with raw ``(id, fields)`` entries.
        """
        streams = {_stream_key(w): pos for w, pos in positions.items()}
        replies = client.xread(streams, count=count, block=block_ms) or []
        out = []
        for key, entries in replies:
            if key.startswith(POSTS):
                wall = key[len(POSTS):]
                out.append((wall, [to_item(wall, i, f) for i, f in entries]))
            else:
                out.append((key, entries))
        return out

    def wake_key(self, process_id):
        """The stream that interrupts ``process_id``'s blocking read."""
        return WAKE + process_id

    def last_wake(self, key):
        """The newest id of a wake-up stream (``0-0`` when empty)."""
        newest = self.redis.xrevrange(key, "+", "-", count=1)
        return newest[0][0] if newest else "0-0"

    def wake(self, key):
        """Interrupt the blocking read that watches ``key``."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(key, {"w": "1"}, maxlen=10, approximate=False)
        pipe.expire(key, 3600)
        pipe.execute()

    # -- presence ----------------------------------------------------------

    def sync_presence(self, wall, process_id, count, timeout_s):
        """Record this process's socket count on a wall.

        :return: ``(total, announce)``: the count across live processes, and
                 1 if the caller should announce it now, 0 if it is unchanged,
                 -1 if another process announced within the last second.
        """
        now = int(time.time() * 1000)
        keys = [ONLINE + wall, PROCESSES, ONLINE_LAST + wall, ONLINE_GATE + wall]
        args = [process_id, count, now, now - int(timeout_s * 1000), 1000]
        total, announce = self._presence(keys=keys, args=args)
        return int(total), int(announce)

    def heartbeat(self, process_id, counts, timeout_s):
        """Keep this process alive in presence and re-state its counts.

        Re-stating makes presence whole again after Redis lost its data.
        """
        now = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(PROCESSES, {process_id: now})
        pipe.zremrangebyscore(PROCESSES, "-inf", now - int(timeout_s * 1000) - 1)
        for wall, count in counts.items():
            pipe.hset(ONLINE + wall, process_id, count)
        pipe.execute()

    def forget_process(self, process_id, walls):
        """Remove a stopping process from presence at once."""
        pipe = self.redis.pipeline(transaction=False)
        for wall in walls:
            pipe.hdel(ONLINE + wall, process_id)
        pipe.zrem(PROCESSES, process_id)
        pipe.execute()

    def online(self, wall, timeout_s):
        """Sockets on ``wall`` across live processes (read only)."""
        now = int(time.time() * 1000)
        counts = self.redis.hgetall(ONLINE + wall)
        if not counts:
            return 0
        seen = self.redis.zmscore(PROCESSES, list(counts))
        alive = now - int(timeout_s * 1000)
        return sum(
            int(c) for c, s in zip(counts.values(), seen) if s is not None and s >= alive
        )

    def ping(self):
        return self.redis.ping()


class Deletion:
    """A tombstone read from a wall's stream: post ``post_id`` was deleted."""

    __slots__ = ("id", "post_id")

    def __init__(self, entry_id, post_id):
        self.id = entry_id
        self.post_id = post_id


def to_item(wall, entry_id, fields):
    """A post, or a :class:`Deletion` for a tombstone entry."""
    if "d" in fields:
        return Deletion(entry_id, fields["d"])
    return to_post(wall, entry_id, fields)


def to_post(wall, post_id, fields):
    """The post payload of the wire contract, from a stream entry."""
    return {
        "id": post_id,
        "wall": wall,
        "username": fields.get("u", ""),
        "message": fields.get("m", ""),
        "ts": id_key(post_id)[0],
        "client_id": fields.get("c") or None,
    }


def _stream_key(name):
    return name if name.startswith(WAKE) else POSTS + name


def _pairs(flat):
    return dict(zip(flat[0::2], flat[1::2]))
