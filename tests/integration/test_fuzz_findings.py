"""What ``make fuzz`` found, each as the behaviour docs/protocol.md promises.

Each test is the smallest reproduction of a fuzz failure
(tests/reliability/fuzz.py). A new finding comes here marked
``xfail(strict=True)`` with a reason saying where it breaks; when the
product is fixed the test passes, pytest reports XPASS as a failure, and
the mark goes.
"""

import asyncio
import json
import signal
import socket
import subprocess
import time

import pytest
import requests

from ..support import raw_websocket as raw
from ..support.aio_client import AioWallClient

pytestmark = pytest.mark.server

POLLING = "/socket.io/?EIO=4&transport=polling"


def read_all(sock, timeout=2.0):
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def host_port(server):
    """``(host, port)`` of a test server, as text."""
    host, port = server.url.split("//")[1].split(":")
    return host, port


def raw_reply(server, request):
    """Send ``request`` (text) over a plain TCP connection; what the server sent back."""
    host, port = host_port(server)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        return read_all(sock)


def polling_session(url):
    """A long-polling session connected to ``/wall``: ``(requests session, its URL)``."""
    http = requests.Session()
    opening = http.get(url + POLLING, timeout=5).text
    sid = json.loads(opening.split("\x1e")[0][1:])["sid"]
    session_url = url + POLLING + "&sid=" + sid
    assert http.post(session_url, data="40/wall,", timeout=5).status_code == 200
    assert http.get(session_url, timeout=5).text.startswith("40/wall,")
    return http, session_url


def server_log(server):
    with open(server.log_path, errors="replace") as f:
        return f.read()


@pytest.mark.parametrize("message", [b"", b"x", b"{}"], ids=["empty", "letter", "json"])
def test_an_undecodable_websocket_message_gets_no_traceback(server, message):
    sock = raw.wall_session(server.url)
    try:
        sock.sendall(raw.frame(message))
        received = read_all(sock)
    finally:
        sock.close()
    assert b"Traceback" not in received and b" 500 " not in received, received[-600:]


def test_a_post_after_the_client_closed_its_session_is_no_500(server):
    http, url = polling_session(server.url)
    assert http.post(url, data="1", timeout=5).status_code == 200  # engine.io close
    reply = http.post(url, data="40/wall,", timeout=5)
    assert reply.status_code == 400 and "Traceback" not in reply.text, reply.text[-600:]


@pytest.mark.parametrize(
    "body",
    [b"6", b"2", b"4" + b"x" * 70_000],
    ids=["noop", "ping", "over 64 KiB"],
)
def test_a_rejected_polling_post_is_answered(server, body):
    http, url = polling_session(server.url)
    try:
        reply = http.post(url, data=body, timeout=3)
    except requests.Timeout:
        server.kill()  # its drain would wait for the stuck POST until SIGKILL anyway
        pytest.fail("no answer to a POST of %r" % body[:20])
    assert reply.status_code in (200, 400, 413)


@pytest.mark.parametrize(
    "drop", ["Sec-WebSocket-Version", "Connection"], ids=["no version", "no connection"]
)
def test_a_bad_upgrade_request_is_a_400(server, drop):
    host, port = host_port(server)
    headers = {
        "Host": "%s:%s" % (host, port),
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    del headers[drop]
    request = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
    request += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    reply = raw_reply(server, request)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:600]


def test_a_non_ascii_subprotocol_on_the_echo_socket_is_no_500(server):
    host, port = host_port(server)
    request = (
        "GET /ws/echo HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: \u00e9\r\n\r\n" % (host, port)
    )
    reply = raw_reply(server, request)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    assert b'"error":"invalid"' in reply.replace(b" ", b""), reply[-300:]


@pytest.mark.parametrize("path", ["/ws/echo", "/socket.io/?EIO=4&transport=websocket"])
def test_a_websocket_handshake_without_host_is_no_500(server, path):
    """The 100,000-input fuzz run: wsproto refuses it, and /ws/echo answered 500."""
    request = (
        "GET %s HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % path
    )
    reply = raw_reply(server, request)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    assert b"Traceback" not in reply and b"internal" not in reply


