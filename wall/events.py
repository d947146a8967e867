"""Socket.IO handlers of the ``/wall`` namespace.

Every handler answers through its ack: ``{"ok": true, ...}`` or
``{"ok": false, "error", "message"}`` (docs/protocol.md). No traceback ever
reaches a client: unexpected errors are logged and answered ``internal``.
"""

import functools
import logging

import redis
from flask import request

from . import socketio, validation
from .errors import UNAVAILABLE_MESSAGE, Unavailable, WallError
from .runtime import get_runtime

log = logging.getLogger(__name__)

NAMESPACE = "/wall"


def _acked(handler):
    """Turn what a handler raises into an error ack."""

    @functools.wraps(handler)
    def wrapper(*args):
        runtime = get_runtime()
        runtime.inflight += 1
        try:
            return handler(*args)
        except WallError as exc:
            return {"ok": False, **exc.to_dict()}
        except redis.RedisError as exc:
            log.warning("%s: Redis unavailable: %s", handler.__name__, exc)
            runtime.metrics.redis_errors.labels("socket").inc()
            return {"ok": False, **Unavailable(UNAVAILABLE_MESSAGE).to_dict()}
        except Exception:
            log.exception("%s failed", handler.__name__)
            return {
                "ok": False,
                "error": "internal",
                "message": "The server failed to handle this; it has been logged.",
            }
        finally:
            runtime.inflight -= 1

    return wrapper


def _first(args):
    return args[0] if args else None


@socketio.on("join", namespace=NAMESPACE)
@_acked
def join(*args):
    """Sent by a client to watch a wall: ``{"wall", "after"?}``.

    The ack carries the newest 50 posts (or up to 200 after ``after``) and
    the online count; from then on the socket receives ``new post`` and
    ``online`` for that wall. Other sockets on the wall may receive ``online``.
    """
    data = validation.payload(_first(args), "join")
    wall = validation.wall_name(data.get("wall"))
    after = validation.optional_post_id(data.get("after"), "after")
    runtime = get_runtime()
    joining = runtime.delivery.join(request.sid, wall, after)
    try:
        online = runtime.presence.sync(wall)
    except BaseException:
        runtime.delivery.leave(request.sid, wall)
        raise
    # Nothing may yield between ready() and the ack going out (see there).
    ack = runtime.delivery.ready(joining)
    ack["online"] = online
    return ack


@socketio.on("leave", namespace=NAMESPACE)
@_acked
def leave(*args):
    """Sent by a client to stop watching a wall: ``{"wall"}``; acked ``{"ok", "wall"}``."""
    data = validation.payload(_first(args), "leave")
    wall = validation.wall_name(data.get("wall"))
    runtime = get_runtime()
    if runtime.delivery.leave(request.sid, wall):
        runtime.presence.sync(wall)
    return {"ok": True, "wall": wall}


@socketio.on("add to wall", namespace=NAMESPACE)
@_acked
def add_to_wall(*args):
    """Sent by a client to post: ``{"wall", "username", "message", "client_id"?}``.

    Acked ``{"ok": true, "post"}`` once the post is stored. Every socket on
    that wall, in every process and the sender included, then receives it as
    ``new post`` from the stream reader.
    """
    wall, username, message, client_id = validation.new_post(_first(args))
    post, _created = get_runtime().add_post(
        wall, username, message, client_id, request.remote_addr, sid=request.sid
    )
    return {"ok": True, "post": post}


@socketio.on("*", namespace=NAMESPACE)
def unknown_event(event, *args):
    """Any other event from a client; answered with an error ack if it asked for one."""
    return {
        "ok": False,
        "error": "unknown_event",
        "message": "The wall does not know the event %r." % str(event)[:64],
    }


@socketio.on("disconnect", namespace=NAMESPACE)
def disconnect(*args):
    """A client went away: it leaves its walls and stops counting as online."""
    get_runtime().delivery.disconnect(request.sid)
