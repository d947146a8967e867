"""Entry point: pick the async library, monkey-patch, then build the app.

``WALL_ASYNC_MODE`` is eventlet (default), gevent or threading. Patching must
happen before anything else imports socket or threading, hence this order.
"""

import os

ASYNC_MODE = os.environ.setdefault("WALL_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from wall import create_app, socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
