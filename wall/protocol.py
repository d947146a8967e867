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
ECHO = "echo"  # /speed

# -- server -> client events ---------------------------------------------------
NEW_POST = "new post"
POST_DELETED = "post deleted"
ONLINE = "online"
RESYNC = "resync"

CLIENT_EVENTS = (JOIN, LEAVE, ADD_TO_WALL)
SERVER_EVENTS = (NEW_POST, POST_DELETED, ONLINE, RESYNC)

# -- error codes: ``{"error": <code>, "message"}`` and the HTTP status -------
INVALID = "invalid"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
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
#: posts after ``after`` in a re-join's ack
CATCH_UP_POSTS = 200
#: a reader this many entries behind sends ``resync`` instead of them
RESYNC_BEHIND = 1000
#: bodies and Socket.IO messages, in bytes
MAX_MESSAGE_BYTES = 64 * 1024