@pytest.mark.parametrize("path", ["/ws/echo", "/socket.io/?EIO=4&transport=websocket"])
def test_a_websocket_handshake_with_a_header_http_forbids_is_no_500(server, path):
    """The 100,000-input fuzz run (seed 183961113): eventlet passed the header
    on, wsproto refused it at /ws/echo, which answered 500."""
    host, port = host_port(server)
    request = (
        "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: kW7oCl/WRMLvR9WCr+WhVA==\r\nSec-WebSocket-Version: 13\r\n"
        "<script>alert(1)</script>: Y-\r\n\r\n" % (path, host, port)
    )
    reply = raw_reply(server, request)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    assert b"only carry headers that HTTP allows" in reply, reply[-300:]


@pytest.mark.parametrize(
    "query",
    ["before=0-0", "after=18446744073709551615-18446744073709551615"],
    ids=["before the first id", "after the last id"],
)
def test_edge_post_ids_are_no_outage(server, query):
    reply = requests.get(server.url + "/api/walls/edge/posts?" + query, timeout=5)
    assert reply.status_code in (200, 400), reply.text


def test_a_join_after_the_last_possible_id_is_no_outage(server):
    async def join():
        client = await AioWallClient(server.url).connect()
        try:
            after = "18446744073709551615-18446744073709551615"
            return await client.call("join", {"wall": "edge", "after": after})
        finally:
            await client.close()

    reply = asyncio.run(join())
    assert reply.get("error") != "unavailable", reply


def test_a_client_event_named_disconnect_is_an_unknown_event(server, make_client, wall_name):
    poster = make_client(server)
    sock = raw.wall_session(server.url)
    try:
        sock.sendall(raw.frame('42/wall,1["join",{"wall":"%s"}]' % wall_name))
        sock.sendall(raw.frame('42/wall,2["disconnect",{}]'))
        received = b""
        sock.settimeout(5)
        while b"43/wall,2" not in received:
            received += sock.recv(65536)
        ack = received[received.index(b"43/wall,2") + len(b"43/wall,2") :].split(b"\x81")[0]
        post = poster.post(wall_name, "still there?")
        assert post["ok"]
        later = read_all(sock, timeout=1.0)
    finally:
        sock.close()
    assert ack.startswith(b'[{"ok":false,"error":"unknown_event"'), ack
    assert post["post"]["id"].encode() in later, "the socket left its wall"


def test_a_bad_polling_body_logs_no_traceback(server):
    http, url = polling_session(server.url)
    # not UTF-8, not packets, a lone surrogate, nested past the JSON parser's
    # limit (engine.io parses every packet's data as JSON: a RecursionError)
    for body in (b"\xff\xfe", b"x" * 10, b"4\xed\xa0\x80", b"4" + b"[" * 50_000):
        assert http.post(url, data=body, timeout=5).status_code == 400
        http, url = polling_session(server.url)
    log = server_log(server)
    assert "Traceback" not in log
    assert log.count("POST body engine.io cannot decode") == 1, log[-2000:]


@pytest.mark.parametrize("extra", [100, 10**6], ids=["short body", "over the size limit"])
def test_sigterm_exits_while_a_client_holds_a_post_whose_body_never_comes(server, extra):
    # eventlet reads (or, past engine.io's limit, discards) the body the
    # Content-Length announces, for as long as the client keeps the
    # connection open; its server waits for every request before it exits
    http, url = polling_session(server.url)
    host, port = host_port(server)
    path = url.split(server.url, 1)[1]
    body = b"40/wall,"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n%s"
            % (path.encode(), host.encode(), port.encode(), len(body) + extra, body)
        )
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        try:
            status = server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("still running 10 s after SIGTERM")
    assert status == 0


def test_an_origin_with_a_port_that_is_no_number_is_refused_not_a_500(server):
    # two Origin headers arrive joined ("http://a:1,null"); urlsplit raised on the port
    host, port = host_port(server)
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s:%s\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Origin: http://%s:1\r\nOrigin: null\r\n\r\n" % (host, port, host)
    )
    reply = raw_reply(server, request)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    polling = requests.get(
        server.url + POLLING, headers={"Origin": "http://%s:x" % host}, timeout=5
    )
    assert polling.status_code == 400, polling.text
