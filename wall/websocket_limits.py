"""Cap whole WebSocket messages, not just frames, in the async libraries' servers.

eventlet checks each frame against ``max_frame_length`` but joins the
fragments of a message without limit, and the simple-websocket server used
under gevent gets no limit from engine.io at all, so one client could make
the server hold any amount of memory before engine.io's own size check ran.
``app.py`` applies the matching patch to the library it chose; the package
never imports either library itself.
"""


def cap_eventlet_messages(websocket_module):
    """Fail an eventlet WebSocket whose message grows past ``max_frame_length``.

    :param websocket_module: ``eventlet.websocket``, already imported.
    """
    message_class = websocket_module.RFC6455WebSocket.Message
    if getattr(message_class, "_wall_capped", False):
        return
    push = message_class.push

    def capped_push(self, data, final=False):
        self.size = getattr(self, "size", 0) + len(data)
        if self.size > self.max_frame_length:
            raise websocket_module.FailedConnectionError(
                1009, "Message above the length limit of %d bytes." % self.max_frame_length
            )
        return push(self, data, final)

    message_class.push = capped_push
    message_class._wall_capped = True


def cap_simple_websocket_messages(driver_module):
    """Give engine.io's simple-websocket server its ``max_message_size``.

    :param driver_module: ``engineio.async_drivers.gevent``, already imported.
    """
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    cls = driver_module.WebSocketWSGI
    if getattr(cls, "_wall_capped", False) or not issubclass(cls, SimpleWebSocketWSGI):
        return  # already done, or gevent-websocket serves (it has its own limit)
    init = cls.__init__

    def capped_init(self, handler, server):
        init(self, handler, server)
        self.server_args["max_message_size"] = int(server.max_http_buffer_size)

    cls.__init__ = capped_init
    cls._wall_capped = True
