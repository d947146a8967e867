"""The broadcast: one frame per event for every direct writer, the queue for the rest."""

import json
import struct

import pytest
import socketio

from wall.realtime.broadcast import Broadcast, text_frame


class Writer:
    """A session's direct writer: takes frames, or refuses them (busy socket)."""

    def __init__(self, accepts=True):
        self.accepts = accepts
        self.frames = []

    def write(self, frame):
        if self.accepts:
            self.frames.append(frame)
        return self.accepts


class Session:
    """An engine.io session as far as the broadcast and engine.io's send look at it."""

    def __init__(self, writer=None):
        self.wall_direct = writer
        self.closed = False
        self.queued = []

    def send(self, packet):
        self.queued.append(packet)

    def close(self, wait=True, reason=None):
        self.closed = True


class Broken:
    def write(self, frame):
        raise OSError("a bug in a writer")


def unframe(frame):
    """The payload of one unmasked server text frame."""
    assert frame[0] == 0x81
    n = frame[1]
    if n == 126:
        n, start = struct.unpack("!H", frame[2:4])[0], 4
    elif n == 127:
        n, start = struct.unpack("!Q", frame[2:10])[0], 10
    else:
        start = 2
    assert len(frame) == start + n
    return frame[start:].decode()


@pytest.fixture
def server():
    sio = socketio.Server(async_mode="threading")
    sio.eio.sockets.update(
        {
            "direct1": Session(Writer()),
            "direct2": Session(Writer()),
            "busy": Session(Writer(accepts=False)),
            "polling": Session(),
        }
    )
    return sio


def test_one_frame_for_every_direct_writer_and_the_same_packet_queued_for_the_rest(server):
    broadcast = Broadcast(server, "/wall")
    post = {"id": "1-0", "message": "héllo"}
    broadcast.send(["direct1", "direct2", "busy", "polling"], "new post", post)
    sockets = server.eio.sockets
    one, two = sockets["direct1"].wall_direct.frames, sockets["direct2"].wall_direct.frames
    assert len(one) == len(two) == 1 and one[0] is two[0], "the frame was built twice"
    text = unframe(one[0])
    assert text.startswith("42/wall,") and json.loads(text[len("42/wall,") :]) == ["new post", post]
    queued = sockets["busy"].queued + sockets["polling"].queued
    assert len(queued) == 2 and queued[0] is queued[1]
    assert queued[0].encode() == text
    assert (broadcast.direct, broadcast.queued) == (2, 2)


def frames_in(data):
    """The payloads of the unmasked server text frames one after another in ``data``."""
    out = []
    while data:
        n = data[1]
        start = 2 if n < 126 else 4
        if n == 126:
            n = struct.unpack("!H", data[2:4])[0]
        out.append(unframe(data[: start + n]))
        data = data[start + n :]
    return out


def test_several_events_go_to_a_direct_writer_in_one_write_and_to_a_queue_in_order(server):
    broadcast = Broadcast(server, "/wall")
    posts = [{"id": "%d-0" % i, "message": "x" * (60 * i)} for i in range(1, 4)]
    broadcast.send_many(
        ["direct1", "busy", "polling"], [("new post", p) for p in posts] + [("online", 2)]
    )
    sockets = server.eio.sockets
    writes = sockets["direct1"].wall_direct.frames
    assert len(writes) == 1, "one write for the run"
    texts = frames_in(writes[0])
    assert [json.loads(t[len("42/wall,") :]) for t in texts] == [["new post", p] for p in posts] + [
        ["online", 2]
    ]
    for name in ("busy", "polling"):
        assert [p.encode() for p in sockets[name].queued] == texts, name
    assert (broadcast.direct, broadcast.queued) == (4, 8)


def test_several_events_of_which_one_cannot_be_encoded_send_none(server):
    broadcast = Broadcast(server, "/wall")
    with pytest.raises(TypeError):
        broadcast.send_many(["direct1", "polling"], [("new post", {"id": "1-0"}), ("x", {1j})])
    assert server.eio.sockets["direct1"].wall_direct.frames == []
    assert server.eio.sockets["polling"].queued == []


def test_with_direct_writes_off_everything_is_queued(server):
    broadcast = Broadcast(server, "/wall", direct_writes=False)
    broadcast.send(["direct1", "polling"], "online", {"wall": "w", "count": 2})
    assert server.eio.sockets["direct1"].wall_direct.frames == []
    assert len(server.eio.sockets["direct1"].queued) == 1
    assert (broadcast.direct, broadcast.queued) == (0, 2)


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_text_frames_carry_their_length(size):
    payload = b"x" * size
    assert unframe(text_frame(payload)) == payload.decode()


def test_a_send_that_fails_closes_only_that_session_and_the_others_still_get_it(server):
    broadcast = Broadcast(server, "/wall")
    broken = Session(Broken())
    server.eio.sockets["broken"] = broken
    broadcast.send(["direct1", "broken", "direct2", "polling"], "new post", {"id": "1-0"})
    sockets = server.eio.sockets
    assert len(sockets["direct1"].wall_direct.frames) == 1
    assert len(sockets["direct2"].wall_direct.frames) == 1
    assert len(sockets["polling"].queued) == 1
    # closed, so that its client reconnects and catches up with ``after``
    assert broken.closed and "broken" not in sockets and broadcast.failed == 1
