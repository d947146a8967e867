"""HTML pages: the wall itself."""

from flask import Blueprint, abort, current_app, redirect, render_template, url_for

from .. import settings, validation
from ..errors import Invalid

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    """The default wall (``WALL_DEFAULT``)."""
    return _wall_page(settings.get(current_app).default_wall)


@bp.get("/w/<path:name>")
def wall(name):
    """A wall by name; names are case-folded, so ``/w/News`` goes to ``/w/news``."""
    try:
        canonical = validation.wall_name(name)
    except Invalid:
        abort(404)
    if canonical != name:
        return redirect(url_for("pages.wall", name=canonical), code=301)
    return _wall_page(canonical)


def _wall_page(name):
    return render_template(
        "wall.html",
        wall=name,
        max_message=validation.MESSAGE_MAX,
        max_username=validation.USERNAME_MAX,
    )
