"""The JSON API under ``/api`` (docs/protocol.md).

Reads are open; posting is as ``add to wall``; running a wall needs its
organiser key (``Authorization: Bearer <key>``) or the operator's token.
"""

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from .. import validation
from ..domain import clients as clients_module
from ..domain import get_clients, get_posts, get_walls
from ..domain import walls as walls_module
from ..errors import Forbidden, Invalid, NotFound, Unauthorized
from ..realtime import get_realtime
from ..storage import get_storage
from . import export as exports

bp = Blueprint("api", __name__)

MODERATION_ACTIONS = ("approve", "hide", "restore", "pin", "unpin")


def request_who():
    """The caller's identity: its ``wall_client`` cookie, else its address."""
    client_id = get_clients(current_app).from_environ(request.environ)
    return clients_module.who(client_id=client_id, address=request.remote_addr)


def has_bearer():
    """The request carries ``Authorization: Bearer`` (a proxy's Basic does not count)."""
    return walls_module.bearer(request.headers.get("Authorization"))


def organizer(wall):
    """The organiser or operator calling, or raise 401/403/429."""
    return get_walls(current_app).authorize(
        wall, request.headers.get("Authorization"), request.remote_addr
    )


def readable(wall):
    """Raise 403 unless the caller may read ``wall`` (a private wall needs its
    grant cookie, or the organiser key)."""
    walls = get_walls(current_app)
    settings = walls.settings(wall)
    actor = organizer(wall) if has_bearer() else None
    if not walls.may_read(settings, request.cookies, actor):
        raise Forbidden("This wall is private: unlock it with its passcode.")
    return settings


def json_body(what):
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object with %s." % what)
    return data


# -- walls ------------------------------------------------------------------------


@bp.get("/api/walls")
def list_walls():
    """Walls that have posts, most recently active first, with their online counts."""
    presence = get_realtime(current_app).presence
    settings = get_walls(current_app).cached
    walls = [
        {"name": name, "posts": count, "online": presence.online(name)}
        for name, count in get_storage(current_app).posts.walls()
        if settings(name).listed  # unlisted and private walls are left out
    ]
    return jsonify(walls=walls)


@bp.post("/api/walls")
def create_wall():
    """Create a wall and its organiser: 201 ``{"wall", "organizer_key", "organizer_url"}``."""
    data = json_body("wall and, optionally, title and description")
    wall = validation.wall_name(data.get("wall"))
    walls = get_walls(current_app)
    key = walls.create(
        wall,
        data.get("title") or "",
        data.get("description") or "",
        who=request_who(),
        address=request.remote_addr,
        operator=walls.is_operator(request.headers.get("Authorization")),
    )
    url = "/w/%s/manage#key=%s" % (wall, key)
    return jsonify(wall=wall, organizer_key=key, organizer_url=url), 201


@bp.get("/api/walls/<name>/settings")
def read_settings(name):
    """The public settings; with the organiser key, the word filter too."""
    wall = validation.wall_name(name)
    walls = get_walls(current_app)
    settings = walls.settings(wall)
    if has_bearer():
        organizer(wall)
        return jsonify(settings.full())
    if not walls.may_read(settings, request.cookies):
        return jsonify(wall=wall, visibility=settings.visibility)
    return jsonify(settings.public())


@bp.patch("/api/walls/<name>/settings")
def change_settings(name):
    """Change any of the settings (organiser); 200 with all of them."""
    wall = validation.wall_name(name)
    actor = organizer(wall)
    changes = json_body("the settings to change")
    return jsonify(get_walls(current_app).update_settings(wall, changes, actor).full())


@bp.post("/api/walls/<name>/clear")
def clear_wall(name):
    """Delete every post of the wall (organiser)."""
    wall = validation.wall_name(name)
    deleted = get_walls(current_app).clear(wall, organizer(wall))
    return jsonify(wall=wall, deleted=deleted)


@bp.delete("/api/walls/<name>")
def delete_wall(name):
    """Delete the wall: every post, its settings, keys and bans (organiser)."""
    wall = validation.wall_name(name)
    get_walls(current_app).delete_wall(wall, organizer(wall))
    return jsonify(wall=wall, deleted=True)


# -- organiser keys ---------------------------------------------------------------


@bp.get("/api/walls/<name>/keys")
def list_keys(name):
    wall = validation.wall_name(name)
    organizer(wall)
    return jsonify(keys=get_walls(current_app).keys(wall))


@bp.post("/api/walls/<name>/keys")
def add_key(name):
    """A co-organiser key with a label (or, by the operator, a new organiser key): 201."""
    wall = validation.wall_name(name)
    actor = organizer(wall)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object with a label.")
    return jsonify(key=get_walls(current_app).add_key(wall, data.get("label"), actor)), 201


@bp.delete("/api/walls/<name>/keys/<key_id>")
def revoke_key(name, key_id):
    wall = validation.wall_name(name)
    get_walls(current_app).revoke_key(wall, key_id, organizer(wall))
    return jsonify(wall=wall, id=key_id, revoked=True)


# -- posts ------------------------------------------------------------------------


