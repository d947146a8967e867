"""wall/websocket_reads.py: buffered reads and unmasking, against eventlet's own frame reader."""

import os
import socket

import pytest

from wall.drivers.eventlet import BufferedReceiver, unmask


def reference_unmask(data, mask, length=None, offset=0):
    # eventlet's RFC6455WebSocket._apply_mask, byte by byte
    length = len(data) if length is None else length
    return b"".join(bytes((data[i] ^ mask[(offset + i) % 4],)) for i in range(length))


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 125, 126, 1000, 70000])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 7])
def test_unmask_matches_the_byte_by_byte_xor(length, offset):
    data, mask = os.urandom(length), tuple(os.urandom(4))
    assert unmask(data, mask, length=length, offset=offset) == reference_unmask(
        data, mask, length, offset)


def test_buffered_receiver_hands_out_what_one_read_got_and_delegates_the_rest():
    left, right = socket.socketpair()
    try:
        reader = BufferedReceiver(left)
        right.sendall(b"abcdefghij")
        assert reader.recv(2) == b"ab"
        assert reader.recv(3) == b"cde"
        assert reader.recv(100) == b"fghij"  # at most what is buffered
        right.sendall(b"xyz")
        assert reader.recv(1) == b"x"
        assert reader.fileno() == left.fileno()
        reader.sendall(b"back")
        assert right.recv(4) == b"back"
        assert reader.recv(5) == b"yz"
        right.close()
        assert reader.recv(5) == b""
    finally:
        left.close()
        right.close()


def test_eventlet_reads_frames_through_the_buffer():
    eventlet_websocket = pytest.importorskip("eventlet.websocket")
    from tests.support.raw_websocket import frame

    left, right = socket.socketpair()
    try:
        ws = eventlet_websocket.RFC6455WebSocket(left, {}, 13)
        ws.socket = BufferedReceiver(ws.socket)
        ws._apply_mask = unmask
        right.sendall(frame("hello") + frame("x" * 300) + frame("é" * 40))
        assert [ws.wait(), ws.wait(), ws.wait()] == ["hello", "x" * 300, "é" * 40]
    finally:
        left.close()
        right.close()
