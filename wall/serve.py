"""Serving the app until SIGTERM or SIGINT, then draining and exiting.

The web server and its stop depend on the async library; they come from
:func:`wall.drivers.serving`. A signal starts a graceful drain
(:meth:`wall.realtime.Realtime.drain`); a second signal stops at once, and
so does the end of :data:`STOP_GRACE` after the drain.
"""

import gc
import logging
import os
import resource
import signal

from . import drivers, realtime, settings, storage

log = logging.getLogger(__name__)

#: seconds the web server has after the drain to finish the requests in progress
STOP_GRACE = 3.0
#: open files kept for what is not a session: the listener, Redis pools, logs
FILE_RESERVE = 256
#: the garbage collector's thresholds while serving (Python 3.11's are 700, 10, 10;
#: 3.14's incremental collector reads them differently: revisit when moving)
GC_THRESHOLDS = (10_000, 10, 10)


def serve(app):
    """Serve ``app`` on its ``HOST`` and ``PORT``; return only by exiting the process."""
    config = settings.get(app)
    socketio = realtime.socketio
    serving = drivers.serving(config.async_mode)
    max_size = server_connection_limit(config.max_connections)
    per_session = serving.files_per_session
    files = raise_open_file_limit(
        max(max_size, config.max_connections * per_session) + FILE_RESERVE
    )
    realtime.get_realtime(app).gate.fit_open_files(sessions_within(files, per_session), files)

    def drain_then_stop():
        realtime.get_realtime(app).drain()
        socketio.start_background_task(exit_after_grace)
        serving.stop(socketio)

    def exit_after_grace():
        # The web server waits for every request in progress before it
        # returns; a client that announced a body and never sends it (or
        # leaves eventlet discarding one past engine.io's limit) would hold
        # it for ever, and the process until SIGKILL.
        socketio.sleep(STOP_GRACE)
        log.warning(
            "requests still in progress %.0f s after the drain (clients that stopped "
            "sending mid-request); exiting anyway",
            STOP_GRACE,
        )
        leave()

    def on_signal(signum, frame):
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once
        socketio.start_background_task(drain_then_stop)

    def leave():
        # Drained: background tasks (the message queue's listener retries
        # forever) would keep the interpreter alive, so leave explicitly.
        storage.get_storage(app).stop()
        logging.shutdown()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tune_garbage_collector()
    serving.run(socketio, app, config.host, config.port, max_size)
    leave()


def server_connection_limit(max_connections):
    """The web server's hard limit of concurrent connections.

    Above the soft limit of sessions (``WALL_MAX_CONNECTIONS``, enforced by
    the gate with a clear 503) with room for what a session may hold at once
    (a long-polling session has a GET and a POST in flight) and for plain
    HTTP requests, so that the gate, not the accept queue, turns people away.
    """
    return 2 * max_connections + 256


def sessions_within(open_files, files_per_session):
    """The sessions an open-file limit leaves room for, after :data:`FILE_RESERVE`."""
    return max(1, (open_files - FILE_RESERVE) // files_per_session)


def raise_open_file_limit(wanted):
    """Raise this process's open-file limit toward ``wanted``; return the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit to %d: %s", target, exc)
    if soft < wanted:
        log.warning(
            "open-file limit %d is below the %d this server may need; raise LimitNOFILE "
            "(systemd) or ulimit -n, or lower WALL_MAX_CONNECTIONS",
            soft,
            wanted,
        )
    return soft


def tune_garbage_collector(thresholds=GC_THRESHOLDS):
    """Fewer full collections while serving; return the objects frozen.

    A connection that ends leaves its objects (the web server's request,
    the WebSocket library's parser, the sockets) in reference cycles that,
    once it has lived a while, only a full collection frees; and with
    Python's thresholds a full collection, which visits every object of
    every open connection (about 350 ms at 4,000 connections), could run
    every 85,000 or so net allocations: a reconnect storm spent a third of
    its server time in collections that mostly found nothing
    (docs/performance.md, "The eighth step"). A young generation of 10,000
    objects makes them about 14 times rarer. The price: closed
    connections' cycles wait longer for the next full collection, which
    still runs once the long-lived objects have grown by a quarter
    (docs/deploy.md, "Memory").
    What the app made at startup (modules, routes, the settings) stays for
    the process's life: frozen, no collection visits it again.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    return gc.get_freeze_count()
