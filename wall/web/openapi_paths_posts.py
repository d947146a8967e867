"""The JSON API's walls and posts, and moderating them, in the OpenAPI document."""

from .. import protocol, validation
from .api import MODERATION_ACTIONS
from .openapi_common import (
    KEYED,
    OPTIONAL_ORGANIZER,
    ORGANIZER,
    POST_ID_PARAM,
    UNSAFE_HEADERS,
    WALL_PARAM,
    errors,
    json_body,
    json_response,
    organizer_get,
    ref,
)

_PRIVATE = (
    "A private wall needs its grant cookie (wall_grant_<wall>, from POST "
    "/w/<wall>/unlock) or the organiser key, else 403 forbidden."
)


def _query(name, schema, description=None):
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


PATHS = {
    "/api/walls": {
        "get": {
            "operationId": "list_walls",
            "summary": "Public walls that have posts, most recently active first.",
            "tags": ["api"],
            "responses": {"200": json_response(ref("Walls"), "The walls."), **errors()},
        },
        "post": {
            "operationId": "create_wall",
            "summary": "Create a wall and its first organiser key.",
            "description": "A wall that has posts, or the default wall, needs the operator "
            "token. Rate limited per client (WALL_RATE_LIMIT_CREATE) and per address "
            "(WALL_RATE_LIMIT_CREATE_IP).",
            "tags": ["organisers"],
            "security": [{}, {"operator": []}],
            "parameters": list(UNSAFE_HEADERS),
            "requestBody": json_body(ref("NewWall")),
            "responses": {
                "201": json_response(ref("CreatedWall"), "Created: the key is shown once."),
                **errors("invalid", "forbidden", "exists", "too_large", "rate_limited"),
            },
        },
    },
    "/api/walls/{wall}/posts": {
        "get": {
            "operationId": "read_posts",
            "summary": "Visible posts of a wall, oldest first: the newest, before=<id>, "
            "after=<id>, or sort=popular.",
            "description": _PRIVATE,
            "tags": ["api"],
            "security": OPTIONAL_ORGANIZER,
            "parameters": [
                WALL_PARAM,
                _query(
                    "limit",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": validation.PAGE_MAX,
                        "default": validation.PAGE_DEFAULT,
                    },
                ),
                _query("before", ref("PostId"), "Page back: the posts just before this id."),
                _query(
                    "after",
                    ref("PostId"),
                    "Catch up: posts after this id, and older ones changed since (not "
                    "with before).",
                ),
                _query(
                    "sort",
                    {"type": "string", "enum": ["newest", "popular"], "default": "newest"},
                    "popular: one page, the most liked first (no before or after).",
                ),
            ],
            "responses": {
                "200": json_response(ref("Page"), "A page of posts."),
                **errors(*KEYED, "not_found"),
            },
        },
        "post": {
            "operationId": "create_post",
            "summary": "Post, exactly as the socket event 'add to wall' does.",
            "description": "On a wall that approves posts, or for a post the word filter "
            "holds, the post is pending. " + _PRIVATE,
            "tags": ["api"],
            "security": OPTIONAL_ORGANIZER,
            "parameters": [WALL_PARAM, *UNSAFE_HEADERS],
            "requestBody": json_body(ref("NewPost")),
            "responses": {
                "201": json_response(ref("PostReply"), "Stored."),
                "200": json_response(ref("PostReply"), "A repeated client_id: the original post."),
                **errors(
                    "invalid",
                    "forbidden",
                    "closed",
                    "banned",
                    "not_found",
                    "too_large",
                    "rejected",
                    "rate_limited",
                ),
            },
        },
    },
    "/api/walls/{wall}/posts/{post_id}": {
        "delete": {
            "operationId": "delete_post",
            "summary": "Remove a post from Redis and every open page.",
            "description": "The organiser or the operator at any time; its author within "
            "%d minutes (X-Author-Key, or the same wall_client cookie)."
            % (protocol.AUTHOR_WINDOW_S // 60),
            "tags": ["api"],
            "security": [*ORGANIZER, {"author": []}, {"client": []}],
            "parameters": [WALL_PARAM, POST_ID_PARAM, *UNSAFE_HEADERS],
            "responses": {
                "200": json_response(ref("Deleted"), "Deleted."),
                **errors(*KEYED, "not_found"),
            },
        }
    },
    "/api/walls/{wall}/posts/{post_id}/{action}": {
        "post": {
            "operationId": "moderate_post",
            "summary": "approve, hide, restore, pin or unpin a post.",
            "description": "An action that is already so changes nothing and answers the "
            "same; one that does not apply to the post's status (or a pin past %d) is "
            "400 invalid; hiding a pinned post unpins it." % protocol.MAX_PINS,
            "tags": ["organisers"],
            "security": ORGANIZER,
            "parameters": [
                WALL_PARAM,
                POST_ID_PARAM,
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "description": "Another is 404 not_found.",
                    "schema": {"type": "string", "enum": list(MODERATION_ACTIONS)},
                },
                *UNSAFE_HEADERS,
            ],
            "responses": {
                "200": json_response(ref("ModeratedPost"), "The post as it is now."),
                **errors(*KEYED, "not_found"),
            },
        }
    },
    "/api/walls/{wall}/queue": organizer_get(
        "read_queue", "Posts waiting for approval, oldest first.", "PostList", "Pending posts."
    ),
    "/api/walls/{wall}/hidden": organizer_get(
        "read_hidden", "Hidden posts, most recently hidden first.", "PostList", "Hidden posts."
    ),
}
