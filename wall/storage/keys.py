"""Every Redis key and pub/sub channel the wall uses, as small functions.

One place, in the manner of rq's ``keys.py``: a newcomer reads here what
the wall keeps in Redis, and nothing else in the package spells a key.
All keys start with ``wall:``; a Redis shared with other programs is safe.

**On a Redis Cluster** (:func:`configure`) every key of a wall carries the
hash tag of its *group*, ``{g<n>}``: a wall's keys share one hash slot, so
its Lua scripts stay atomic, and walls spread over every master with their
groups. One ``XREAD`` can only name keys of one slot, so a process reads
the walls it watches with one blocking read per group, whatever their
number: ``GROUPS`` reads at most (docs/scaling.md). The keys that span walls
(the walls index, the process list, the retention marks...) exist once per
group, in that group's slot. On one Redis (or Sentinel) there are no tags
and one group: the layout the wall has always had.
"""

import zlib

PREFIX = "wall:"

#: the ``limits`` library's counters live under this prefix
RATE_LIMITS_PREFIX = PREFIX + "limits"

#: Flask-SocketIO's message queue (``online`` and other coalescable emits)
MESSAGE_QUEUE_CHANNEL = "wall-socketio"

#: how long an idempotency key is kept, in seconds (docs/protocol.md)
CLIENT_ID_TTL = 24 * 3600

#: slot groups on a cluster: a process holds at most this many blocking reads
CLUSTER_GROUPS = 16

_layout = {"groups": 1}


def configure(cluster):
    """Use the cluster layout (hash tags, ``CLUSTER_GROUPS`` groups) or the plain one."""
    _layout["groups"] = CLUSTER_GROUPS if cluster else 1


def groups():
    """The slot groups: ``[0]`` on one Redis, ``0 .. CLUSTER_GROUPS-1`` on a cluster."""
    return list(range(_layout["groups"]))


def group_of(wall):
    """The slot group of a wall (0 on one Redis)."""
    if _layout["groups"] == 1:
        return 0
    return zlib.crc32(wall.encode()) % _layout["groups"]


def _in(group):
    # the prefix of a group's keys: "wall:" plain, "wall:{g3}:" on a cluster
    return PREFIX if _layout["groups"] == 1 else "%s{g%d}:" % (PREFIX, group)


def _of(wall):
    return _in(group_of(wall))


# -- a wall's posts -------------------------------------------------------------


def posts(wall):
    """Stream of one wall: posts, tombstones and changes (wall/storage/entries.py)."""
    return _of(wall) + "posts:" + wall


def wall_of(key):
    """The wall whose stream ``key`` is, or None for any other key."""
    marker = ":posts:"
    at = key.find(marker)
    return key[at + len(marker) :] if at >= 0 and key.startswith(PREFIX) else None


def client_id(wall, cid):
    """String: the id of the post stored with ``cid`` on ``wall`` (for 24 h)."""
    return _of(wall) + "cid:" + wall + ":" + cid


def post_ids(wall):
    """List: the ids of the wall's posts, oldest first (retention counts these)."""
    return _of(wall) + "ids:" + wall


def trimmed(wall):
    """Hash: wall -> the oldest id kept when retention last trimmed its stream
    (one hash per group; the field is the wall)."""
    return _of(wall) + "trimmed"


def index(wall=None, group=None):
    """Sorted set: wall -> milliseconds of its newest post (one per group)."""
    return _in(group if group is not None else group_of(wall)) + "index"


def indexes():
    """Every group's walls index."""
    return [index(group=g) for g in groups()]


# -- one wall's organisation (docs/protocol.md, "Running a wall") -----------


def meta(wall):
    """Hash: the wall's settings (title, moderation, blocklist...) and ``v``, their version."""
    return _of(wall) + "meta:" + wall


def organizer_keys(wall):
    """Hash: key id -> JSON ``{"hash", "label", "created"}`` of each organiser key."""
    return _of(wall) + "keys:" + wall


def organized(wall=None, group=None):
    """Set: the walls that have an organiser (one per group)."""
    return _in(group if group is not None else group_of(wall)) + "organized"


def state(wall):
    """Hash: post id -> ``"<status>,<pinned>,<rev>,<likes>"`` for posts not as written."""
    return _of(wall) + "state:" + wall


def authors(wall):
    """Hash: post id -> ``"<who>|<address>"``: who wrote it (bans, author rights)."""
    return _of(wall) + "authors:" + wall


def pending(wall):
    """Sorted set: ids of posts waiting for approval (score: ms of the post)."""
    return _of(wall) + "pending:" + wall


def hidden(wall):
    """Sorted set: ids of hidden posts (score: ms when hidden)."""
    return _of(wall) + "hidden:" + wall


def pinned(wall):
    """Sorted set: ids of pinned posts (score: ms when pinned)."""
    return _of(wall) + "pinned:" + wall


def bans(wall):
    """Hash: ban id -> JSON ``{"id", "who", "scope", "post_id", "created"}``."""
    return _of(wall) + "bans:" + wall


def banned(wall):
    """Set: the ``who`` of every ban on the wall (checked by the post script)."""
    return _of(wall) + "banned:" + wall


def slow(wall, who):
    """String held for the wall's slow-mode interval after ``who`` posted."""
    return _of(wall) + "slow:" + wall + ":" + who


def audit(wall):
    """Stream: what organisers, the operator and authors did on the wall."""
    return _of(wall) + "audit:" + wall


# -- likes -------------------------------------------------------------------------


def likers(wall, post_id):
    """Set: who likes one post (``c:...``, ``s:...``), kept a month after the last like."""
    return _of(wall) + "likers:" + wall + ":" + post_id


def popular(wall):
    """Sorted set: the wall's liked visible posts, by likes."""
    return _of(wall) + "popular:" + wall


def likes_changed(wall):
    """Set: posts whose likes changed since the last flush."""
    return _of(wall) + "likes-changed:" + wall


def walls_with_likes(wall=None, group=None):
    """Set: walls whose likes changed since their last flush (one per group)."""
    return _in(group if group is not None else group_of(wall)) + "likes-walls"


def likes_gate(wall):
    """String held between two flushes of a wall's likes."""
    return _of(wall) + "likes-gate:" + wall


# -- presence and the processes -----------------------------------------------------


def online(wall):
    """Hash: process id -> that process's socket count on ``wall``."""
    return _of(wall) + "online:" + wall


def online_last(wall):
    """String: the last ``online`` count announced for ``wall``."""
    return _of(wall) + "online-last:" + wall


def online_gate(wall):
    """String held for a second after an announcement (one per second per wall)."""
    return _of(wall) + "online-gate:" + wall


def processes(wall=None, group=None):
    """Sorted set: process id -> milliseconds of its last heartbeat (one per group:
    a process heartbeats into each, so the presence script finds it in the slot
    of the wall it counts)."""
    return _in(group if group is not None else group_of(wall)) + "processes"


def wake(process_id, group=0):
    """Stream that interrupts one process's blocking read of a group's walls."""
    return _in(group) + "wake:" + process_id
