"""The wall's Lua scripts, kept as ``.lua`` files in ``scripts/``."""

import os

_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
# Scripts that add posts start with the retain() function.
_WITH_RETAIN = {"add_post"}


def source(name):
    """The Lua source of ``scripts/<name>.lua``, with what it needs prepended."""
    with open(os.path.join(_FOLDER, name + ".lua")) as f:
        text = f.read()
    if name in _WITH_RETAIN:
        with open(os.path.join(_FOLDER, "retain.lua")) as f:
            text = f.read() + "\n" + text
    return text


def register(client, name):
    """A redis-py ``Script`` for ``scripts/<name>.lua`` (loaded on first use)."""
    return client.register_script(source(name))
