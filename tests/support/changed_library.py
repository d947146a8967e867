"""``python tests/support/changed_library.py``: app.py, after changing library internals.

For the drivers' fallback test: ``WALL_TEST_CHANGE`` lists
``module:Class.attribute`` targets; each is replaced by a wrapper with other
source code (it behaves the same), as a library upgrade could change it.
The drivers must then refuse the patches on those targets, warn, and leave
the library's own path serving. Not part of the product.
"""

import functools
import importlib
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

if os.environ.get("WALL_ASYNC_MODE", "eventlet") == "eventlet":
    import eventlet

    eventlet.monkey_patch()


def change(spec):
    module_name, path = spec.split(":")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    original = owner.__dict__[name]

    @functools.wraps(original)
    def changed(*args, **kwargs):
        # "a new release": same behaviour, other source
        return original(*args, **kwargs)

    del changed.__wrapped__  # inspect must see this function's source, not the original's
    setattr(owner, name, changed)


for spec in filter(None, os.environ.get("WALL_TEST_CHANGE", "").split(",")):
    change(spec)

runpy.run_path(os.path.join(ROOT, "app.py"), run_name="__main__")
