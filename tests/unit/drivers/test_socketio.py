"""wall/drivers/socketio.py: the hooks on a python-socketio Server."""

import engineio.packet
import pytest
import socketio

from wall.drivers import socketio as socketio_driver
from wall.realtime.broadcast import Broadcast

from ..realtime.test_broadcast import Session, Writer, unframe


@pytest.fixture
def server():
    sio = socketio.Server(async_mode="threading")
    sio.eio.sockets.update({"direct1": Session(Writer()), "polling": Session()})
    return sio


def test_acks_are_written_directly_as_engine_io_messages(server):
    broadcast = Broadcast(server, "/wall")
    ack = server.packet_class(socketio.packet.ACK, namespace="/wall", data=[{"ok": True}], id=7)
    server._send_packet("direct1", ack)  # python-socketio's own call, routed to the broadcast
    assert unframe(server.eio.sockets["direct1"].wall_direct.frames[0]) == '43/wall,7[{"ok":true}]'
    assert broadcast.direct == 0  # acks are not counted as broadcast frames


def test_python_socketio_emits_take_the_broadcast_path(server):
    broadcast = Broadcast(server, "/wall")
    packet = socketio.packet.Packet(socketio.packet.EVENT, namespace="/wall", data=["x", 1])
    eio_packet = engineio.packet.Packet(engineio.packet.MESSAGE, packet.encode())
    for sid in ("direct1", "polling"):
        server._send_eio_packet(sid, eio_packet)
    assert len(server.eio.sockets["direct1"].wall_direct.frames) == 1
    assert server.eio.sockets["polling"].queued == [eio_packet]
    assert (broadcast.direct, broadcast.queued) == (1, 1)


def test_the_session_hooks_wrap_python_socketio_s_handlers_in_order():
    sio = socketio.Server(async_mode="threading")
    seen = []

    def hook(name):
        def run(eio_sid, data, handle):
            seen.append((name, eio_sid))
            return handle(eio_sid, data)

        return run

    assert socketio_driver.hook_sessions(
        sio,
        on_connect=hook("connect"),
        on_disconnect=hook("disconnect"),
        on_message=hook("message"),
    )
    sio.eio.handlers["connect"]("e1", {"REMOTE_ADDR": "1.2.3.4"})
    assert sio.get_environ("nobody") is None and sio.environ["e1"]["REMOTE_ADDR"] == "1.2.3.4"
    sio.eio.handlers["message"]("e1", "1/wall,")  # a DISCONNECT from a namespace it never joined
    sio.eio.handlers["disconnect"]("e1", "gone")
    assert seen == [("connect", "e1"), ("message", "e1"), ("disconnect", "e1")]
    assert "e1" not in sio.environ  # python-socketio's own handler ran too


@pytest.mark.parametrize("event", ["connect", "disconnect"])
def test_a_client_event_with_a_reserved_name_is_answered_and_never_handled(event):
    sio = socketio.Server(async_mode="threading")
    handled = []

    class Namespace(socketio.Namespace):
        def trigger_event(self, name, *args):
            handled.append(name)
            return "handled"

    sio.register_namespace(Namespace("/wall"))
    sio.manager.initialize()
    sio.manager.connect("e1", "/wall")
    sent = []
    sio._send_packet = lambda eio_sid, pkt: sent.append(pkt.encode())
    assert socketio_driver.refuse_reserved_events(sio, lambda name: {"unknown": name})
    sio._handle_eio_message("e1", '2/wall,7["%s",{}]' % event)
    sio._handle_eio_message("e1", '2/wall,8["join",{}]')
    assert handled == ["join"]
    assert sent == ['3/wall,7[{"unknown":"%s"}]' % event, '3/wall,8["handled"]']


# -- the room index -----------------------------------------------------------


class NoScan(dict):
    """A namespace's rooms that refuse to be scanned whole."""

    def copy(self):
        raise AssertionError("every room was scanned")

    def items(self):
        raise AssertionError("every room was scanned")


def indexed_manager():
    sio = socketio.Server(async_mode="threading")
    assert socketio_driver.index_rooms(sio.manager)
    return sio.manager


def scanned_rooms(manager, sid, namespace):
    """The library's own answer: a scan of every room."""
    return sorted(
        (r for r, room in manager.rooms.get(namespace, {}).items() if sid in room),
        key=str,
    )


def test_the_index_agrees_with_a_scan_of_every_room_whatever_happens():
    import random

    rng = random.Random(7)
    manager = indexed_manager()
    sids, walls = [], ["a", "b", "c", "d"]
    for step in range(2000):
        op = rng.random()
        if op < 0.3 or not sids:
            sids.append(manager.connect("eio%d" % step, "/wall"))
        elif op < 0.6:
            manager.enter_room(rng.choice(sids), "/wall", rng.choice(walls))
        elif op < 0.75:
            manager.leave_room(rng.choice(sids), "/wall", rng.choice(walls))
        elif op < 0.8:
            manager.close_room(rng.choice(walls), "/wall")
        else:
            sid = sids.pop(rng.randrange(len(sids)))
            manager.disconnect(sid, "/wall")
            assert scanned_rooms(manager, sid, "/wall") == []
        for sid in rng.sample(sids, min(5, len(sids))):
            got = manager.get_rooms(sid, "/wall")
            assert sorted(got, key=str) == [r for r in scanned_rooms(manager, sid, "/wall") if r]
    assert socketio_driver.ROOM_INDEX.active


def test_a_disconnect_does_not_scan_every_room():
    manager = indexed_manager()
    sids = [manager.connect("eio%d" % i, "/wall") for i in range(100)]
    manager.enter_room(sids[0], "/wall", "talk")
    manager.rooms["/wall"] = NoScan(manager.rooms["/wall"])
    manager.disconnect(sids[0], "/wall")  # the library's own would copy every room
    assert "talk" not in manager.rooms["/wall"] and sids[0] not in manager.rooms["/wall"][None]
    assert not manager.is_connected(sids[0], "/wall")
    assert manager.is_connected(sids[1], "/wall")
