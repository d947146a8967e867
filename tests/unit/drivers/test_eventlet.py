"""wall/drivers/eventlet.py, patch by patch, each applied to a subclass of the
library's class (the library itself stays as it is in this process).

Direct writes, buffered reads and unmasking, ping timers, the message cap.
"""

import os
import queue
import socket
import threading
from types import SimpleNamespace

import pytest

from wall.drivers import eventlet as driver
from wall.drivers.eventlet import BufferedReceiver, DirectWriter, unmask


def reference_unmask(data, mask, length=None, offset=0):
    # eventlet's RFC6455WebSocket._apply_mask, byte by byte
    length = len(data) if length is None else length
    return b"".join(bytes((data[i] ^ mask[(offset + i) % 4],)) for i in range(length))


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 125, 126, 1000, 70000])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 7])
def test_unmask_matches_the_byte_by_byte_xor(length, offset):
    data, mask = os.urandom(length), tuple(os.urandom(4))
    assert unmask(data, mask, length=length, offset=offset) == reference_unmask(
        data, mask, length, offset
    )


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


# -- direct writes -----------------------------------------------------------


def green_websocket():
    """A server-side eventlet WebSocket on one end of a socket pair, and the other end."""
    websocket = pytest.importorskip("eventlet.websocket")
    from eventlet.greenio import GreenSocket

    left, right = socket.socketpair()
    return websocket.RFC6455WebSocket(GreenSocket(left), {}, 13), right


def session(**state):
    values = dict(upgraded=True, upgrading=False, closed=False, queue=queue.Queue())
    values.update(state)
    return SimpleNamespace(**values)


def test_a_direct_write_goes_straight_to_the_socket():
    ws, peer = green_websocket()
    writer = DirectWriter(session(), ws, spawn=None)
    assert writer.write(b"frame one") is True
    assert peer.recv(100) == b"frame one"


@pytest.mark.parametrize(
    "state",
    [
        {"upgraded": False},
        {"upgrading": True},
        {"closed": True},
        "queued",
        "sending",
    ],
)
def test_a_frame_is_left_to_the_queue_whenever_writing_now_could_reorder(state):
    ws, peer = green_websocket()
    if state == "queued":
        s = session()
        s.queue.put("an older packet")
    else:
        s = session(**state) if isinstance(state, dict) else session()
    writer = DirectWriter(s, ws, spawn=None)
    if state == "sending":
        writer.ws._sendlock.acquire()  # the writer task is in the middle of a frame
    assert writer.write(b"frame") is False
    peer.setblocking(False)
    with pytest.raises(BlockingIOError):
        peer.recv(10)


def test_a_partial_write_is_finished_by_a_task_holding_the_send_lock():
    ws, peer = green_websocket()
    ws.socket.fd.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    spawned = []
    writer = DirectWriter(session(), ws, spawn=lambda fn, *args: spawned.append((fn, args)))
    frame = os.urandom(4 * 1024 * 1024)
    assert writer.write(frame) is True
    ((finish, (rest,)),) = spawned
    assert 0 < len(rest) < len(frame)
    assert ws._sendlock.locked(), "others could write before the rest of the frame"
    assert writer.write(b"next") is False  # it waits behind the rest
    received = bytearray()
    reader = threading.Thread(target=lambda: received.extend(_read_all(peer, len(frame))))
    reader.start()
    finish(rest)
    reader.join(10)
    assert bytes(received) == frame and not ws._sendlock.locked()


