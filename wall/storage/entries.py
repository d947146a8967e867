"""Stream entries, and the wire contract's post objects made from them.

A wall's stream holds these kinds of entry, written by this version:

- a post: fields ``u`` (username), ``m`` (message) and, optionally, ``c``
  (its client id) and ``s`` = ``p`` (held for approval); field names are
  short because every post pays for them;
- a deletion tombstone: the one field ``d``, the id of the post deleted;
- a moderation change: ``t`` (approve, hide, restore, pin, unpin), ``p`` (the
  post), and a snapshot of the post after it: ``u``, ``m``, ``c``, ``s``
  (status), ``n`` (pinned, 0 or 1), ``r`` (the post's revision), ``l`` (likes);
- likes: ``t`` = ``likes`` and ``j``, snapshots of the posts whose likes
  changed since the last such entry, as JSON
  ``[[id, username, message, client id, status, pinned, revision, likes]...]``;
- a settings change: ``t`` = ``settings`` and ``j``, the public settings as JSON.

The stream id is the post id, so ids sort in time order and a reader can
resume from any id. Anything else in a stream (other or missing fields, a
format of an older or newer version, bytes that are not UTF-8: Redis
clients decode with ``surrogateescape``, so those show as lone surrogates)
is not understood here: :func:`parse` returns a :class:`Skipped`, readers
step over it, and it is logged once. A newer version that adds a kind of
entry is therefore safe in a rolling deploy: older processes skip it and go
on delivering what follows.
"""

import json
import logging
import re
from collections import OrderedDict

log = logging.getLogger(__name__)