@bp.get("/api/walls/<name>/posts")
def read_posts(name):
    """Visible posts of a wall, oldest first: the newest, ``before=<id>`` or ``after=<id>``."""
    wall = validation.wall_name(name)
    readable(wall)
    args = request.args
    limit = validation.page_limit(args.get("limit"))
    before = validation.optional_post_id(args.get("before"), "before")
    after = validation.optional_post_id(args.get("after"), "after")
    store = get_storage(current_app).posts
    if before and after:
        raise Invalid("Use either before or after, not both.")
    sort = args.get("sort", "newest")
    if sort == "popular":
        if before or after:
            raise Invalid("sort=popular is one page: no before or after.")
        return jsonify(wall=wall, posts=store.popular(wall, limit), more=False)
    if sort != "newest":
        raise Invalid("sort is newest or popular.")
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
    data = json_body("username and message")
    wall, username, message, client_id = validation.new_post({**data, "wall": name})
    actor = organizer(wall) if has_bearer() else None
    post, created, author_key = get_posts(current_app).add(
        wall,
        username,
        message,
        client_id,
        request.remote_addr,
        request_who(),
        cookies=request.cookies,
        actor=actor,
    )
    return jsonify(post=post, author_key=author_key), 201 if created else 200


@bp.delete("/api/walls/<name>/posts/<post_id>")
def delete_post(name, post_id):
    """Remove a post from Redis and from every open page.

    The organiser (or the operator) at any time; its author within 15
    minutes, with ``X-Author-Key`` or from the same ``wall_client`` cookie.
    """
    wall = validation.wall_name(name)
    post_id = validation.post_id(post_id)
    walls = get_walls(current_app)
    author_key = request.headers.get("X-Author-Key")
    if has_bearer():
        actor = organizer(wall)
    else:
        who = request_who()
        if not author_key and not who.startswith("c:"):
            raise Unauthorized(
                "This needs the organiser key (Authorization: Bearer <key>) or the post's "
                "author key (X-Author-Key)."
            )
        actor = walls.author_actor(wall, post_id, author_key=author_key, who=who)
    walls.delete_post(wall, post_id, actor)
    return jsonify(wall=wall, id=post_id, deleted=True)


@bp.post("/api/walls/<name>/posts/<post_id>/<action>")
def moderate_post(name, post_id, action):
    """approve, hide, restore, pin or unpin a post (organiser): 200 ``{"post"}``."""
    if action not in MODERATION_ACTIONS:
        raise NotFound("There is no such action on a post.")
    wall = validation.wall_name(name)
    post_id = validation.post_id(post_id)
    actor = organizer(wall)
    return jsonify(post=get_walls(current_app).moderate(wall, post_id, action, actor))


@bp.get("/api/walls/<name>/queue")
def read_queue(name):
    """The posts waiting for approval, oldest first (organiser)."""
    wall = validation.wall_name(name)
    organizer(wall)
    return jsonify(wall=wall, posts=get_storage(current_app).posts.queue(wall))


@bp.get("/api/walls/<name>/hidden")
def read_hidden(name):
    """The hidden posts, most recently hidden first (organiser): restorable."""
    wall = validation.wall_name(name)
    organizer(wall)
    return jsonify(wall=wall, posts=get_storage(current_app).posts.hidden(wall))


# -- bans -------------------------------------------------------------------------


@bp.get("/api/walls/<name>/bans")
def list_bans(name):
    wall = validation.wall_name(name)
    organizer(wall)
    return jsonify(wall=wall, bans=get_walls(current_app).bans(wall))


@bp.post("/api/walls/<name>/bans")
def add_ban(name):
    """Ban the author of ``post_id`` from posting here: 201 ``{"ban"}``.

    By its client (its cookie, or its session), or, with ``"scope": "address"``,
    everyone behind its address.
    """
    wall = validation.wall_name(name)
    actor = organizer(wall)
    data = json_body("post_id and, optionally, scope")
    ban = get_walls(current_app).ban(wall, data.get("post_id"), data.get("scope"), actor)
    body = {"ban": ban}
    if ban["scope"] == "address":
        body["warning"] = (
            "This bans everyone behind that address: on conference Wi-Fi, a whole hall."
        )
    return jsonify(body), 201


@bp.delete("/api/walls/<name>/bans/<ban_id>")
def lift_ban(name, ban_id):
    wall = validation.wall_name(name)
    get_walls(current_app).lift_ban(wall, ban_id, organizer(wall))
    return jsonify(wall=wall, id=ban_id, lifted=True)


# -- the audit log and export -----------------------------------------------------


@bp.get("/api/walls/<name>/audit")
def read_audit(name):
    """Who did what to which post, when (organiser); newest first."""
    wall = validation.wall_name(name)
    organizer(wall)
    return jsonify(wall=wall, entries=get_walls(current_app).audit_log(wall))


@bp.get("/api/walls/<name>/export")
def export(name):
    """Every post as CSV or JSON (organiser), streamed."""
    wall = validation.wall_name(name)
    organizer(wall)
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "json"):
        raise Invalid("format is csv or json.")
    posts = get_walls(current_app).export(wall)
    body = exports.as_csv(posts) if kind == "csv" else exports.as_json(wall, posts)
    mimetype = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = 'attachment; filename="%s"' % exports.filename(
        wall, kind
    )
    return response
