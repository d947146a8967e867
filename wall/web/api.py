"""The JSON API under ``/api`` (docs/protocol.md)."""

import hmac

from flask import Blueprint, current_app, jsonify, request

from .. import settings as settings_module
from .. import validation
from ..domain import get_posts
from ..errors import Forbidden, Invalid, NotFound, Unauthorized
from ..realtime import get_realtime
from ..storage import get_storage

bp = Blueprint("api", __name__)


@bp.get("/api/walls")
def list_walls():
    """Walls that have posts, most recently active first, with their online counts."""
    presence = get_realtime(current_app).presence
    walls = [
        {"name": name, "posts": count, "online": presence.online(name)}
        for name, count in get_storage(current_app).posts.walls()
    ]
    return jsonify(walls=walls)


@bp.get("/api/walls/<name>/posts")
def read_posts(name):
    """Posts of a wall, oldest first: the newest, ``before=<id>`` or ``after=<id>``."""
    wall = validation.wall_name(name)
    args = request.args
    limit = validation.page_limit(args.get("limit"))
    before = validation.optional_post_id(args.get("before"), "before")
    after = validation.optional_post_id(args.get("after"), "after")
    store = get_storage(current_app).posts
    if before and after:
        raise Invalid("Use either before or after, not both.")
    if after:
        page = store.after(wall, after, limit)
        return jsonify(
            wall=wall,
            posts=page.posts,
            more=page.more,
            deleted=page.deleted,
            truncated=page.truncated,
        )
    page = store.before(wall, before, limit) if before else store.latest(wall, limit)
    return jsonify(wall=wall, posts=page.posts, more=page.more)


@bp.post("/api/walls/<name>/posts")
def create_post(name):
    """Store a post, exactly as ``add to wall`` does: 201, or 200 on an idempotent repeat."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object with username and message.")
    wall, username, message, client_id = validation.new_post({**data, "wall": name})
    post, created = get_posts(current_app).add(
        wall, username, message, client_id, request.remote_addr
    )
    return jsonify(post=post), 201 if created else 200


@bp.delete("/api/walls/<name>/posts/<post_id>")
def delete_post(name, post_id):
    """Moderation: remove a post from Redis and from every open page.

    Needs ``Authorization: Bearer <WALL_ADMIN_TOKEN>``; without that setting
    the route does not exist (404).
    """
    _require_admin()
    wall = validation.wall_name(name)
    post_id = validation.post_id(post_id)
    if not get_storage(current_app).posts.delete_post(wall, post_id):
        raise NotFound("There is no post %s on this wall." % post_id)
    return jsonify(wall=wall, id=post_id, deleted=True)


def _require_admin():
    token = settings_module.get(current_app).admin_token
    if not token:
        raise NotFound("Moderation is off on this server.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("This needs the moderator token: Authorization: Bearer <token>.")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Forbidden("The moderator token is wrong.")
