"""Socket.IO handlers of the ``/wall`` namespace.

Every handler answers through its ack: ``{"ok": true, ...}`` or
``{"ok": false, "error", "message"}`` (docs/protocol.md). No traceback ever
reaches a client: unexpected errors are logged and answered ``internal``.

The namespace is a plain python-socketio ``Namespace``, not Flask-SocketIO
handlers: those build a Flask request context (request object, URL match,
session cookie) for every event, which was a fifth of the server's CPU per
post, and these handlers need none of it.
"""

import logging

import redis
import socketio

from .. import errors, protocol, validation

log = logging.getLogger(__name__)


class WallNamespace(socketio.Namespace):
    """The ``/wall`` events of one app.

    :param delivery: the :class:`wall.realtime.delivery.Delivery`.
    :param presence: the :class:`wall.realtime.presence.Presence`.
    :param posts: the :class:`wall.domain.posts.PostService`.
    :param inflight: a :class:`Inflight` counter (a drain waits for it).
    """

    def __init__(self, delivery, presence, posts, inflight, metrics):
        super().__init__(protocol.NAMESPACE)
        self.delivery = delivery
        self.presence = presence
        self.posts = posts
        self.inflight = inflight
        self.metrics = metrics
        self._handlers = {
            protocol.JOIN: self.join,
            protocol.LEAVE: self.leave,
            protocol.ADD_TO_WALL: self.add_to_wall,
        }

    def trigger_event(self, event, sid, *args):
        if event == "connect":
            return None  # the gate (wall/realtime/gate.py) has already admitted the session
        if event == "disconnect":
            return self.disconnect(sid)
        handler = self._handlers.get(event)
        if handler is None:
            return errors.ack(
                errors.UnknownEvent("The wall does not know the event %r." % str(event)[:64])
            )
        return self._acked(handler, sid, args[0] if args else None)

    def _acked(self, handler, sid, data):
        """Run a handler; turn what it raises into an error ack."""
        self.inflight.count += 1
        try:
            return handler(sid, data)
        except Exception as exc:
            if isinstance(exc, redis.RedisError):
                self.metrics.redis_errors.labels("socket").inc()
            return errors.ack(errors.as_wall_error(exc, log, handler.__name__))
        finally:
            self.inflight.count -= 1

    def join(self, sid, data):
        """Sent by a client to watch a wall: ``{"wall", "after"?}``.

        The ack carries the newest 50 posts (or up to 200 after ``after``) and
        the online count; from then on the socket receives ``new post`` and
        ``online`` for that wall. Other sockets on the wall may receive ``online``.
        """
        data = validation.payload(data, "join")
        wall = validation.wall_name(data.get("wall"))
        after = validation.optional_post_id(data.get("after"), "after")
        joining = self.delivery.join(sid, wall, after)
        try:
            online = self.presence.sync(wall)
        except BaseException:
            self.delivery.leave(sid, wall)
            raise
        # Nothing may yield between ready() and the ack going out (see there).
        ack = self.delivery.ready(joining)
        ack["online"] = online
        return ack

    def leave(self, sid, data):
        """Sent by a client to stop watching a wall: ``{"wall"}``; acked ``{"ok", "wall"}``."""
        data = validation.payload(data, "leave")
        wall = validation.wall_name(data.get("wall"))
        if self.delivery.leave(sid, wall):
            self.presence.sync(wall)
        return {"ok": True, "wall": wall}

    def add_to_wall(self, sid, data):
        """Sent by a client to post: ``{"wall", "username", "message", "client_id"?}``.

        Acked ``{"ok": true, "post"}`` once the post is stored. Every socket on
        that wall, in every process and the sender included, then receives it as
        ``new post`` from the stream reader.
        """
        wall, username, message, client_id = validation.new_post(data)
        address = (self.server.get_environ(sid, protocol.NAMESPACE) or {}).get("REMOTE_ADDR")
        post, _created = self.posts.add(wall, username, message, client_id, address, sid=sid)
        return {"ok": True, "post": post}

    def disconnect(self, sid):
        """A client went away: it leaves its walls and stops counting as online."""
        self.delivery.disconnect(sid)


class Inflight:
    """How many socket handlers are running now (a drain waits for them to finish)."""

    def __init__(self):
        self.count = 0
