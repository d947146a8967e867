"""``GET /api/openapi.json``: every HTTP route of the app as an OpenAPI 3.1 document.

The document is built here, from the same constants the routes use, and
served as JSON. It lists every URL rule of the app except ``/static/...``
(files) and ``/socket.io/`` (Socket.IO's own transport, docs/protocol.md):
the pages, ``/healthz`` and ``/metrics``, the JSON API and, unless
``WALL_SPEED_TEST=off``, the speed test. ``HEAD`` and ``OPTIONS``, which
Flask answers on every rule, are not listed. tests/unit/web/test_openapi.py
holds the document and the app's URL map together and validates it.
"""

import copy

from flask import Blueprint, current_app, jsonify

from .. import protocol, validation
from .. import settings as settings_module

OPENAPI_VERSION = "3.1.0"
PATH = "/api/openapi.json"

bp = Blueprint("openapi", __name__)


@bp.get(PATH)
def openapi_document():
    """This document."""
    return jsonify(document(settings_module.get(current_app)))


def _ref(name):
    return {"$ref": "#/components/schemas/%s" % name}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description):
    return {"$ref": "#/components/responses/%s" % description}


def _html(description):
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


WALL_PATTERN = "^[A-Za-z0-9-]{1,%d}$" % validation.WALL_NAME_MAX
POST_ID_PATTERN = "^[0-9]{1,20}-[0-9]{1,20}$"

_WALL_PARAM = {
    "name": "wall",
    "in": "path",
    "required": True,
    "description": "A wall name: 1 to %d characters of a-z, 0-9 and '-', case-folded "
    "(surrounding spaces are dropped)." % validation.WALL_NAME_MAX,
    "schema": {"type": "string", "pattern": WALL_PATTERN},
}

