"""wall/drivers/gevent.py: simple-websocket's message cap, direct writes, ping timers."""

import os
import queue
import socket
import threading
from types import SimpleNamespace

import pytest
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

from wall.drivers import gevent as driver
from wall.drivers import ping_timers
from wall.drivers.gevent import DirectWriter, GuardedSocket


def test_simple_websocket_gets_the_message_cap():
    class WebSocketWSGI(SimpleWebSocketWSGI):
        def __init__(self, handler, server):
            super().__init__(handler, server, thread_class=object)

    assert driver.cap_messages(SimpleNamespace(WebSocketWSGI=WebSocketWSGI))
    ws = WebSocketWSGI(None, SimpleNamespace(max_http_buffer_size=65536))
    assert ws.server_args == {"thread_class": object, "max_message_size": 65536}


def test_gevent_websocket_keeps_its_own_limit():
    class OtherWebSocket:
        pass

    assert driver.cap_messages(SimpleNamespace(WebSocketWSGI=OtherWebSocket)) is False


# -- direct writes -------------------------------------------------------------------
# Real gevent sockets (gevent's hub runs in this thread; nothing is monkey-patched):
# the wall's end of a socket pair is gevent's, the peer's end a plain one.


_open = []


@pytest.fixture(autouse=True)
def _close_sockets():
    yield
    while _open:
        _open.pop().close()


def green_pair(sndbuf=None):
    gevent_socket = pytest.importorskip("gevent.socket")
    left, right = socket.socketpair()
    if sndbuf:
        left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        right.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
    green = gevent_socket.socket(fileno=left.detach())
    _open.extend((green, right))
    return green, right


def guarded(sndbuf=None):
    import gevent.lock
    import gevent.socket

    sock, peer = green_pair(sndbuf)
    websocket = SimpleNamespace(sock=sock, connected=True, environ={})
    guard = driver.guard_socket(websocket, gevent.socket.socket, gevent.lock.Semaphore)
    assert websocket.sock is guard and guard.sock is sock
    return websocket, guard, peer


def session(**state):
    values = dict(upgraded=True, upgrading=False, closed=False, queue=queue.Queue())
    values.update(state)
    return SimpleNamespace(**values)


