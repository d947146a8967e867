"""Entry point: pick the async library, monkey-patch, then build and serve the app.

``WALL_ASYNC_MODE`` is eventlet (default), gevent or threading. Patching must
happen before anything else imports socket or threading, hence this order.
This file is the only place that knows which library serves; ``wall/``
imports neither.
"""

import os

ASYNC_MODE = os.environ.setdefault("WALL_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

import logging  # noqa: E402
import signal  # noqa: E402

from wall import (  # noqa: E402
    create_app, ping_timers, socketio, websocket_direct, websocket_limits, websocket_reads,
)
from wall.resources import raise_open_file_limit, server_connection_limit  # noqa: E402

if ASYNC_MODE == "eventlet":
    import eventlet.websocket
    import engineio.socket

    websocket_limits.cap_eventlet_messages(eventlet.websocket)
    websocket_reads.speed_up_eventlet(eventlet.websocket)
    ping_timers.install(engineio.socket.Socket, eventlet.spawn_after)
elif ASYNC_MODE == "gevent":
    from engineio.async_drivers import gevent as engineio_gevent

    websocket_limits.cap_simple_websocket_messages(engineio_gevent)

app = create_app()
if ASYNC_MODE == "eventlet" and app.config["DIRECT_WRITES"]:
    websocket_direct.install(
        engineio.socket.Socket, eventlet.websocket.RFC6455WebSocket, eventlet.spawn_n
    )


def serve():
    """Serve until SIGTERM or SIGINT, then drain and exit."""
    max_size = server_connection_limit(app.config["MAX_CONNECTIONS"])
    raise_open_file_limit(max_size + 256)
    options = {}
    if ASYNC_MODE == "eventlet":
        import greenlet

        options["max_size"] = max_size
        main = greenlet.getcurrent()

        def stop_server():
            # eventlet.wsgi.server leaves its accept loop on SystemExit.
            eventlet.hubs.get_hub().schedule_call_global(0, main.throw, SystemExit(0))

    elif ASYNC_MODE == "gevent":
        from gevent.pool import Pool

        options["spawn"] = Pool(max_size)

        def stop_server():
            socketio.wsgi_server.stop(timeout=2)

    else:
        options["allow_unsafe_werkzeug"] = True

        def stop_server():
            os._exit(0)

    def drain_then_stop():
        app.extensions["wall"].drain()
        stop_server()

    def on_signal(signum, frame):
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once
        socketio.start_background_task(drain_then_stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"], **options)
    # Drained: background tasks (the message queue's listener retries
    # forever) would keep the interpreter alive, so leave explicitly.
    embedded = app.extensions.get("wall_redis")
    if embedded is not None:
        embedded.stop()
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    serve()
