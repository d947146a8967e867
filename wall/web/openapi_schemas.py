"""The component schemas of the OpenAPI document for posts, errors, health and
the speed test, bounded by the constants the routes check them with
(:mod:`openapi_schemas_walls` has those of running a wall)."""

from .. import protocol, validation
from ..storage import keys as storage_keys
from ..storage import posts as storage_posts
from .openapi_common import NAME, POST_ID_PATTERN, obj, ref
from .openapi_schemas_walls import WALL_SCHEMAS
from .speed import MAX_ECHO

STATUSES = [protocol.VISIBLE, protocol.PENDING, protocol.HIDDEN]


_POST_SCHEMAS = {
    "Error": obj(
        ["error", "message"],
        {
            "error": {"type": "string", "enum": list(protocol.ERROR_CODES)},
            "message": {"type": "string", "description": "For a person."},
            "retry_after": {
                "type": "integer",
                "minimum": 0,
                "description": "With rate_limited: whole seconds to wait.",
            },
        },
        description="Every refusal (docs/protocol.md, Errors). No traceback ever.",
    ),
    "PostId": {
        "type": "string",
        "pattern": POST_ID_PATTERN,
        "description": "A Redis stream id, <ms>-<seq>; ids sort in time order.",
        "examples": ["1764100000000-0"],
    },
    "Post": obj(
        ["id", "wall", "username", "message", "ts", "client_id", "status", "pinned"]
        + ["likes", "rev"],
        {
            "id": ref("PostId"),
            "wall": NAME,
            "username": {"type": "string", "minLength": 1},
            "message": {"type": "string", "minLength": 1},
            "ts": {"type": "integer", "description": "Milliseconds since the epoch."},
            "client_id": {"type": ["string", "null"]},
            "status": {
                "type": "string",
                "enum": STATUSES,
                "description": "pending: waiting for an organiser's approval (only its "
                "author and the organisers see it); hidden: taken off the wall, restorable.",
            },
            "pinned": {"type": "boolean"},
            "likes": {"type": "integer", "minimum": 0},
            "rev": {
                "type": "integer",
                "minimum": 0,
                "description": "Grows with every change of the post: keep the higher.",
            },
        },
    ),
    "NewPost": {
        "type": "object",
        "description": "Lengths count code points after NFC and trimming; control "
        "characters, lone surrogates and (in names) bidi controls are refused with "
        "400 invalid. Unknown fields are ignored.",
        "required": ["username", "message"],
        "properties": {
            "username": {"type": "string", "minLength": 1, "maxLength": validation.USERNAME_MAX},
            "message": {"type": "string", "minLength": 1, "maxLength": validation.MESSAGE_MAX},
            "client_id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9._:-]{1,%d}$" % validation.CLIENT_ID_MAX,
                "description": "Idempotency key: a repeat within %d hours returns the "
                "original post with 200 and stores nothing." % (storage_keys.CLIENT_ID_TTL // 3600),
            },
        },
    },
    "PostReply": obj(
        ["post", "author_key"],
        {
            "post": ref("Post"),
            "author_key": {
                "type": ["string", "null"],
                "description": "Lets the author delete the post (X-Author-Key); null on "
                "a repeat from another client.",
            },
        },
    ),
    "ModeratedPost": obj(["post"], {"post": ref("Post")}),
    "PostList": obj(
        ["wall", "posts"],
        {
            "wall": NAME,
            "posts": {"type": "array", "items": ref("Post"), "maxItems": storage_posts.LIST_MAX},
        },
    ),
    "Page": obj(
        ["wall", "posts", "more"],
        {
            "wall": NAME,
            "posts": {"type": "array", "items": ref("Post"), "maxItems": validation.PAGE_MAX},
            "more": {"type": "boolean"},
            "deleted": {
                "type": "array",
                "items": ref("PostId"),
                "description": "With after: posts deleted or hidden since that id.",
            },
            "truncated": {
                "type": "boolean",
                "description": "With after: posts after that id may be gone; reload.",
            },
        },
    ),
    "Walls": obj(
        ["walls"],
        {
            "walls": {
                "type": "array",
                "maxItems": storage_posts.WALLS_MAX,
                "items": obj(
                    ["name", "posts", "online"],
                    {
                        "name": NAME,
                        "posts": {"type": "integer", "minimum": 0},
                        "online": {"type": "integer", "minimum": 0},
                    },
                ),
            }
        },
    ),
    "Deleted": obj(
        ["wall", "id", "deleted"],
        {"wall": NAME, "id": ref("PostId"), "deleted": {"const": True}},
    ),
}

_OPERATIONS_SCHEMAS = {
    "Health": obj(
        ["status"],
        {
            "status": {
                "type": "string",
                "enum": [
                    protocol.HEALTH_OK,
                    protocol.HEALTH_UNAVAILABLE,
                    protocol.HEALTH_DRAINING,
                    protocol.HEALTH_DEGRADED,
                ],
            },
            "reason": {"type": "string"},
        },
    ),
    "Echo": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "string", "maxLength": MAX_ECHO}},
    },
    "EchoReply": obj(
        ["data", "request_bytes"],
        {
            "data": {"type": "string", "maxLength": MAX_ECHO},
            "request_bytes": {
                "type": "integer",
                "minimum": 0,
                "description": "The request as received: request line, headers, body.",
            },
        },
    ),
}

SCHEMAS = {**_POST_SCHEMAS, **WALL_SCHEMAS, **_OPERATIONS_SCHEMAS}
