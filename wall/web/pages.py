"""HTML pages: the wall, creating a wall, and its moderation panel.

Every page response gives the browser a ``wall_client`` cookie if it has
none that verifies (wall/domain/clients.py): HttpOnly, SameSite=Lax, a year,
``Secure`` when the request came over HTTPS (as the proxy reports it).
"""

import io

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from .. import settings, validation
from ..domain import clients as clients_module
from ..domain import get_clients, get_walls
from ..domain.walls import LABEL_MAX, grant_cookie
from ..errors import Invalid, RateLimited

bp = Blueprint("pages", __name__)

#: how long a private wall's grant cookie lasts, in seconds
GRANT_MAX_AGE = 30 * 24 * 3600


@bp.before_request
def identify():
    g.wall_client = get_clients(current_app).from_environ(request.environ)


@bp.after_request
def give_cookie(response):
    if request.endpoint == "pages.qr_code":
        return response  # an image a cache may keep: never a client's cookie
    if g.get("wall_client") is None:
        try:
            _, value = get_clients(current_app).mint(request.remote_addr)
        except RateLimited:
            # Past the limit for this address: the page still serves, and
            # the browser is known by its session (or address) until later.
            return response
        response.set_cookie(
            clients_module.COOKIE,
            value,
            max_age=clients_module.MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


@bp.get("/")
def index():
    """The default wall (``WALL_DEFAULT``)."""
    return _wall_page(settings.get(current_app).default_wall)


@bp.get("/new")
def new_wall():
    """The form that creates a wall and shows its organiser link once."""
    return render_template(
        "new.html",
        max_wall=validation.WALL_NAME_MAX,
        default_wall=settings.get(current_app).default_wall,
    )


@bp.get("/w/<path:name>")
def wall(name):
    """A wall by name; names are case-folded, so ``/w/News`` goes to ``/w/news``."""
    canonical = _canonical(name)
    if canonical != name:
        return redirect(url_for("pages.wall", name=canonical), code=301)
    return _wall_page(canonical)


@bp.get("/w/<name>/manage")
def manage(name):
    """The moderation panel, opened with the organiser link (the key is in its fragment)."""
    canonical = _canonical(name)
    if canonical != name:
        return redirect(url_for("pages.manage", name=canonical), code=301)
    return render_template("manage.html", wall=canonical, max_label=LABEL_MAX)


@bp.get("/w/<name>/present")
def present(name):
    """The projector view: full screen, no inputs, the join panel with the QR code."""
    canonical = _canonical(name)
    if canonical != name:
        return redirect(url_for("pages.present", name=canonical), code=301)
    return render_template("present.html", wall=canonical, url=wall_url(canonical))


@bp.get("/w/<name>/qr.<kind>")
def qr_code(name, kind):
    """The QR code of the wall's address as the browser sees it (SVG, or PNG)."""
    if kind not in ("svg", "png"):
        abort(404)
    wall = _canonical(name)
    code = segno.make(wall_url(wall), error="m")
    out = io.BytesIO()
    if kind == "svg":
        code.save(
            out,
            kind="svg",
            scale=10,
            border=2,
            xmldecl=False,
            svgns=True,
            title="QR code of " + wall_url(wall),
        )
        mimetype = "image/svg+xml"
    else:
        code.save(out, kind="png", scale=10, border=2)
        mimetype = "image/png"
    response = current_app.response_class(out.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def wall_url(wall):
    """``<scheme>://<host>/w/<wall>`` as the browser sees it (behind the proxy too)."""
    return "%s://%s/w/%s" % (request.scheme, request.host, wall)


@bp.post("/w/<name>/unlock")
def unlock(name):
    """Exchange a private wall's passcode (JSON ``{"passcode"}`` or a form field)
    for its grant cookie: 200 ``{"wall", "ok": true}``, 403 ``forbidden``."""
    wall = _canonical(name)
    data = request.get_json(silent=True)
    passcode = data.get("passcode") if isinstance(data, dict) else request.form.get("passcode")
    grant = get_walls(current_app).unlock(wall, passcode, request.remote_addr)
    response = jsonify(wall=wall, ok=True)
    response.set_cookie(
        grant_cookie(wall),
        grant,
        max_age=GRANT_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path="/",
    )
    return response


def _canonical(name):
    try:
        return validation.wall_name(name)
    except Invalid:
        abort(404)


def _wall_page(name):
    return render_template(
        "wall.html",
        wall=name,
        max_message=validation.MESSAGE_MAX,
        max_username=validation.USERNAME_MAX,
    )
