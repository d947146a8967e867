"""Entry point: pick the async library, monkey-patch, install its driver, serve.

``WALL_ASYNC_MODE`` is eventlet (default), gevent or threading. Patching must
happen before anything else imports socket or threading, hence this order.
This file is the only place that imports the async library for the app;
``wall/drivers/`` holds what is specific to each.
"""

import os
import sys

# Read as wall/settings.py reads it, before anything else can import socket.
ASYNC_MODE = os.environ.get("WALL_ASYNC_MODE", "").strip().lower() or "eventlet"
if ASYNC_MODE not in ("eventlet", "gevent", "threading"):
    sys.exit(
        "WALL_ASYNC_MODE must be one of eventlet, gevent, threading, not %r"
        % os.environ["WALL_ASYNC_MODE"]
    )
os.environ["WALL_ASYNC_MODE"] = ASYNC_MODE
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from wall import create_app, drivers  # noqa: E402
from wall.serve import serve  # noqa: E402

drivers.install(ASYNC_MODE)
app = create_app()

if __name__ == "__main__":
    serve(app)
