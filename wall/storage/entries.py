"""Stream entries, and the wire contract's post objects made from them.

A wall's stream holds two kinds of entry, written by this version:

- a post: fields ``u`` (username), ``m`` (message) and, optionally, ``c``
  (its client id); field names are short because every post pays for them;
- a deletion tombstone: the one field ``d``, the id of the post deleted.

The stream id is the post id, so ids sort in time order and a reader can
resume from any id. Anything else in a stream (other or missing fields, a
format of an older or newer version, bytes that are not UTF-8: Redis
clients decode with ``surrogateescape``, so those show as lone surrogates)
is not understood here: :func:`parse` returns a :class:`Skipped`, readers
step over it, and it is logged once. A newer version that adds a kind of
entry is therefore safe in a rolling deploy: older processes skip it and go
on delivering what follows.
"""

import logging
import re
from collections import OrderedDict

log = logging.getLogger(__name__)

POST_FIELDS = frozenset(("u", "m", "c"))
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


def parse(wall, entry_id, fields, entries=_DEFAULT_LOG):
    """A post (the wire contract's dict), a :class:`Deletion`, or a :class:`Skipped`."""
    if "d" in fields:
        if len(fields) == 1 and _valid_id(fields["d"]):
            return Deletion(entry_id, fields["d"])
        return _skip(entries, wall, entry_id, "a tombstone with other fields or a bad id")
    problem = _post_problem(fields)
    if problem:
        return _skip(entries, wall, entry_id, problem)
    return to_post(wall, entry_id, fields)


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
    if _SURROGATE.search(username) or _SURROGATE.search(message):
        return "bytes that are not UTF-8"
    return None


def _valid_id(value):
    return isinstance(value, str) and _POST_ID.fullmatch(value) is not None


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


def pairs(flat):
    """``[k1, v1, k2, v2]`` (as a Lua script returns an entry) -> ``{k1: v1, k2: v2}``."""
    return dict(zip(flat[0::2], flat[1::2]))