POST_FIELDS = frozenset(("u", "m", "c", "s"))
CHANGE_FIELDS = frozenset(("t", "p", "u", "m", "c", "s", "n", "r", "l"))
CHANGES = frozenset(("approve", "hide", "restore", "pin", "unpin"))
STATUSES = {"visible", "pending", "hidden"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_POST_ID = re.compile(r"\d{1,20}-\d{1,20}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Generous bounds: what the wall writes is validated far below these.
_MAX_TEXT = 4000
_WARNED_MAX = 1000  # entry ids remembered, so each is logged once


def id_key(entry_id):
    """Sort key of a stream id: ``"12-3"`` -> ``(12, 3)``."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Deletion:
    """A tombstone read from a wall's stream: post ``post_id`` was deleted."""

    __slots__ = ("id", "post_id")

    def __init__(self, entry_id, post_id):
        self.id = entry_id
        self.post_id = post_id


class Change:
    """A moderation change: ``post`` is the post after it (status, pinned)."""

    __slots__ = ("id", "kind", "post")

    def __init__(self, entry_id, kind, post):
        self.id = entry_id
        self.kind = kind
        self.post = post


class LikesChange:
    """Likes changed: ``posts`` are the posts concerned, as they were then."""

    __slots__ = ("id", "posts")

    def __init__(self, entry_id, posts):
        self.id = entry_id
        self.posts = posts


class SettingsChange:
    """The wall's public settings changed to ``settings``."""

    __slots__ = ("id", "settings")

    def __init__(self, entry_id, settings):
        self.id = entry_id
        self.settings = settings


class Skipped:
    """An entry this version does not understand; readers step over it."""

    __slots__ = ("id", "reason")

    def __init__(self, entry_id, reason):
        self.id = entry_id
        self.reason = reason


class EntryLog:
    """Logs each skipped entry once and counts it (``on_skip``, e.g. a metric)."""

    def __init__(self, on_skip=None):
        self.on_skip = on_skip
        self._seen = OrderedDict()

    def skipped(self, wall, entry):
        key = (wall, entry.id)
        if key in self._seen:
            return
        self._seen[key] = True
        if len(self._seen) > _WARNED_MAX:
            self._seen.popitem(last=False)
        log.warning("wall %s: stream entry %s skipped: %s", wall, entry.id, entry.reason)
        if self.on_skip is not None:
            self.on_skip()


_DEFAULT_LOG = EntryLog()


def parse(wall, entry_id, fields, entries=_DEFAULT_LOG, state=None):
    """See :func:`_parse`; anything it cannot read (of any shape) is skipped."""
    try:
        return _parse(wall, entry_id, fields, entries, state)
    except Exception as exc:  # RecursionError, OverflowError...: one entry, not delivery
        return _skip(entries, wall, entry_id, "unreadable (%s)" % type(exc).__name__)


def _parse(wall, entry_id, fields, entries, state):
    """A post (the wire contract's dict), a :class:`Deletion`, a
    :class:`Change`, a :class:`SettingsChange`, or a :class:`Skipped`.

    :param state: the post's current ``"<status>,<pinned>,<rev>"`` when the
        reader knows it (page reads), else its state as written.
    """
    if "d" in fields:
        if len(fields) == 1 and _valid_id(fields["d"]):
            return Deletion(entry_id, fields["d"])
        return _skip(entries, wall, entry_id, "a tombstone with other fields or a bad id")
    if "t" in fields:
        return _event(wall, entry_id, fields, entries)
    problem = _post_problem(fields)
    if problem:
        return _skip(entries, wall, entry_id, problem)
    post = to_post(wall, entry_id, fields)
    if state:
        apply_state(post, state)
    return post


def apply_state(post, state):
    """Set a post's status, pinned, rev and likes from its ``state`` string."""
    parts = state.split(",")
    post["status"], post["pinned"], post["rev"] = parts[0], parts[1] == "1", int(parts[2])
    post["likes"] = int(parts[3]) if len(parts) > 3 and parts[3] else 0
    return post


def _event(wall, entry_id, fields, entries):
    kind = fields["t"]
    if kind == "likes" and set(fields) == {"t", "j"}:
        return _likes(wall, entry_id, fields["j"], entries)
    if kind == "settings" and set(fields) == {"t", "j"}:
        try:
            settings = json.loads(fields["j"])
        except ValueError:
            settings = None
        if isinstance(settings, dict):
            return SettingsChange(entry_id, settings)
        return _skip(entries, wall, entry_id, "settings that are not a JSON object")
    if kind not in CHANGES or not CHANGE_FIELDS.issuperset(fields):
        return _skip(entries, wall, entry_id, "a change this version does not know")
    snapshot = {k: v for k, v in fields.items() if k in ("u", "m", "c")}
    problem = _post_problem(snapshot) if _valid_id(fields.get("p")) else "a change of no post"
    if problem or fields.get("s") not in STATUSES or fields.get("n") not in ("0", "1"):
        return _skip(entries, wall, entry_id, problem or "a change with a bad status")
    post = to_post(wall, fields["p"], snapshot)
    post["status"], post["pinned"] = fields["s"], fields["n"] == "1"
    post["rev"] = _int(fields.get("r"))
    post["likes"] = _int(fields.get("l"))
    return Change(entry_id, kind, post)


def _likes(wall, entry_id, text, entries):
    try:
        rows = json.loads(text)
        posts = []
        for pid, username, message, client_id, status, pinned, rev, likes in rows:
            fields = {"u": username, "m": message}
            if client_id:
                fields["c"] = client_id
            if not _valid_id(pid) or _post_problem(fields) or status not in STATUSES:
                raise ValueError(pid)
            post = to_post(wall, pid, fields)
            post.update(status=status, pinned=pinned == 1, rev=int(rev), likes=int(likes))
            posts.append(post)
    except (ValueError, TypeError):
        return _skip(entries, wall, entry_id, "likes this version does not understand")
    return LikesChange(entry_id, posts)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _skip(entries, wall, entry_id, reason):
    skipped = Skipped(entry_id, reason)
    entries.skipped(wall, skipped)
    return skipped


def _post_problem(fields):
    if not POST_FIELDS.issuperset(fields):
        return "fields this version does not know: %s" % ", ".join(
            sorted(repr(f) for f in set(fields) - POST_FIELDS)[:5]
        )
    username, message = fields.get("u"), fields.get("m")
    if not isinstance(username, str) or not isinstance(message, str):
        return "not a post: username or message missing"
    if not username or not message or len(username) > _MAX_TEXT or len(message) > _MAX_TEXT:
        return "an empty or oversized username or message"
    client_id = fields.get("c")
    if client_id and not _CLIENT_ID.fullmatch(client_id):
        return "a bad client id"
    if fields.get("s", "p") != "p":
        return "a status this version does not know"
    if _SURROGATE.search(username) or _SURROGATE.search(message):
        return "bytes that are not UTF-8"
    return None


def _valid_id(value):
    return isinstance(value, str) and _POST_ID.fullmatch(value) is not None


def to_post(wall, post_id, fields):
    """The post payload of the wire contract, from a post entry (as written)."""
    return {
        "id": post_id,
        "wall": wall,
        "username": fields.get("u", ""),
        "message": fields.get("m", ""),
        "ts": id_key(post_id)[0],
        "client_id": fields.get("c") or None,
        "status": "pending" if fields.get("s") == "p" else "visible",
        "pinned": False,
        "likes": 0,
        "rev": 0,
    }


def pairs(flat):
    """``[k1, v1, k2, v2]`` (as a Lua script returns an entry) -> ``{k1: v1, k2: v2}``."""
    return dict(zip(flat[0::2], flat[1::2]))
