"""The listening socket's options, which what it accepts inherits (wall/drivers)."""

import socket

from wall.drivers import no_delay


def test_accepted_connections_have_nagle_off():
    listener = socket.socket()
    try:
        no_delay(listener)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname(), timeout=5)
        accepted, _ = listener.accept()
        with client, accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        listener.close()


def test_a_unix_listener_is_left_alone():
    listener = socket.socket(socket.AF_UNIX)
    with listener:
        no_delay(listener)  # no TCP options on a Unix socket: no error
