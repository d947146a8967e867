"""The names of the wire contract, as docs/protocol.md states them.

Clients rely on these exact strings; ``tests/unit/test_protocol.py`` checks
that every name here appears in docs/protocol.md and every event and error
code of the doc is here.
"""

#: the Socket.IO namespace of the walls
NAMESPACE = "/wall"
#: the speed test's namespace
SPEED_NAMESPACE = "/speed"

# -- client -> server events (answered through their ack) --------------------
JOIN = "join"
LEAVE = "leave"
ADD_TO_WALL = "add to wall"
LIKE = "like"
UNLIKE = "unlike"
ECHO = "echo"  # /speed

# -- server -> client events ---------------------------------------------------
NEW_POST = "new post"
POST_DELETED = "post deleted"
POST_UPDATED = "post updated"
POST_PENDING = "post pending"
WALL_UPDATED = "wall updated"
ONLINE = "online"
RESYNC = "resync"

CLIENT_EVENTS = (JOIN, LEAVE, ADD_TO_WALL, LIKE, UNLIKE)
SERVER_EVENTS = (NEW_POST, POST_DELETED, POST_UPDATED, POST_PENDING, WALL_UPDATED, ONLINE, RESYNC)

# -- post statuses and moderation ----------------------------------------------
VISIBLE, PENDING, HIDDEN = "visible", "pending", "hidden"
MODERATION = ("open", "approve", "closed")
BLOCKLIST_ACTIONS = ("hold", "reject")
#: how long an author may take back a post, in seconds
AUTHOR_WINDOW_S = 15 * 60
#: likes of a wall are written to its stream at most once per this many ms
LIKES_FLUSH_MS = 250
VISIBILITIES = ("public", "unlisted", "private")

# -- error codes: ``{"error": <code>, "message"}`` and the HTTP status -------
INVALID = "invalid"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
EXISTS = "exists"
CLOSED = "closed"
BANNED = "banned"
REJECTED = "rejected"
TOO_LARGE = "too_large"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
UNKNOWN_EVENT = "unknown_event"
INTERNAL = "internal"

ERROR_CODES = (
    INVALID,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    EXISTS,
    CLOSED,
    BANNED,
    REJECTED,
    TOO_LARGE,
    RATE_LIMITED,
    UNAVAILABLE,
    UNKNOWN_EVENT,
    INTERNAL,
)

# -- /healthz statuses -----------------------------------------------------------
HEALTH_OK = "ok"
HEALTH_UNAVAILABLE = "unavailable"
HEALTH_DRAINING = "draining"
HEALTH_DEGRADED = "degraded"

# -- sizes of the contract -----------------------------------------------------
#: newest posts in a plain join's ack
JOIN_POSTS = 50
#: pinned posts a wall shows at most (each join's ack carries them all)
MAX_PINS = 20
#: posts after ``after`` in a re-join's ack
CATCH_UP_POSTS = 200
#: a reader this many entries behind sends ``resync`` instead of them
RESYNC_BEHIND = 1000
#: bodies and Socket.IO messages, in bytes
MAX_MESSAGE_BYTES = 64 * 1024
