"""The JSON API's walls and posts in the OpenAPI document."""

from .. import validation
from .openapi_common import UNSAFE_HEADERS, WALL_PARAM, errors, json_response, ref

PATHS = {
    "/api/walls": {
        "get": {
            "operationId": "list_walls",
            "summary": "Walls that have posts, most recently active first (at most 100).",
            "tags": ["api"],
            "responses": {
                "200": json_response(ref("Walls"), "The walls."),
                **errors("unavailable", "internal"),
            },
        }
    },
    "/api/walls/{wall}/posts": {
        "get": {
            "operationId": "read_posts",
            "summary": "Posts of a wall, oldest first: the newest, before=<id> or after=<id>.",
            "tags": ["api"],
            "parameters": [
                WALL_PARAM,
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
                    "schema": ref("PostId"),
                },
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "description": "Catch up: posts after this id (not with before).",
                    "schema": ref("PostId"),
                },
            ],
            "responses": {
                "200": json_response(ref("Page"), "A page of posts."),
                **errors("invalid", "not_found", "unavailable", "internal"),
            },
        },
        "post": {
            "operationId": "create_post",
            "summary": "Post, exactly as the socket event 'add to wall' does.",
            "tags": ["api"],
            "parameters": [WALL_PARAM, *UNSAFE_HEADERS],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("NewPost")}},
            },
            "responses": {
                "201": json_response(ref("PostReply"), "Stored."),
                "200": json_response(ref("PostReply"), "A repeated client_id: the original post."),
                **errors(
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
                WALL_PARAM,
                {"name": "post_id", "in": "path", "required": True, "schema": ref("PostId")},
                *UNSAFE_HEADERS,
            ],
            "responses": {
                "200": json_response(ref("Deleted"), "Deleted."),
                **errors(
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
}
