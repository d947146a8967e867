"""Hooks on one python-socketio ``Server``, the same under every async mode.

- **Emits**: python-socketio hands every packet it sends to one client (an
  emit's copy, an ack, a connect reply) to two private methods. Routing them
  through :class:`wall.realtime.broadcast.Broadcast` lets an event framed
  once be written straight to every idle WebSocket. Without the hook the
  library sends each packet through engine.io's per-socket queue.
- **Sessions**: the engine.io ``connect``, ``disconnect`` and ``message``
  handlers python-socketio registers are wrapped, so that the admission gate
  counts sessions per address and the packet guard sees every packet
  before python-socketio parses it. Without the hook neither runs.
- **Reserved events**: python-socketio hands a client EVENT named
  ``connect`` or ``disconnect`` to the namespace's own handler of that
  name, as if the connection itself had (dis)connected: the socket left
  every wall with its connection still open, and was acked ``[]``. Here
  such an event is answered as an unknown one, and never handled. Without
  the hook the library's behaviour stays.
- **Room index**: python-socketio's manager finds a client's rooms by
  scanning (and copying) every room of the namespace, and each session is a
  room of its own: a disconnect costs time in proportion to the sessions
  held, so thousands leaving at once (a fuzz run's abandoned sessions, a
  deploy) cost the square. Here the manager keeps each client's rooms in an
  index. Without the hook the library's scan stays.
"""

import logging

from . import Patch, Target

log = logging.getLogger(__name__)

SOCKETIO = {"python-socketio": "5.18.1"}

EMITS = Patch(
    "socketio.emits",
    "every packet to one client goes through the broadcast's direct writes",
    [
        Target("socketio.server", "Server._send_eio_packet", "python-socketio", "5fa452fb118c"),
        Target("socketio.server", "Server._send_packet", "python-socketio", "3289b949be8c"),
    ],
    SOCKETIO,
)

SESSIONS = Patch(
    "socketio.sessions",
    "the gate counts sessions per address; the packet guard sees every packet",
    [
        Target("socketio.server", "Server._handle_eio_connect", "python-socketio", "4be135c046ed"),
        Target("socketio.server", "Server._handle_eio_message", "python-socketio", "65f309c138d6"),
        Target(
            "socketio.server", "Server._handle_eio_disconnect", "python-socketio", "5c0002fcdb35"
        ),
    ],
    SOCKETIO,
    protection=True,
)


RESERVED_EVENTS = Patch(
    "socketio.reserved_events",
    "a client event named connect or disconnect is answered as unknown, never handled",
    [
        Target("socketio.server", "Server._handle_event", "python-socketio", "3f64c030f25e"),
        # how the ack is framed and sent, as python-socketio does it
        Target(
            "socketio.server",
            "Server._handle_event_internal",
            "python-socketio",
            "37e1c84a6974",
        ),
        Target("socketio.base_server", "BaseServer.reserved_events", "python-socketio"),
    ],
    SOCKETIO,
)

ROOM_INDEX = Patch(
    "socketio.room_index",
    "a client's rooms are found in an index, not by scanning every room",
    [
        Target(
            "socketio.base_manager",
            "BaseManager.basic_enter_room",
            "python-socketio",
            "3f509586d2d7",
        ),
        Target(
            "socketio.base_manager",
            "BaseManager.basic_leave_room",
            "python-socketio",
            "e27f3eea06d1",
        ),
        # replaced whole: its bookkeeping after the scan is repeated below
        Target(
            "socketio.base_manager",
            "BaseManager.basic_disconnect",
            "python-socketio",
            "2933b50bc4b2",
        ),
        Target("socketio.base_manager", "BaseManager.get_rooms", "python-socketio", "56a1017f85af"),
    ],
    SOCKETIO,
)


