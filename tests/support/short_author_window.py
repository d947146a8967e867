"""``python tests/support/short_author_window.py``: app.py with an author window
of ``WALL_TEST_AUTHOR_WINDOW_S`` seconds instead of 15 minutes.

The window is a setting only tests change (``create_app``'s test config), so
a real server process that must answer an author "too late" within a test's
runtime is started through this script. Not part of the product.
"""

import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

# Before anything imports socket, as app.py does (it patches again: harmless).
if os.environ.get("WALL_ASYNC_MODE", "eventlet") == "eventlet":
    import eventlet

    eventlet.monkey_patch()

from wall.settings import Settings  # noqa: E402

_from_environ = Settings.from_environ.__func__
_WINDOW = int(os.environ["WALL_TEST_AUTHOR_WINDOW_S"])


def _with_short_window(cls, environ=None):
    return _from_environ(cls, environ).replace({"author_window_s": _WINDOW})


Settings.from_environ = classmethod(_with_short_window)
runpy.run_path(os.path.join(ROOT, "app.py"), run_name="__main__")
