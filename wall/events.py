"""Socket.IO handlers of the ``/wall`` namespace.

Every handler answers through its ack: ``{"ok": true, ...}`` or
``{"ok": false, "error", "message"}`` (docs/protocol.md). No traceback ever
reaches a client: unexpected errors are logged and answered ``internal``.

The namespace is a plain python-socketio ``Namespace`` bound to the app's
:class:`wall.runtime.Runtime`, not Flask-SocketIO handlers: those build a
Flask request context (request object, URL match, session cookie) for every
event, which was a fifth of the server's CPU per post, and these handlers
need none of it.
"""

import logging

import redis
import socketio

from . import validation
from .errors import UNAVAILABLE_MESSAGE, Unavailable, WallError

log = logging.getLogger(__name__)

NAMESPACE = "/wall"


class WallNamespace(socketio.Namespace):
    """The ``/wall`` events of one app.

    :param runtime: the app's :class:`wall.runtime.Runtime`.
    """

    def __init__(self, runtime):
        super().__init__(NAMESPACE)
        self.runtime = runtime
        self._handlers = {
            "join": self.join,
            "leave": self.leave,
            "add to wall": self.add_to_wall,
        }

    def trigger_event(self, event, sid, *args):
        if event == "connect":
            return None  # the gate (wall/gate.py) has already admitted the session
        if event == "disconnect":
            return self.disconnect(sid)
        handler = self._handlers.get(event)
        if handler is None:
            return self.unknown_event(event)
        return self._acked(handler, sid, args[0] if args else None)

    def _acked(self, handler, sid, data):
        """Run a handler; turn what it raises into an error ack."""
        runtime = self.runtime
        runtime.inflight += 1
        try:
            return handler(sid, data)
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

    def join(self, sid, data):
        """Sent by a client to watch a wall: ``{"wall", "after"?}``.

        The ack carries the newest 50 posts (or up to 200 after ``after``) and
        the online count; from then on the socket receives ``new post`` and
        ``online`` for that wall. Other sockets on the wall may receive ``online``.
        """
        data = validation.payload(data, "join")
        wall = validation.wall_name(data.get("wall"))
        after = validation.optional_post_id(data.get("after"), "after")
        runtime = self.runtime
        joining = runtime.delivery.join(sid, wall, after)
        try:
            online = runtime.presence.sync(wall)
        except BaseException:
            runtime.delivery.leave(sid, wall)
            raise
        # Nothing may yield between ready() and the ack going out (see there).
        ack = runtime.delivery.ready(joining)
        ack["online"] = online
        return ack

    def leave(self, sid, data):
        """Sent by a client to stop watching a wall: ``{"wall"}``; acked ``{"ok", "wall"}``."""
        data = validation.payload(data, "leave")
        wall = validation.wall_name(data.get("wall"))
        if self.runtime.delivery.leave(sid, wall):
            self.runtime.presence.sync(wall)
        return {"ok": True, "wall": wall}

    def add_to_wall(self, sid, data):
        """Sent by a client to post: ``{"wall", "username", "message", "client_id"?}``.

        Acked ``{"ok": true, "post"}`` once the post is stored. Every socket on
        that wall, in every process and the sender included, then receives it as
        ``new post`` from the stream reader.
        """
        wall, username, message, client_id = validation.new_post(data)
        address = (self.server.get_environ(sid, NAMESPACE) or {}).get("REMOTE_ADDR")
        post, _created = self.runtime.add_post(
            wall, username, message, client_id, address, sid=sid
        )
        return {"ok": True, "post": post}

    def unknown_event(self, event):
        """Any other event from a client; answered with an error ack if it asked for one."""
        return {
            "ok": False,
            "error": "unknown_event",
            "message": "The wall does not know the event %r." % str(event)[:64],
        }

    def disconnect(self, sid):
        """A client went away: it leaves its walls and stops counting as online."""
        self.runtime.delivery.disconnect(sid)
