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
