"""The component schemas of the OpenAPI document: the bodies the routes send
and take, bounded by the constants the routes check them with."""

from .. import protocol, validation
from .openapi_common import POST_ID_PATTERN, ref

SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Every refusal (docs/protocol.md, Errors). No traceback ever.",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "enum": list(protocol.ERROR_CODES)},
            "message": {"type": "string", "description": "For a person."},
            "retry_after": {
                "type": "integer",
                "minimum": 0,
                "description": "With rate_limited: whole seconds to wait.",
            },
        },
        "additionalProperties": False,
    },
    "PostId": {
        "type": "string",
        "pattern": POST_ID_PATTERN,
        "description": "A Redis stream id, <ms>-<seq>; ids sort in time order.",
        "examples": ["1764100000000-0"],
    },
    "Post": {
        "type": "object",
        "required": ["id", "wall", "username", "message", "ts", "client_id"],
        "properties": {
            "id": ref("PostId"),
            "wall": {"type": "string", "pattern": "^[a-z0-9-]{1,%d}$" % validation.WALL_NAME_MAX},
            "username": {"type": "string", "minLength": 1},
            "message": {"type": "string", "minLength": 1},
            "ts": {"type": "integer", "description": "Milliseconds since the epoch."},
            "client_id": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    },
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
                "description": "Idempotency key: a repeat within 24 hours returns the "
                "original post with 200 and stores nothing.",
            },
        },
    },
    "PostReply": {
        "type": "object",
        "required": ["post"],
        "properties": {"post": ref("Post")},
        "additionalProperties": False,
    },
    "Page": {
        "type": "object",
        "required": ["wall", "posts", "more"],
        "properties": {
            "wall": {"type": "string"},
            "posts": {"type": "array", "items": ref("Post"), "maxItems": validation.PAGE_MAX},
            "more": {"type": "boolean"},
            "deleted": {
                "type": "array",
                "items": ref("PostId"),
                "description": "With after: posts deleted since that id.",
            },
            "truncated": {
                "type": "boolean",
                "description": "With after: retention dropped posts after that id.",
            },
        },
        "additionalProperties": False,
    },
    "Walls": {
        "type": "object",
        "required": ["walls"],
        "properties": {
            "walls": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["name", "posts", "online"],
                    "properties": {
                        "name": {"type": "string"},
                        "posts": {"type": "integer", "minimum": 0},
                        "online": {"type": "integer", "minimum": 0},
                    },
                    "additionalProperties": False,
                },
            }
        },
        "additionalProperties": False,
    },
    "Deleted": {
        "type": "object",
        "required": ["wall", "id", "deleted"],
        "properties": {
            "wall": {"type": "string"},
            "id": ref("PostId"),
            "deleted": {"const": True},
        },
        "additionalProperties": False,
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {
                "type": "string",
                "enum": [protocol.HEALTH_OK, protocol.HEALTH_UNAVAILABLE, protocol.HEALTH_DRAINING],
            },
            "reason": {"type": "string"},
        },
        "additionalProperties": False,
    },
    "Echo": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "string", "maxLength": 1024}},
    },
    "EchoReply": {
        "type": "object",
        "required": ["data", "request_bytes"],
        "properties": {
            "data": {"type": "string", "maxLength": 1024},
            "request_bytes": {
                "type": "integer",
                "minimum": 0,
                "description": "The request as received: request line, headers, body.",
            },
        },
        "additionalProperties": False,
    },
}
