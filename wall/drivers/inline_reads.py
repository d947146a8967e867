"""simple-websocket's reads in the greenlet that waits for them (gevent).

simple-websocket gives every connection a reader thread (a greenlet under
gevent) that reads the socket, parses with wsproto and hands each message
to ``receive`` through an event, and engine.io calls ``receive`` from the
request's own greenlet, which loops on it for the connection's life. So
every incoming message woke two greenlets one after the other (the reader,
then, through the hub, the request's), and every idle connection held a
second greenlet with its saved stack. Here no reader is started: the
request's greenlet reads and parses in ``receive`` itself, with the
reader's loop body (the same ``recv``, ``receive_data`` and
``_handle_events``, so pings, close frames and the message cap behave as
they did), and closes the socket where a read ended the connection, as
the reader's loop did.

What the reader did while nobody called ``receive`` differs:

- While a message's handler runs, nothing reads: a ping, a close frame or
  the client's going away are seen at the next ``receive`` (the kernel's
  buffer holds what arrives meanwhile, where the reader buffered it
  without limit).
- A WebSocket closed by the server (from another greenlet) is not read
  until its handler returns; then a greenlet reads what the client still
  sends, up to its answering close frame, for at most
  :data:`DRAIN_SECONDS`, before the socket closes, so that unread bytes do
  not turn the close into a reset that could cut off the close frame
  itself. A WebSocket its handler leaves open (an upgrade that failed, a
  message engine.io refused) is closed first, in that greenlet too.

Only for connections whose simple-websocket has no ping interval of its
own (engine.io sets none: it pings in its own protocol); any other keeps
its reader.
"""

import logging

from . import Target, replaces

log = logging.getLogger(__name__)

#: how long a closed WebSocket waits for its client's last frame
DRAIN_SECONDS = 5.0

TARGETS = [
    # creates the reader from thread_class (and names it), starts it last
    Target(
        "simple_websocket.ws",
        "Base.__init__",
        "simple-websocket",
        "25f57ef0b5f8",
        sets=("thread", "input_buffer", "connected", "sock", "ws", "receive_bytes"),
    ),
    # replaced below for inline connections; the loop and the buffer it waits on
    Target("simple_websocket.ws", "Base.receive", "simple-websocket", "c7165a4fb69e"),
    Target("simple_websocket.ws", "Base._thread", "simple-websocket", "da9a912028a4"),
    Target("simple_websocket.ws", "Base._handle_events", "simple-websocket", "fa982a271583"),
    Target("simple_websocket.ws", "Base.close", "simple-websocket", "c3b710ade527"),
    # engine.io makes each connection's simple_websocket.Server from server_args,
    # where its gevent driver puts its Thread
    Target(
        "engineio.async_drivers._websocket_wsgi",
        "SimpleWebSocketWSGI.__init__",
        "python-engineio",
        "658724d7a30a",
        sets=("server_args",),
    ),
    Target(
        "engineio.async_drivers.gevent", "WebSocketWSGI.__init__", "python-engineio", "96aa95db6499"
    ),
    # and passes it on; engine.io's wait turns ConnectionClosed into None,
    # its close checks connected
    Target(
        "simple_websocket.ws",
        "Server.__init__",
        "simple-websocket",
        "daea66f7fe24",
        sets=("environ", "mode"),
    ),
    Target(
        "engineio.async_drivers._websocket_wsgi",
        "SimpleWebSocketWSGI.wait",
        "python-engineio",
        "596e6ed5f73c",
    ),
    Target(
        "engineio.async_drivers._websocket_wsgi",
        "SimpleWebSocketWSGI.close",
        "python-engineio",
        "f2623784599b",
    ),
    Target(
        "engineio.async_drivers._websocket_wsgi",
        "SimpleWebSocketWSGI.__call__",
        "python-engineio",
        "bab910f5249d",
        sets=("ws",),
    ),
    # the session's handler, which ends when the connection is done with
    Target("engineio.socket", "Socket._websocket_handler", "python-engineio", "58afe1227192"),
]


class NoReader:
    """What simple-websocket takes for its reader thread: it is never started."""

    __slots__ = ("name",)

    def __init__(self, target=None, **kwargs):
        self.name = "inline-reads"

    def start(self):
        pass

    def join(self, timeout=None):
        pass

    def is_alive(self):
        return False


