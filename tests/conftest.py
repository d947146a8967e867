"""The suite's fixtures all come from tests/support/ (fixtures.py; the browser's in browser.py)."""

from .support.fixtures import *  # noqa: F401,F403
