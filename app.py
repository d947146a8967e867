"""Entry point: pick the async library, monkey-patch, install its driver, serve.

``WALL_ASYNC_MODE`` is eventlet (default), gevent or threading. Patching must
happen before anything else imports socket or threading, hence this order.
This file is the only place that imports the async library for the app;
``wall/drivers/`` holds what is specific to each.
"""

import os

ASYNC_MODE = os.environ.setdefault("WALL_ASYNC_MODE", "eventlet")
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
