"""Every Redis key and pub/sub channel the wall uses, as small functions.

One place, in the manner of rq's ``keys.py``: a newcomer reads here what
the wall keeps in Redis, and nothing else in the package spells a key.
All keys start with ``wall:``; a Redis shared with other programs is safe.
"""

PREFIX = "wall:"

#: the ``limits`` library's counters live under this prefix
RATE_LIMITS_PREFIX = PREFIX + "limits"

#: Flask-SocketIO's message queue (``online`` and other coalescable emits)
MESSAGE_QUEUE_CHANNEL = "wall-socketio"

#: how long an idempotency key is kept, in seconds (docs/protocol.md)
CLIENT_ID_TTL = 24 * 3600

_POSTS = PREFIX + "posts:"
_WAKE = PREFIX + "wake:"


def posts(wall):
    """Stream of one wall: posts (``u``, ``m``, ``c``) and tombstones (``d``)."""
    return _POSTS + wall


def wall_of(key):
    """The wall whose stream ``key`` is, or None for any other key."""
    return key[len(_POSTS) :] if key.startswith(_POSTS) else None


def client_id(wall, cid):
    """String: the id of the post stored with ``cid`` on ``wall`` (for 24 h)."""
    return PREFIX + "cid:" + wall + ":" + cid


def trimmed():
    """Hash: wall -> the oldest id kept when retention last trimmed its stream."""
    return PREFIX + "trimmed"


def index():
    """Sorted set: wall -> milliseconds of its newest post."""
    return PREFIX + "index"


def organized():
    """Set: the walls that have an organiser."""
    return PREFIX + "organized"


def online(wall):
    """Hash: process id -> that process's socket count on ``wall``."""
    return PREFIX + "online:" + wall


def online_last(wall):
    """String: the last ``online`` count announced for ``wall``."""
    return PREFIX + "online-last:" + wall


def online_gate(wall):
    """String held for a second after an announcement (one per second per wall)."""
    return PREFIX + "online-gate:" + wall


def processes():
    """Sorted set: process id -> milliseconds of its last heartbeat."""
    return PREFIX + "processes"


def wake(process_id):
    """Stream that interrupts one process's blocking read of the walls."""
    return _WAKE + process_id


# -- one wall's organisation (docs/protocol.md, "Running a wall") -----------


def meta(wall):
    """Hash: the wall's settings (title, moderation, blocklist...) and ``v``, their version."""
    return PREFIX + "meta:" + wall


def organizer_keys(wall):
    """Hash: key id -> JSON ``{"hash", "label", "created"}`` of each organiser key."""
    return PREFIX + "keys:" + wall


def post_ids(wall):
    """List: the ids of the wall's posts, oldest first (retention counts these)."""
    return PREFIX + "ids:" + wall


def state(wall):
    """Hash: post id -> ``"<status>,<pinned>,<rev>"`` for posts not in their first state."""
    return PREFIX + "state:" + wall


def authors(wall):
    """Hash: post id -> ``"<who>|<address>"``: who wrote it (bans, author rights)."""
    return PREFIX + "authors:" + wall


def pending(wall):
    """Sorted set: ids of posts waiting for approval (score: ms of the post)."""
    return PREFIX + "pending:" + wall


def hidden(wall):
    """Sorted set: ids of hidden posts (score: ms when hidden)."""
    return PREFIX + "hidden:" + wall


def pinned(wall):
    """Sorted set: ids of pinned posts (score: ms when pinned)."""
    return PREFIX + "pinned:" + wall


def bans(wall):
    """Hash: ban id -> JSON ``{"id", "who", "scope", "post_id", "created"}``."""
    return PREFIX + "bans:" + wall


def banned(wall):
    """Set: the ``who`` of every ban on the wall (checked by the post script)."""
    return PREFIX + "banned:" + wall


def slow(wall, who):
    """String held for the wall's slow-mode interval after ``who`` posted."""
    return PREFIX + "slow:" + wall + ":" + who


def audit(wall):
    """Stream: what organisers, the operator and authors did on the wall."""
    return PREFIX + "audit:" + wall


# -- likes -------------------------------------------------------------------------


def likers(wall, post_id):
    """Set: who likes one post (``c:...``, ``s:...``), kept a month after the last like."""
    return PREFIX + "likers:" + wall + ":" + post_id


def popular(wall):
    """Sorted set: the wall's liked visible posts, by likes."""
    return PREFIX + "popular:" + wall


def likes_changed(wall):
    """Set: posts whose likes changed since the last flush."""
    return PREFIX + "likes-changed:" + wall


def walls_with_likes():
    """Set: walls whose likes changed since their last flush."""
    return PREFIX + "likes-walls"


def likes_gate(wall):
    """String held between two flushes of a wall's likes."""
    return PREFIX + "likes-gate:" + wall
