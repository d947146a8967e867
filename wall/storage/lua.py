"""The wall's Lua scripts, kept as ``.lua`` files in ``scripts/``."""

import os

_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
# What each script needs prepended: retain() for the scripts that add posts,
# the post-state functions for those that change posts.
_PREFIXES = {
    "add_post": ("retain",),
    "moderate": ("state",),
    "like": ("state",),
    "flush_likes": ("state",),
}


def source(name):
    """The Lua source of ``scripts/<name>.lua``, with what it needs prepended."""
    with open(os.path.join(_FOLDER, name + ".lua")) as f:
        text = f.read()
    for prefix in _PREFIXES.get(name, ()):
        with open(os.path.join(_FOLDER, prefix + ".lua")) as f:
            text = f.read() + "\n" + text
    return text


def register(client, name):
    """A redis-py ``Script`` for ``scripts/<name>.lua`` (loaded on first use)."""
    return client.register_script(source(name))