def read_all(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data.extend(chunk)
    return bytes(data)


def reader(sock, n):
    """Read ``n`` bytes from ``sock`` in a thread (gevent's hub keeps this one)."""
    received = bytearray()
    thread = threading.Thread(target=lambda: received.extend(read_all(sock, n)))
    thread.start()
    return thread, received


def test_a_direct_write_goes_straight_to_the_socket():
    websocket, guard, peer = guarded()
    writer = DirectWriter(session(), websocket, guard, spawn=None)
    assert writer.write(b"frame one") is True
    assert peer.recv(100) == b"frame one"


@pytest.mark.parametrize(
    "state",
    [{"upgraded": False}, {"upgrading": True}, {"closed": True}, "queued", "sending", "gone"],
)
def test_a_frame_is_left_to_the_queue_whenever_writing_now_could_reorder(state):
    websocket, guard, peer = guarded()
    s = session(**state) if isinstance(state, dict) else session()
    if state == "queued":
        s.queue.put("an older packet")
    elif state == "sending":
        guard.pending = 1  # a send is under way, or waits for the lock
    elif state == "gone":
        websocket.connected = False
    writer = DirectWriter(s, websocket, guard, spawn=None)
    assert writer.write(b"frame") is False
    peer.setblocking(False)
    with pytest.raises(BlockingIOError):
        peer.recv(10)


def test_a_closed_socket_leaves_the_frame_to_the_queue():
    websocket, guard, peer = guarded()
    guard.sock.close()
    assert DirectWriter(session(), websocket, guard, spawn=None).write(b"frame") is False


def test_a_partial_write_is_finished_before_anything_else_reaches_the_socket():
    import gevent

    websocket, guard, peer = guarded(sndbuf=4096)
    writer = DirectWriter(session(), websocket, guard, spawn=gevent.spawn)
    frame = os.urandom(4 * 1024 * 1024)
    assert writer.write(frame) is True
    assert guard.pending == 1 and guard.lock.locked(), "others could write before the rest"
    assert writer.write(b"next") is False  # it waits behind the rest
    # simple-websocket's writer sends next: it waits for the rest too
    later = gevent.spawn(guard.send, b"the writer's frame")
    thread, received = reader(peer, len(frame) + len(b"the writer's frame"))
    later.join(10)
    thread.join(10)
    assert bytes(received) == frame + b"the writer's frame"
    assert guard.pending == 0 and not guard.lock.locked()
    assert writer.write(b"idle again") is True


def test_guarded_sends_are_whole():
    # simple-websocket calls send() once per frame; gevent's send returns
    # after what the kernel took, which may be part of it
    import gevent

    websocket, guard, peer = guarded(sndbuf=4096)
    frames = [os.urandom(300 * 1024) for _ in range(3)]
    senders = [gevent.spawn(guard.send, f) for f in frames]
    thread, received = reader(peer, sum(map(len, frames)))
    gevent.joinall(senders, timeout=10)
    thread.join(10)
    assert [s.value for s in senders] == [len(f) for f in frames]
    assert bytes(received) == b"".join(frames)


def test_only_plain_gevent_sockets_are_guarded():
    import gevent.lock
    import gevent.socket

    left, right = socket.socketpair()
    _open.extend((left, right))
    websocket = SimpleNamespace(sock=left)
    assert driver.guard_socket(websocket, gevent.socket.socket, gevent.lock.Semaphore) is None
    assert websocket.sock is left


def test_sessions_get_a_writer_unless_an_extension_was_negotiated():
    socket_module = pytest.importorskip("engineio.socket")
    import gevent
    import gevent.lock
    import gevent.socket

    class Socket(socket_module.Socket):
        pass

    seen = []

    def handler(self, ws):
        seen.append((self.wall_direct, ws.ws.sock))
        return []

    Socket._websocket_handler = handler
    driver.write_directly(Socket, gevent.socket.socket, gevent.lock.Semaphore, gevent.spawn)
    for environ in ({}, {"HTTP_SEC_WEBSOCKET_EXTENSIONS": "permessage-deflate"}):
        sock, peer = green_pair()
        s = Socket.__new__(Socket)
        s.server = SimpleNamespace(ping_interval=25, ping_timeout=20)
        ws = SimpleNamespace(ws=SimpleNamespace(sock=sock, connected=True, environ=environ))
        assert s._websocket_handler(ws) == []
        assert s.wall_direct is None  # only while the handler serves
    (plain, plain_sock), (deflate, deflate_sock) = seen
    assert isinstance(plain, DirectWriter) and isinstance(plain_sock, GuardedSocket)
    assert deflate is None and isinstance(deflate_sock, GuardedSocket)
    assert socket_module.Socket.__dict__.get("wall_direct") is None  # the library is untouched


def test_a_real_simple_websocket_sends_through_the_guard():
    import gevent
    import gevent.event
    import gevent.lock
    import gevent.selectors
    import gevent.socket
    import simple_websocket
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import Request, TextMessage

    sock, peer = green_pair()
    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="x", target="/"))
    head = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
    environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in head.items()}
    environ["werkzeug.socket"] = sock
    server = simple_websocket.Server(
        environ,
        thread_class=lambda target: gevent.Greenlet(target),
        event_class=gevent.event.Event,
        selector_class=gevent.selectors.DefaultSelector,
    )
    guard = driver.guard_socket(server, gevent.socket.socket, gevent.lock.Semaphore)
    assert guard is not None
    server.send("through the writer")
    writer = DirectWriter(session(), server, guard, spawn=gevent.spawn)
    from wall.realtime.broadcast import text_frame

    assert writer.write(text_frame(b"direct")) is True
    peer.settimeout(5)
    data = b""
    while data.count(b"direct") == 0:
        data += peer.recv(65536)
    client.receive_data(data)
    texts = [e.data for e in client.events() if isinstance(e, TextMessage)]
    assert texts == ["through the writer", "direct"]
    server.close()


# -- ping timers -----------------------------------------------------------------


def test_pings_come_from_a_timer_once_per_cycle_and_their_timeouts_from_another():
    socket_module = pytest.importorskip("engineio.socket")

    class Socket(socket_module.Socket):
        pass

    timers = []

    def spawn_later(delay, fn, *args):
        timers.append((delay, fn, args))

    driver.ping_from_timers(Socket, spawn_later)
    sent, checks = [], []
    s = Socket.__new__(Socket)
    s.server = SimpleNamespace(ping_interval=25, ping_timeout=20)
    s.last_ping, s.closing, s.closed = 123.0, False, False
    s.send = sent.append
    s.check_ping_timeout = lambda: checks.append(s.last_ping)
    s.schedule_ping()
    s.schedule_ping()  # the previous cycle has not completed: no second timer
    assert [t[0] for t in timers] == [25]
    delay, ping, ping_args = timers.pop()
    ping(*ping_args)
    assert [p.packet_type for p in sent] == [2] and s.last_ping  # engine.io PING
    ((delay, check, check_args),) = timers  # its timeout
    assert delay == 20 + ping_timers.PING_CHECK_MARGIN
    check(*check_args)
    assert checks == [s.last_ping]  # engine.io's own check decides
    s.closed = True
    ping(*ping_args)
    check(*check_args)
    assert len(sent) == 1 and len(checks) == 1, "a closed session was pinged or checked"