def _read_all(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data.extend(chunk)
    return data


# -- buffered reads ------------------------------------------------------------


def test_buffered_reads_apply_to_server_sockets_only():
    websocket = pytest.importorskip("eventlet.websocket")

    class WebSocket(websocket.RFC6455WebSocket):
        pass

    driver.buffer_reads(WebSocket)
    left, right = socket.socketpair()
    try:
        server = WebSocket(left, {}, 13)
        client = WebSocket(right, {}, 13, client=True)
        assert isinstance(server.socket, BufferedReceiver)
        assert not isinstance(client.socket, BufferedReceiver)
        assert websocket.RFC6455WebSocket(left, {}, 13).socket is left  # the library is untouched
    finally:
        left.close()
        right.close()


# -- ping timers -----------------------------------------------------------------


def test_pings_come_from_a_timer_once_per_cycle():
    socket_module = pytest.importorskip("engineio.socket")

    class Socket(socket_module.Socket):
        pass

    timers = []
    driver.ping_from_timers(Socket, lambda delay, fn, *args: timers.append((delay, fn, args)))
    sent = []
    s = Socket.__new__(Socket)
    s.server = SimpleNamespace(ping_interval=25)
    s.last_ping, s.closing, s.closed = 123.0, False, False
    s.send = sent.append
    s.schedule_ping()
    s.schedule_ping()  # the previous cycle has not completed: no second timer
    assert [t[0] for t in timers] == [25]
    delay, fn, args = timers[0]
    fn(*args)
    assert [p.packet_type for p in sent] == [2] and s.last_ping  # engine.io PING
    s.closed = True
    fn(*args)
    assert len(sent) == 1, "a closed session was pinged"


# -- message cap -------------------------------------------------------------------


def test_a_fragmented_message_is_capped_as_a_whole():
    websocket = pytest.importorskip("eventlet.websocket")

    class Message(websocket.RFC6455WebSocket.Message):
        pass

    driver.cap_messages(Message, websocket.FailedConnectionError)
    message = Message(1, max_frame_length=10)
    message.push(b"12345")
    message.push(b"12345")
    with pytest.raises(websocket.FailedConnectionError):
        message.push(b"1")
    uncapped = websocket.RFC6455WebSocket.Message(1, max_frame_length=10)
    for _ in range(5):
        uncapped.push(b"12345")  # the library's own class is untouched


# -- no tracebacks -----------------------------------------------------------------------


def failing_app(environ, start_response):
    raise RuntimeError("secret detail of the server")


@pytest.mark.timeout(20)
def test_a_handler_s_exception_reaches_the_client_as_a_500_without_its_traceback():
    eventlet = pytest.importorskip("eventlet")
    eventlet_wsgi = pytest.importorskip("eventlet.wsgi")

    # the patch applied to a stand-in for the module: the library stays as it is
    wsgi = SimpleNamespace(server=eventlet_wsgi.server)
    driver.serve_without_tracebacks(wsgi)
    listener = eventlet.listen(("127.0.0.1", 0))
    serving = eventlet.spawn(wsgi.server, listener, failing_app, log_output=False)
    try:
        client = eventlet.connect(listener.getsockname())
        client.sendall(b"GET / HTTP/1.1\r\nHost: wall\r\nConnection: close\r\n\r\n")
        reply = b""
        with eventlet.Timeout(10):
            while chunk := client.recv(65536):
                reply += chunk
        client.close()
    finally:
        serving.kill()
        listener.close()
    assert reply.startswith(b"HTTP/1.1 500"), reply
    assert b"Traceback" not in reply and b"secret detail" not in reply, reply


# -- released buffers ----------------------------------------------------------------


@pytest.mark.timeout(20)
def test_an_upgraded_websocket_gives_back_the_request_s_buffered_files(monkeypatch):
    eventlet = pytest.importorskip("eventlet")
    eventlet_wsgi = pytest.importorskip("eventlet.wsgi")
    eventlet_websocket = pytest.importorskip("eventlet.websocket")
    import json

    class Protocol(eventlet_wsgi.HttpProtocol):
        pass

    library_websocket = eventlet_websocket.RFC6455WebSocket

    class WebSocket(library_websocket):
        pass

    driver.release_upgraded_buffers(Protocol, WebSocket)
    # the handshake builds the module's class: this test's, for this test only
    monkeypatch.setattr(eventlet_websocket, "RFC6455WebSocket", WebSocket)

    def upgraded(ws):
        rfile = ws.environ["wsgi.input"].rfile
        ws.send(json.dumps({"closed": rfile.closed, "key": driver.RELEASE_KEY in ws.environ}))
        # eventlet's server, stopping, closes the sockets of connections it
        # thinks idle, this one's too: its open files keep it open meanwhile
        ws.environ["eventlet.input"].get_socket().close()
        ws.send(ws.wait())  # the socket itself still works both ways

    websocket_app = eventlet_websocket.WebSocketWSGI(upgraded)

    def app(environ, start_response):
        if environ.get("HTTP_UPGRADE"):
            return websocket_app(environ, start_response)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    listener = eventlet.listen(("127.0.0.1", 0))
    serving = eventlet.spawn(
        eventlet_wsgi.server, listener, app, protocol=Protocol, log_output=False
    )
    try:
        with eventlet.Timeout(10):
            # plain requests keep their files: two on one connection
            plain = eventlet.connect(listener.getsockname())
            for _ in range(2):
                plain.sendall(b"GET / HTTP/1.1\r\nHost: wall\r\n\r\n")
                reply = b""
                while not reply.endswith(b"ok"):
                    reply += plain.recv(4096)
                assert reply.startswith(b"HTTP/1.1 200")
            plain.close()
            client = eventlet.connect(listener.getsockname())
            client.sendall(
                b"GET /ws HTTP/1.1\r\nHost: wall\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(1)
            assert head.startswith(b"HTTP/1.1 101"), head
            ws = library_websocket(client, {}, 13, client=True)
            assert json.loads(ws.wait()) == {"closed": True, "key": False}
            ws.send("echo")
            assert ws.wait() == "echo"
            client.close()
    finally:
        serving.kill()
        listener.close()


def test_a_ping_timer_holds_no_greenlet_until_it_is_due():
    eventlet = pytest.importorskip("eventlet")
    import gc

    from wall.drivers import ping_timers

    fired = []
    later = ping_timers.spawn_when_due(driver._hub_timer, eventlet.spawn_n)
    gc.collect()
    greenlets = sum(1 for o in gc.get_objects() if type(o).__name__ == "GreenThread")
    for i in range(50):
        # what is called may block: it runs in its own task, not in the hub
        later(0.05, lambda i=i: (eventlet.sleep(0), fired.append(i)))
    # eventlet's spawn_after would have made 50 GreenThreads by now
    made = sum(1 for o in gc.get_objects() if type(o).__name__ == "GreenThread") - greenlets
    assert made < 10, made
    eventlet.sleep(0.3)
    assert sorted(fired) == list(range(50))
