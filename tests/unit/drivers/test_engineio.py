"""wall/drivers/engineio.py: engine.io's answers to input it cannot handle."""

import logging

import engineio.packet
import pytest

from wall.drivers import engineio as driver


@pytest.mark.parametrize(
    "data", ["4hello", "2probe", "5", "9", "\u0663", "bAAEC", "b!", b"", b"\x00"]
)
def test_what_engine_io_decodes_is_decodable(data):
    engineio.packet.Packet(encoded_packet=data)  # the library agrees
    assert driver.decodable(data)


@pytest.mark.parametrize("data", ["", "x", "{}", "\u00b2", "bA"])
def test_what_engine_io_cannot_decode_is_not(data):
    with pytest.raises(ValueError):
        engineio.packet.Packet(encoded_packet=data)
    assert not driver.decodable(data)


def test_an_undecodable_message_ends_the_handler_s_loop_as_a_close():
    class Socket:
        def _websocket_handler(self, ws):
            received = []
            while (data := ws.wait()) is not None:
                received.append(data)
            return received

    class WebSocket:
        def __init__(self, frames):
            self.frames = list(frames)

        def wait(self):
            return self.frames.pop(0) if self.frames else None

    driver.close_on_undecodable(Socket)
    assert Socket()._websocket_handler(WebSocket(["40/wall,", "", "4late"])) == ["40/wall,"]
    # a text frame that is not UTF-8 fails in the WebSocket's own decoding
    not_utf8 = UnicodeDecodeError("utf-8", b"\xed", 0, 1, "invalid continuation byte")

    class Undecodable(WebSocket):
        def wait(self):
            frame = super().wait()
            if isinstance(frame, Exception):
                raise frame
            return frame

    assert Socket()._websocket_handler(Undecodable(["2probe", not_utf8, "5"])) == ["2probe"]


def test_offences_are_logged_once_per_period(caplog):
    once = driver.OncePer("bad things", every=3600)
    with caplog.at_level(logging.WARNING, logger="wall.drivers.engineio"):
        for i in range(5):
            once("offence %d" % i)
    assert [r.getMessage() for r in caplog.records] == [
        "bad things: 1 in the last 0 s (latest: offence 0)"
    ]


def test_a_request_to_a_closed_session_is_refused_as_an_unknown_one():
    import engineio

    server = engineio.Server(async_mode="threading")
    server.sockets.update({"open": type("S", (), {"closed": False})()})
    server.sockets["gone"] = type("S", (), {"closed": True})()
    assert driver.closed_session(server, {"QUERY_STRING": "EIO=4&transport=polling&sid=gone"})
    assert (
        driver.closed_session(server, {"QUERY_STRING": "EIO=4&transport=polling&sid=open"}) is None
    )
    assert driver.closed_session(server, {"QUERY_STRING": "EIO=4&transport=polling"}) is None


# -- polling refusals ----------------------------------------------------------


def polling_request(server, method, query, body=b""):
    """One WSGI request to a real engine.io server: (status, body)."""
    import io

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/engine.io/",
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
    }
    status = []
    reply = b"".join(server.handle_request(environ, lambda s, headers: status.append(s)))
    return status[0], reply


@pytest.fixture
def polling_server():
    import engineio

    server = engineio.Server(async_mode="threading", max_http_buffer_size=10_000)
    yield server
    server.shutdown()


def open_polling_session(server):
    import json

    status, reply = polling_request(server, "GET", "EIO=4&transport=polling")
    assert status == "200 OK" and reply.startswith(b"0"), (status, reply)
    return json.loads(reply[1:])["sid"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "body",
    [b"9", b"4ok\x1e7", b"4" * 10_001, b"\xff\xfe", b"x", b"4" + b"[" * 5000],
    ids=["unknown type", "bad after good", "too long", "not UTF-8", "not packets", "too deep"],
)
def test_a_refused_polling_post_is_answered_400_at_once_and_its_session_closed(
    polling_server, body
):
    import threading

    driver.install()
    assert driver.POLLING_REFUSALS.active
    sid = open_polling_session(polling_server)
    answered = []
    post = threading.Thread(
        target=lambda: answered.append(
            polling_request(polling_server, "POST", "EIO=4&transport=polling&sid=" + sid, body)
        ),
        daemon=True,
    )
    post.start()
    post.join(5)  # the library's own waited for a GET that never comes
    assert answered, "the POST was never answered"
    assert answered[0][0] == "400 BAD REQUEST", answered
    assert sid not in polling_server.sockets