def index_rooms(manager):
    """Keep ``manager``'s rooms of each client in an index (see the module's docstring).

    :return: True if installed.
    """
    if not ROOM_INDEX.usable():
        return False
    cls = type(manager)
    enter, leave = cls.basic_enter_room, cls.basic_leave_room
    index = {}  # (namespace, sid) -> {room: None}, in the order entered

    def basic_enter_room(sid, namespace, room, eio_sid=None):
        enter(manager, sid, namespace, room, eio_sid=eio_sid)
        index.setdefault((namespace, sid), {})[room] = None

    def basic_leave_room(sid, namespace, room):
        leave(manager, sid, namespace, room)
        rooms = index.get((namespace, sid))
        if rooms is not None:
            rooms.pop(room, None)
            if not rooms:
                del index[(namespace, sid)]

    def basic_disconnect(sid, namespace, **kwargs):
        if namespace not in manager.rooms:
            return
        for room in list(index.get((namespace, sid), ())):
            manager.basic_leave_room(sid, namespace, room)
        index.pop((namespace, sid), None)
        # the rest as BaseManager.basic_disconnect does it
        manager.callbacks.pop(sid, None)
        for pending in (manager.pending_connect, manager.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(sid, namespace):
        return [room for room in index.get((namespace, sid), ()) if room is not None]

    manager.basic_enter_room = basic_enter_room
    manager.basic_leave_room = basic_leave_room
    manager.basic_disconnect = basic_disconnect
    manager.get_rooms = get_rooms
    ROOM_INDEX.active = True
    return True


def queue_sender(server):
    """``send(eio_sid, engineio_packet)`` the library's own way: through the
    session's queue. For what the broadcast cannot write directly.

    Looked up at each call: Flask-SocketIO's test client installs a sender
    of its own on the server, which must then get the packets.
    """
    if not EMITS.usable():
        # whatever sends packets there now (Flask-SocketIO's test client
        # replaces it), else engine.io's own send
        def send_stock(eio_sid, packet):
            sender = getattr(server, "_send_eio_packet", None) or server.eio.send_packet
            return sender(eio_sid, packet)

        return send_stock
    original = server.__class__._send_eio_packet

    def send(eio_sid, packet):
        current = server.__dict__.get("_send_eio_packet")
        if current is None or getattr(current, "_wall_route", False):
            return original(server, eio_sid, packet)
        return current(eio_sid, packet)

    return send


def one_sender(server):
    """``send(eio_sid, socketio_packet)`` the library's own way (acks, connect replies)."""
    if not EMITS.usable():
        return None
    original = server.__class__._send_packet
    return lambda eio_sid, packet: original(server, eio_sid, packet)


def route_emits(server, send_packet, send_one):
    """Send python-socketio's packets through ``send_packet`` and ``send_one``.

    :param send_packet: ``(eio_sid, engineio_packet)``: one recipient's packet of an emit.
    :param send_one: ``(eio_sid, socketio_packet)``: an ack or a connect reply.
    :return: True if routed, False if the library sends them itself.
    """
    if not EMITS.usable():
        return False

    def routed(eio_sid, packet):
        return send_packet(eio_sid, packet)

    routed._wall_route = True
    server._send_eio_packet = routed
    server._send_packet = send_one
    EMITS.active = True
    return True


def hook_sessions(server, on_connect=None, on_disconnect=None, on_message=None):
    """Wrap the engine.io handlers python-socketio registered on ``server``.

    :param on_connect: ``(eio_sid, environ, handle)``; ``handle(eio_sid, environ)``
        is python-socketio's own.
    :param on_disconnect: ``(eio_sid, reason, handle)``.
    :param on_message: ``(eio_sid, data, handle)``.
    :return: True if hooked.
    """
    if not SESSIONS.usable():
        return False
    hooks = (
        ("connect", on_connect, server._handle_eio_connect),
        ("disconnect", on_disconnect, server._handle_eio_disconnect),
        ("message", on_message, server._handle_eio_message),
    )
    for event, hook, handle in hooks:
        if hook is not None:
            server.eio.on(event, _bound(hook, handle))
    SESSIONS.active = True
    return True


def _bound(hook, handle):
    def handler(eio_sid, data):
        return hook(eio_sid, data, handle)

    return handler


def refuse_reserved_events(server, answer):
    """Answer a client event with one of python-socketio's reserved names
    (``connect``, ``disconnect``) with ``answer(event)``, the ack's data,
    instead of handing it to the namespace's handler of that name.

    :return: True if hooked.
    """
    if not RESERVED_EVENTS.usable():
        return False
    from socketio import packet

    handle_event = server._handle_event
    reserved = frozenset(server.reserved_events)

    def checked_handle_event(eio_sid, namespace, id, data):
        if not data or not isinstance(data[0], str) or data[0] not in reserved:
            return handle_event(eio_sid, namespace, id, data)
        namespace = namespace or "/"
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
        if id is not None and server.manager.is_connected(sid, namespace):
            server._send_packet(
                eio_sid,
                server.packet_class(packet.ACK, namespace=namespace, id=id, data=[answer(data[0])]),
            )

    server._handle_event = checked_handle_event
    RESERVED_EVENTS.active = True
    return True