def inline(websocket):
    """True if ``websocket`` (simple-websocket's) has no reader of its own."""
    return type(getattr(websocket, "thread", None)) is NoReader


def read_inline(base_class, protocol_errors, timeout_class, spawn):
    """Replace ``receive`` of ``base_class`` (simple-websocket's ``Base``) for
    connections without a reader.

    :param protocol_errors: what the reader's loop caught besides OSError
        (wsproto's ``LocalProtocolError``).
    :param timeout_class: ``gevent.Timeout``, for a ``receive(timeout)``.
    :param spawn: ``gevent.spawn``, for the last read of a closed WebSocket.
    """
    receive = base_class.receive
    caught = (OSError,) + tuple(protocol_errors)

    @replaces(receive)
    def inline_receive(self, timeout=None):
        if not inline(self):
            return receive(self, timeout)
        if not self.input_buffer and self.connected:
            if timeout is None:
                _read_until_message(self, caught)
            else:
                with timeout_class(timeout, False):
                    _read_until_message(self, caught)
        if self.input_buffer:
            return self.input_buffer.pop(0)
        if self.connected:
            return None  # the timeout passed
        # closed: by a read (its socket is closed), or by the server, whose
        # socket the handler's return drains
        return receive(self, 0)  # raises ConnectionClosed, as the reader's end made it

    base_class.receive = inline_receive
    base_class.wall_socket_closed = False
    base_class.wall_finish_inline = lambda self: _finish(self, caught, timeout_class, spawn)


def _read_until_message(websocket, caught):
    # the body of simple-websocket's reader loop (without its pings: an
    # inline connection has none); a read that ends the connection closes
    # the socket, as the reader's loop did after it
    while websocket.connected and not websocket.input_buffer:
        try:
            _read_once(websocket)
        except caught:
            websocket.connected = False
        if not websocket.connected:
            _end(websocket)


def _read_once(websocket):
    data = websocket.sock.recv(websocket.receive_bytes)
    if not data:
        raise OSError()
    websocket.ws.receive_data(data)
    websocket.connected = websocket._handle_events()


def _end(websocket):
    # where the reader's loop ended: its socket closes
    if not websocket.wall_socket_closed:
        websocket.wall_socket_closed = True
        websocket.sock.close()


def _finish(websocket, caught, timeout_class, spawn):
    """The session's handler returned: close what the reader would have closed.

    In a greenlet of its own, so that a handler ending (a server's stop kills
    them) never waits for a slow client's socket.
    """
    if not websocket.wall_socket_closed:
        spawn(_close_and_drain, websocket, caught, timeout_class)


def _close_and_drain(websocket, caught, timeout_class):
    try:
        with timeout_class(DRAIN_SECONDS, False):
            if websocket.connected:
                try:
                    websocket.close()
                except Exception:  # the socket is gone; nothing left to tell the client
                    websocket.connected = False
            # until the client's close frame (or anything else that ends the
            # connection for wsproto), its end of the connection, or an
            # error; what it sent before is dropped
            keep_going = True
            while keep_going:
                try:
                    data = websocket.sock.recv(websocket.receive_bytes)
                    if not data:
                        break
                    websocket.ws.receive_data(data)
                    keep_going = websocket._handle_events()
                except caught:
                    break
                finally:
                    websocket.input_buffer.clear()
    finally:
        _end(websocket)


def without_readers(wsgi_class):
    """engine.io's simple-websocket connections start no reader thread.

    :param wsgi_class: ``engineio.async_drivers.gevent.WebSocketWSGI``, the
        gevent driver's subclass of ``SimpleWebSocketWSGI``.
    """
    init = wsgi_class.__init__

    @replaces(init)
    def init_without_reader(self, handler, server, **kwargs):
        init(self, handler, server, **kwargs)
        if not self.server_args.get("ping_interval"):
            self.server_args["thread_class"] = NoReader

    wsgi_class.__init__ = init_without_reader


def finish_on_return(engineio_socket_class):
    """When a session's WebSocket handler returns, finish its inline connection."""
    handler = engineio_socket_class._websocket_handler

    @replaces(handler)
    def websocket_handler(self, ws):
        try:
            return handler(self, ws)
        finally:
            websocket = getattr(ws, "ws", None)
            if inline(websocket):
                try:
                    websocket.wall_finish_inline()
                except Exception:
                    log.exception("closing an inline WebSocket failed")

    engineio_socket_class._websocket_handler = websocket_handler
