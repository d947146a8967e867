"""Fast unmasking of client WebSocket frames for eventlet's server.

eventlet XORs each payload byte with the mask in a Python generator, about
0.1 us a byte: a 300-byte post costs more to unmask than to store. The same
XOR over the whole payload as one integer costs next to nothing. ``app.py``
installs it under eventlet; the package never imports eventlet itself.
"""


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
    """Replace ``RFC6455WebSocket._apply_mask`` in ``eventlet.websocket``."""
    websocket_module.RFC6455WebSocket._apply_mask = staticmethod(unmask)
