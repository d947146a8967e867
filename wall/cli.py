"""The operator's commands, as Flask apps have them: ``flask --app app wall ...``.

They act as the operator (``WALL_ADMIN_TOKEN``'s rights) through the same
code as the API. They need the wall's Redis: with ``REDIS_URL`` set they
work beside running servers; without it they start the embedded Redis on
``WALL_DATA_DIR``, which only works while no server holds that folder.
"""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from . import validation
from .domain import get_walls
from .domain.walls import Actor
from .errors import WallError
from .storage import get_storage
from .web import export as exports

wall = AppGroup("wall", help="Run walls: create them, issue keys, export, list.")

OPERATOR = Actor("operator", "command line")


def _name(value):
    try:
        return validation.wall_name(value)
    except WallError as exc:
        raise click.BadParameter(exc.message) from None


@wall.command("create")
@click.argument("name")
@click.option("--title", default="", help="The wall's title.")
@click.option("--description", default="", help="What the wall is about.")
@click.option(
    "--base-url", default="", help="Prefix of the printed link, e.g. https://wall.example.org"
)
def create(name, title, description, base_url):
    """Create a wall (even a busy one) and print its organiser link."""
    name = _name(name)
    try:
        key = get_walls(current_app).create(name, title, description, operator=True)
    except WallError as exc:
        raise click.ClickException(exc.message) from None
    click.echo("%s/w/%s/manage#key=%s" % (base_url.rstrip("/"), name, key))
    click.echo(
        "Keep this link: it is shown once, and it is the only way to run the wall.", err=True
    )


@wall.command("key")
@click.argument("name")
@click.option("--label", default="operator", help="Who the key is for.")
@click.option("--base-url", default="", help="Prefix of the printed link.")
def issue_key(name, label, base_url):
    """Issue a new organiser key for a wall and print its link."""
    name = _name(name)
    try:
        key = get_walls(current_app).add_key(name, label, OPERATOR)
    except WallError as exc:
        raise click.ClickException(exc.message) from None
    click.echo("%s/w/%s/manage#key=%s" % (base_url.rstrip("/"), name, key["key"]))


@wall.command("export")
@click.argument("name")
@click.option("--format", "kind", type=click.Choice(["csv", "json"]), default="csv")
@click.option(
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="A file (default: standard output).",
)
def export(name, kind, output):
    """Export every post of a wall as CSV or JSON."""
    name = _name(name)
    posts = get_walls(current_app).export(name)
    chunks = exports.as_csv(posts) if kind == "csv" else exports.as_json(name, posts)
    for chunk in chunks:
        output.write(chunk)
    if output is not sys.stdout:
        click.echo("wrote %s" % output.name, err=True)


@wall.command("list")
def list_walls():
    """List the walls with their post counts and whether they have an organiser."""
    walls = get_walls(current_app)
    rows = dict(get_storage(current_app).posts.walls(limit=10000))
    for name in walls.store.organized():
        rows.setdefault(name, 0)
    if not rows:
        click.echo("no walls")
    for name, count in sorted(rows.items()):
        organized = "organiser" if walls.settings(name).organized else "open, no organiser"
        click.echo("%-40s %8d posts  %s" % (name, count, organized))


def init_app(app):
    app.cli.add_command(wall)