# -- released buffers ----------------------------------------------------------------


def _read_text_frame(sock):
    head = b""
    while len(head) < 2:
        head += sock.recv(2 - len(head))
    assert head[0] == 0x81 and head[1] < 126, head  # a short, unmasked text frame
    payload = b""
    while len(payload) < head[1]:
        payload += sock.recv(head[1] - len(payload))
    return payload.decode()


@pytest.mark.timeout(20)
def test_an_upgraded_websocket_gives_back_the_request_s_buffered_file_and_socket(capfd):
    pytest.importorskip("gevent")
    import json

    import gevent.event
    import gevent.pywsgi
    import gevent.selectors
    import gevent.socket
    import simple_websocket.ws

    from tests.support.raw_websocket import frame

    class Server(simple_websocket.ws.Server):
        pass

    driver.release_upgraded_buffers(Server)

    def app(environ, start_response):
        if not environ.get("HTTP_UPGRADE"):
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
        rfile = environ["wsgi.input"]  # an upgrade's is the buffered file itself
        original = rfile.raw._sock  # the request's socket, which simple-websocket dup()s
        ws = Server(
            environ,
            thread_class=lambda target: gevent.Greenlet(target),
            event_class=gevent.event.Event,
            selector_class=gevent.selectors.DefaultSelector,
        )
        ws.send(json.dumps({"closed": rfile.closed, "socket": original.fileno()}))
        ws.send(ws.receive(timeout=5))  # the socket still works both ways
        ws.close()
        return []

    handled = gevent.event.Event()

    class Handler(gevent.pywsgi.WSGIHandler):
        upgrade = False

        def handle_one_response(self):
            self.upgrade = bool(self.environ.get("HTTP_UPGRADE"))
            super().handle_one_response()

        def handle(self):
            try:
                super().handle()
            finally:
                if self.upgrade:
                    handled.set()

    server = gevent.pywsgi.WSGIServer(("127.0.0.1", 0), app, log=None, handler_class=Handler)
    server.start()
    try:
        with gevent.Timeout(10):
            plain = gevent.socket.create_connection(("127.0.0.1", server.server_port))
            for _ in range(2):  # plain requests keep their file: two on one connection
                plain.sendall(b"GET / HTTP/1.1\r\nHost: wall\r\n\r\n")
                reply = b""
                while not reply.endswith(b"ok"):
                    reply += plain.recv(4096)
                assert reply.startswith(b"HTTP/1.1 200")
            plain.close()
            client = gevent.socket.create_connection(("127.0.0.1", server.server_port))
            client.sendall(
                b"GET /ws HTTP/1.1\r\nHost: wall\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(1)
            assert head.startswith(b"HTTP/1.1 101"), head
            # both closed: the connection lives on simple-websocket's duplicate
            assert json.loads(_read_text_frame(client)) == {"closed": True, "socket": -1}
            client.sendall(frame("echo"))
            assert _read_text_frame(client) == "echo"
            client.close()
            handled.wait()  # the server's end of the connection, on its closed socket
    finally:
        server.stop(timeout=1)
    assert "Traceback" not in capfd.readouterr().err


def test_a_ping_timer_holds_no_greenlet_until_it_is_due():
    gevent = pytest.importorskip("gevent")
    import gc

    import greenlet

    fired = []
    later = ping_timers.spawn_when_due(driver._loop_timer, gevent.spawn_raw)
    gevent.get_hub()  # the hub's own greenlet, made once
    gc.collect()
    before = sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet))
    for i in range(50):
        # what is called may block: it runs in its own greenlet, not in the hub
        later(0.05, lambda i=i: (gevent.sleep(0), fired.append(i)))
    gc.collect()  # nobody here keeps the timers: the loop does
    # gevent.spawn_later would have made 50 greenlets by now
    made = sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet)) - before
    assert made < 10, made
    gevent.sleep(0.3)
    assert sorted(fired) == list(range(50))
