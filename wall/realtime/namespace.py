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
from ..domain import clients as clients_module
from ..domain.walls import Actor, WallSettings

log = logging.getLogger(__name__)


class WallNamespace(socketio.Namespace):
    """The ``/wall`` events of one app.

    :param delivery: the :class:`wall.realtime.delivery.Delivery`.
    :param presence: the :class:`wall.realtime.presence.Presence`.
    :param posts: the :class:`wall.domain.posts.PostService`.
    :param walls: the :class:`wall.domain.walls.WallService` (organiser keys).
    :param clients: the :class:`wall.domain.clients.ClientCookies`.
    :param inflight: a :class:`Inflight` counter (a drain waits for it).
    """

    def __init__(
        self, delivery, presence, posts, walls, clients, inflight, metrics, on_connect=None
    ):
        super().__init__(protocol.NAMESPACE)
        self.delivery = delivery
        self.presence = presence
        self.posts = posts
        self.walls = walls
        self.clients = clients
        self.inflight = inflight
        self.metrics = metrics
        #: sid -> (who, address): the client's identity, read once at connect
        self._who = {}
        #: called at every new session (starts the scheduler)
        self.on_connect = on_connect
        self._handlers = {
            protocol.JOIN: self.join,
            protocol.LEAVE: self.leave,
            protocol.ADD_TO_WALL: self.add_to_wall,
            protocol.LIKE: self.like,
            protocol.UNLIKE: self.unlike,
        }

    def trigger_event(self, event, sid, *args):
        if event == "connect":
            # the gate (wall/realtime/gate.py) has already admitted the session
            return self.connect(sid, args[0] if args else {})
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
        organizer = False
        if data.get("key") is not None:
            key = data["key"]
            if not isinstance(key, str) or not key:
                raise errors.Invalid("key must be the wall's organiser key.")
            if self.walls.actor_for(wall, key, self._identity(sid)[1]) is None:
                raise errors.Forbidden("The key is wrong for this wall.")
            organizer = True
        joining = self.delivery.join(sid, wall, after, organizer=organizer)
        settings = WallSettings.from_meta(wall, joining.page.settings)
        if not organizer and not self.walls.may_read(settings, self._cookies(sid)):
            self.delivery.leave(sid, wall)
            raise errors.Forbidden("This wall is private: unlock it with its passcode.")
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

        Acked ``{"ok": true, "post", "author_key"}`` once the post is stored (a
        post held for approval has ``"status": "pending"``). Every socket on
        that wall, in every process and the sender included, then receives a
        visible post as ``new post`` from the stream reader; a pending one
        reaches the wall's organisers only, as ``post pending``.
        """
        wall, username, message, client_id = validation.new_post(data)
        who, address = self._identity(sid)
        post, _created, author_key = self.posts.add(
            wall,
            username,
            message,
            client_id,
            address,
            who,
            sid=sid,
            cookies=self._cookies(sid),
            actor=self._organizer(sid, wall),
        )
        return {"ok": True, "post": post, "author_key": author_key}

    def like(self, sid, data):
        """Sent by a client to like a post: ``{"wall", "id"}``; acked ``{"ok", "id",
        "likes", "liked"}``. Once per client (liking twice keeps one); watchers
        get the new count as ``post updated``, a few times a second at most."""
        return self._like(sid, data, True)

    def unlike(self, sid, data):
        """Sent by a client to take back its like: as ``like``."""
        return self._like(sid, data, False)

    def _like(self, sid, data, like):
        data = validation.payload(data, "like")
        wall = validation.wall_name(data.get("wall"))
        post_id = validation.post_id(data.get("id"))
        who, _ = self._identity(sid)
        likes, liked = self.walls.like(
            wall, post_id, who, like, self._cookies(sid), self._organizer(sid, wall)
        )
        return {"ok": True, "id": post_id, "likes": likes, "liked": liked}

    def _organizer(self, sid, wall):
        # A socket that joined with the key is an organiser there, who needs
        # no passcode on a private wall (as over REST); its key was checked
        # at that join.
        if self.delivery.organizer_on(sid, wall):
            return Actor("organizer")
        return None

    def connect(self, sid, environ):
        """A session opened: who it is (its ``wall_client`` cookie, else its session)."""
        if self.on_connect is not None:
            self.on_connect()
        client_id = self.clients.from_environ(environ)
        self._who[sid] = (
            clients_module.who(client_id=client_id, sid=sid),
            environ.get("REMOTE_ADDR"),
        )

    def _cookies(self, sid):
        return clients_module.cookies(self.server.get_environ(sid, protocol.NAMESPACE) or {})

    def _identity(self, sid):
        identity = self._who.get(sid)
        if identity is None:  # a session from before this process knew it
            environ = self.server.get_environ(sid, protocol.NAMESPACE) or {}
            self.connect(sid, environ)
            identity = self._who[sid]
        return identity

    def disconnect(self, sid):
        """A client went away: it leaves its walls and stops counting as online."""
        self._who.pop(sid, None)
        self.posts.limits.forget(sid)
        self.delivery.disconnect(sid)


class Inflight:
    """How many socket handlers are running now (a drain waits for them to finish)."""

    def __init__(self):
        self.count = 0
