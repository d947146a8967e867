"""HTML pages: the wall, creating a wall, and its moderation panel.

Every page response gives the browser a ``wall_client`` cookie if it has
none that verifies (wall/domain/clients.py): HttpOnly, SameSite=Lax, a year,
``Secure`` when the request came over HTTPS (as the proxy reports it).
"""

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from .. import settings, validation
from ..domain import clients as clients_module
from ..domain import get_clients
from ..errors import Invalid, RateLimited

bp = Blueprint("pages", __name__)


@bp.before_request
def identify():
    g.wall_client = get_clients(current_app).from_environ(request.environ)


@bp.after_request
def give_cookie(response):
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
    return render_template("manage.html", wall=canonical)


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