_SCHEMAS = {
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
            "id": _ref("PostId"),
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
        "properties": {"post": _ref("Post")},
        "additionalProperties": False,
    },
    "Page": {
        "type": "object",
        "required": ["wall", "posts", "more"],
        "properties": {
            "wall": {"type": "string"},
            "posts": {"type": "array", "items": _ref("Post"), "maxItems": validation.PAGE_MAX},
            "more": {"type": "boolean"},
            "deleted": {
                "type": "array",
                "items": _ref("PostId"),
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
            "id": _ref("PostId"),
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

# One named response per error status of docs/protocol.md.
_ERRORS = {
    "invalid": (400, "invalid: a bad payload, parameter or wall name."),
    "unauthorized": (401, "unauthorized: no Authorization: Bearer token."),
    "forbidden": (403, "forbidden: a wrong token, or a cross-site request."),
    "not_found": (404, "not_found: no such post, or moderation is off."),
    "too_large": (413, "too_large: the body is over 64 KiB."),
    "rate_limited": (429, "rate_limited: too many; retry_after says when to retry."),
    "unavailable": (503, "unavailable: Redis cannot be reached; retry later."),
    "internal": (500, "internal: a bug on the server; it was logged."),
}

_UNSAFE_HEADERS = [
    {
        "name": "Origin",
        "in": "header",
        "required": False,
        "description": "A browser's origin: another than the app's own (or one of "
        "WALL_ALLOWED_ORIGINS) is refused with 403.",
        "schema": {"type": "string"},
    },
    {
        "name": "Sec-Fetch-Site",
        "in": "header",
        "required": False,
        "description": "cross-site is refused with 403.",
        "schema": {"type": "string"},
    },
]


def _errors(*codes):
    return {str(_ERRORS[code][0]): _error(code) for code in codes}


def _paths(speed_test):
    paths = {
        "/": {
            "get": {
                "operationId": "index",
                "summary": "The default wall's page (WALL_DEFAULT).",
                "tags": ["pages"],
                "responses": {"200": _html("The page.")},
            }
        },
        "/w/{wall}": {
            "get": {
                "operationId": "wall_page",
                "summary": "A wall's page.",
                "tags": ["pages"],
                "parameters": [_WALL_PARAM],
                "responses": {
                    "200": _html("The page."),
                    "301": {
                        "description": "A name in another case: its case-folded form.",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "404": _html("Not a wall name: the HTML 404 page."),
                },
            }
        },
        "/api/walls": {
            "get": {
                "operationId": "list_walls",
                "summary": "Walls that have posts, most recently active first (at most 100).",
                "tags": ["api"],
                "responses": {
                    "200": _json(_ref("Walls"), "The walls."),
                    **_errors("unavailable", "internal"),
                },
            }
        },
        "/api/walls/{wall}/posts": {
            "get": {
                "operationId": "read_posts",
                "summary": "Posts of a wall, oldest first: the newest, before=<id> or after=<id>.",
                "tags": ["api"],
                "parameters": [
                    _WALL_PARAM,
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": validation.PAGE_MAX,
                            "default": validation.PAGE_DEFAULT,
                        },
                    },
                    {
                        "name": "before",
                        "in": "query",
                        "required": False,
                        "description": "Page back: the posts just before this id.",
                        "schema": _ref("PostId"),
                    },
                    {
                        "name": "after",
                        "in": "query",
                        "required": False,
                        "description": "Catch up: posts after this id (not with before).",
                        "schema": _ref("PostId"),
                    },
                ],
                "responses": {
                    "200": _json(_ref("Page"), "A page of posts."),
                    **_errors("invalid", "not_found", "unavailable", "internal"),
                },
            },
            "post": {
                "operationId": "create_post",
                "summary": "Post, exactly as the socket event 'add to wall' does.",
                "tags": ["api"],
                "parameters": [_WALL_PARAM, *_UNSAFE_HEADERS],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewPost")}},
                },
                "responses": {
                    "201": _json(_ref("PostReply"), "Stored."),
                    "200": _json(_ref("PostReply"), "A repeated client_id: the original post."),
                    **_errors(
                        "invalid",
                        "forbidden",
                        "not_found",
                        "too_large",
                        "rate_limited",
                        "unavailable",
                        "internal",
                    ),
                },
            },
        },
        "/api/walls/{wall}/posts/{post_id}": {
            "delete": {
                "operationId": "delete_post",
                "summary": "Moderation: remove a post from Redis and every open page.",
                "description": "Only when the server has WALL_ADMIN_TOKEN (else 404).",
                "tags": ["api"],
                "security": [{"moderator": []}],
                "parameters": [
                    _WALL_PARAM,
                    {"name": "post_id", "in": "path", "required": True, "schema": _ref("PostId")},
                    *_UNSAFE_HEADERS,
                ],
                "responses": {
                    "200": _json(_ref("Deleted"), "Deleted."),
                    **_errors(
                        "invalid",
                        "unauthorized",
                        "forbidden",
                        "not_found",
                        "unavailable",
                        "internal",
                    ),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "tags": ["api"],
                "responses": {"200": _json({"type": "object"}, "OpenAPI %s" % OPENAPI_VERSION)},
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Whether this process can serve: Redis answers, not draining.",
                "tags": ["operations"],
                "responses": {
                    "200": _json(_ref("Health"), '{"status": "ok"}'),
                    "503": _json(_ref("Health"), "unavailable or draining, with the reason."),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics of this process.",
                "tags": ["operations"],
                "responses": {
                    "200": {
                        "description": "Prometheus text format.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    }
    if speed_test:
        paths["/speed"] = {
            "get": {
                "operationId": "speed_page",
                "summary": "The speed test page.",
                "tags": ["speed test"],
                "responses": {"200": _html("The page.")},
            }
        }
        paths["/api/echo"] = {
            "post": {
                "operationId": "http_echo",
                "summary": "AJAX round trip of the speed test (rate limited per address).",
                "tags": ["speed test"],
                "parameters": list(_UNSAFE_HEADERS),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Echo")}},
                },
                "responses": {
                    "200": _json(_ref("EchoReply"), "The data, and the request's size."),
                    **_errors(
                        "invalid",
                        "forbidden",
                        "too_large",
                        "rate_limited",
                        "unavailable",
                        "internal",
                    ),
                },
            }
        }
        paths["/ws/echo"] = {
            "get": {
                "operationId": "websocket_echo",
                "summary": "A plain WebSocket: every text message comes back unchanged.",
                "description": "Past the echo rate limit the server closes it (1008).",
                "tags": ["speed test"],
                "responses": {
                    "101": {"description": "Switching to the WebSocket protocol."},
                    "400": _html("Not a WebSocket upgrade."),
                },
            }
        }
    return paths


def document(settings):
    """The OpenAPI document of an app with these :class:`wall.settings.Settings`."""
    responses = {code: _json(_ref("Error"), text) for code, (_status, text) in _ERRORS.items()}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "wall",
            "version": "1",
            "description": "A live message wall. Live posts travel over Socket.IO "
            "(namespace %s at /socket.io/), which this document does not describe; "
            "docs/protocol.md is the whole wire contract." % protocol.NAMESPACE,
        },
        "paths": _paths(settings.speed_test),
        "components": {
            "schemas": copy.deepcopy(_SCHEMAS),
            "responses": responses,
            "securitySchemes": {
                "moderator": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer <WALL_ADMIN_TOKEN>.",
                }
            },
        },
    }
