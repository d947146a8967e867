"""wall/drivers/inline_reads.py: simple-websocket reading in the caller's greenlet.

Real gevent sockets and a real simple_websocket.Server (a subclass, so the
library's own class stays as it is); the client's end is a plain socket
spoken to with wsproto. gevent's hub runs in this thread and nothing else
is spawned, so a ``receive`` that waited for a reader greenlet, as
simple-websocket's own does, would wait until the test's timeout.
"""

import socket
from types import SimpleNamespace

import gevent
import gevent.event
import gevent.socket
import pytest
import simple_websocket
import simple_websocket.ws
from wsproto import ConnectionType, WSConnection
from wsproto.events import CloseConnection, Ping, Pong, Request, TextMessage
from wsproto.utilities import LocalProtocolError

from tests.support.raw_websocket import frame
from wall.drivers import inline_reads
from wall.drivers.inline_reads import NoReader

pytestmark = pytest.mark.timeout(20)


class Server(simple_websocket.ws.Server):
    pass


inline_reads.read_inline(Server, (LocalProtocolError,), gevent.Timeout, gevent.spawn)

_open = []


@pytest.fixture(autouse=True)
def _close_sockets():
    yield
    while _open:
        _open.pop().close()


def connect(**kwargs):
    """A handshaken server (inline unless ``thread_class`` is given) and the client's ends."""
    left, peer = socket.socketpair()
    sock = gevent.socket.socket(fileno=left.detach())
    peer.settimeout(5)
    _open.extend((sock, peer))
    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="wall", target="/"))
    head = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
    environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in head.items()}
    environ["werkzeug.socket"] = sock
    kwargs.setdefault("thread_class", NoReader)
    server = Server(environ, event_class=gevent.event.Event, **kwargs)
    client.receive_data(peer.recv(65536))  # the 101
    list(client.events())
    return server, client, peer


def events(client, peer):
    """What the server sent, as wsproto events, until the server's end closes."""
    found = []
    while True:
        try:
            data = peer.recv(65536)
        except TimeoutError:
            return found
        client.receive_data(data or None)
        found.extend(client.events())
        if not data or any(isinstance(e, CloseConnection) for e in found):
            return found


def with_timeout(fn, *args):
    with gevent.Timeout(5):
        return fn(*args)


def test_messages_are_read_by_receive_itself_in_order_with_no_reader():
    before = gevent.get_hub().loop.activecnt
    server, client, peer = connect()
    assert type(server.thread) is NoReader and inline_reads.inline(server)
    peer.sendall(
        client.send(TextMessage("one"))
        + client.send(TextMessage("tw", message_finished=False))
        + client.send(TextMessage("o"))
    )
    assert with_timeout(server.receive) == "one"
    assert with_timeout(server.receive) == "two"  # two frames, one message
    peer.sendall(client.send(TextMessage("three")))
    assert with_timeout(server.receive) == "three"
    assert gevent.get_hub().loop.activecnt <= before  # nothing left waiting


def test_a_ping_is_answered_while_receive_reads():
    server, client, peer = connect()
    peer.sendall(client.send(Ping(b"hi")) + client.send(TextMessage("after")))
    assert with_timeout(server.receive) == "after"
    client.receive_data(peer.recv(65536))
    assert [type(e) for e in client.events()] == [Pong]


def test_receive_with_a_timeout_returns_none_and_the_connection_stays():
    server, client, peer = connect()
    assert with_timeout(server.receive, 0.05) is None
    assert server.connected
    peer.sendall(client.send(TextMessage("later")))
    assert with_timeout(server.receive, 1) == "later"


def test_the_client_s_close_ends_receive_is_answered_and_closes_the_socket():
    server, client, peer = connect()
    peer.sendall(client.send(TextMessage("last")) + client.send(CloseConnection(1000)))
    assert with_timeout(server.receive) == "last"  # what came before the close first
    with pytest.raises(simple_websocket.ConnectionClosed):
        with_timeout(server.receive)
    assert server.close_reason == 1000
    answer = events(client, peer)
    assert [type(e) for e in answer] == [CloseConnection]
    assert peer.recv(1) == b""  # the server's end is closed
    server.wall_finish_inline()  # the handler's return: nothing more to do
    assert server.wall_socket_closed


