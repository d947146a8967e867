"""Reading client WebSocket frames under eventlet: fewer syscalls, fast unmasking.

eventlet reads each incoming frame in three or four ``recv`` calls (header,
length, mask, payload), each a syscall and often a trip through the hub,
and then XORs the payload with the mask one byte at a time in a Python
generator, about 0.1 us a byte: a 300-byte post cost more to read than to
store. Here each WebSocket reads what the kernel has in one call and hands
it out from that buffer, and unmasks the whole payload as one integer.
``app.py`` installs both under eventlet; the package never imports eventlet.
"""

READ_SIZE = 16384


class BufferedReceiver:
    """A socket whose ``recv`` serves from one read of up to :data:`READ_SIZE` bytes.

    Everything else (``sendall``, ``fd``, ``close``...) is the wrapped socket's.
    """

    __slots__ = ("_sock", "_buf", "_pos")

    def __init__(self, sock):
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, size):
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            buf = self._sock.recv(max(size, READ_SIZE))
            if not buf:
                return buf
            self._buf, pos = buf, 0
        end = min(pos + size, len(buf))
        self._pos = end
        return buf[pos:end]

    def __getattr__(self, name):
        return getattr(self._sock, name)


def unmask(data, mask, length=None, offset=0):
    """``data`` XOR the 4-byte ``mask`` started at ``offset`` (RFC 6455 5.3)."""
    if length is None:
        length = len(data)
    if not length:
        return b""
    key = bytes(mask)
    shift = offset % 4
    key = key[shift:] + key[:shift]
    key = (key * (length // 4 + 1))[:length]
    value = int.from_bytes(data[:length], "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(length, "little")


def speed_up_eventlet(websocket_module):
    """Patch ``eventlet.websocket.RFC6455WebSocket``: buffered reads (server side) and ``unmask``."""
    cls = websocket_module.RFC6455WebSocket
    if getattr(cls, "_wall_fast_reads", False):
        return
    cls._apply_mask = staticmethod(unmask)
    init = cls.__init__

    def buffered_init(self, sock, *args, **kwargs):
        init(self, sock, *args, **kwargs)
        if not self.client:
            self.socket = BufferedReceiver(self.socket)

    cls.__init__ = buffered_init
    cls._wall_fast_reads = True
