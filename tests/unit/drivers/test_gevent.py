"""wall/drivers/gevent.py: simple-websocket gets engine.io's message size limit."""

from types import SimpleNamespace

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

from wall.drivers import gevent as driver


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