def test_the_message_cap_closes_with_1009():
    server, client, peer = connect(max_message_size=10)
    peer.sendall(client.send(TextMessage("x" * 20)))
    with pytest.raises(simple_websocket.ConnectionClosed):
        with_timeout(server.receive)
    answer = events(client, peer)
    assert [(type(e), e.code) for e in answer] == [(CloseConnection, 1009)]


def test_a_vanished_client_ends_receive():
    server, client, peer = connect()
    peer.close()
    with pytest.raises(simple_websocket.ConnectionClosed):
        with_timeout(server.receive)
    assert server.wall_socket_closed


def wait_closed(server):
    with gevent.Timeout(5):
        while not server.wall_socket_closed:
            gevent.sleep(0.01)


def test_an_open_websocket_left_by_its_handler_is_closed_after_the_client_s_answer():
    server, client, peer = connect()
    server.wall_finish_inline()  # e.g. a failed upgrade: nobody reads any more
    gevent.sleep(0.05)  # the closing greenlet
    answer = events(client, peer)
    assert [type(e) for e in answer] == [CloseConnection]
    assert not server.wall_socket_closed  # waits for the client's answer first
    # what the client sent before its answer, more than one read's worth
    # (raw frames: the client's wsproto sends nothing but its close once closing)
    peer.sendall(b"".join(frame("x" * 3000) for _ in range(4)))
    gevent.sleep(0.05)
    assert not server.wall_socket_closed
    peer.sendall(client.send(answer[0].response()))
    wait_closed(server)
    assert peer.recv(1) == b""  # a clean end, not a reset


def test_a_websocket_the_server_closed_while_its_handler_was_busy_is_drained():
    server, client, peer = connect()
    peer.sendall(client.send(TextMessage("in flight")))
    server.close(1001)  # from another greenlet, while nobody was in receive
    closing = events(client, peer)
    assert [(type(e), e.code) for e in closing] == [(CloseConnection, 1001)]
    peer.sendall(client.send(closing[0].response()))
    with pytest.raises(simple_websocket.ConnectionClosed):
        with_timeout(server.receive)
    assert not server.wall_socket_closed  # unread bytes: closing now would reset
    server.wall_finish_inline()
    wait_closed(server)
    assert peer.recv(1) == b""


def test_a_client_that_never_answers_the_close_is_cut_off(monkeypatch):
    monkeypatch.setattr(inline_reads, "DRAIN_SECONDS", 0.1)
    server, client, peer = connect()
    server.wall_finish_inline()
    gevent.sleep(0.5)
    assert server.wall_socket_closed
    assert [type(e) for e in events(client, peer)] == [CloseConnection]


def test_a_connection_with_its_own_reader_is_left_to_it():
    reader = lambda target: gevent.Greenlet(target)  # noqa: E731
    server, client, peer = connect(thread_class=reader)
    assert not inline_reads.inline(server)
    peer.sendall(client.send(TextMessage("via the reader")))
    assert with_timeout(server.receive) == "via the reader"
    server.close()


def test_engine_io_s_connections_get_no_reader_unless_they_ping_on_their_own():
    class WebSocketWSGI(simple_websocket_wsgi()):
        def __init__(self, handler, server, **kwargs):
            super().__init__(handler, server, thread_class=gevent.Greenlet, **kwargs)

    inline_reads.without_readers(WebSocketWSGI)
    assert WebSocketWSGI(None, None).server_args["thread_class"] is NoReader
    pinging = WebSocketWSGI(None, None, ping_interval=25)
    assert pinging.server_args["thread_class"] is gevent.Greenlet


def test_a_handler_s_return_finishes_only_inline_connections():
    finished = []

    class Websocket:
        thread = NoReader()

        def wall_finish_inline(self):
            finished.append(self)

    class Session:
        def _websocket_handler(self, ws):
            return ["done"]

    inline_reads.finish_on_return(Session)
    inline = SimpleNamespace(ws=Websocket())
    assert Session()._websocket_handler(inline) == ["done"]
    assert Session()._websocket_handler(SimpleNamespace(ws=object())) == ["done"]
    assert finished == [inline.ws]


def simple_websocket_wsgi():
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    return SimpleWebSocketWSGI
