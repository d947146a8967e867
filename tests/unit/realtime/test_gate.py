"""The admission gate as a WSGI middleware, and its slow-session sweep."""

import json
import queue
from types import SimpleNamespace

import pytest

from wall.realtime.gate import ConnectionGate


class Session:
    """An engine.io session as far as the gate looks at it."""

    def __init__(self, queued=0):
        self.queue = queue.Queue()
        for _ in range(queued):
            self.queue.put(None)
        self.closed_with = None

    def close(self, wait=True, reason=None):
        self.closed_with = (wait, reason)


def make_gate(sessions=None, max_connections=3, per_address=2, max_queue=5, compression=False):
    eio = SimpleNamespace(
        sockets=dict(sessions or {}), reason=SimpleNamespace(SERVER_DISCONNECT="server disconnect")
    )
    socketio = SimpleNamespace(server=SimpleNamespace(eio=eio))
    seen = []

    def app(environ, start_response):
        seen.append(environ)
        start_response("200 OK", [])
        return [b"ok"]

    gate = ConnectionGate(
        app, socketio, max_connections, per_address, max_queue, compression=compression
    )
    return gate, seen, eio


def call(gate, path="/socket.io/", query="EIO=4&transport=polling", address="10.0.0.1", **extra):
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": address, **extra}
    status = []
    body = b"".join(gate(environ, lambda s, headers: status.append((s, dict(headers)))))
    return status[0][0], status[0][1], body


def test_new_sessions_are_let_in_until_the_process_is_full():
    gate, seen, eio = make_gate({"a": Session(), "b": Session()})
    assert call(gate)[0] == "200 OK"
    eio.sockets["c"] = Session()
    status, headers, body = call(gate)
    assert status.startswith("503") and headers["Retry-After"] == "5"
    assert json.loads(body) == {
        "error": "unavailable",
        "retry_after": 5,
        "message": "This server is full; try again shortly.",
    }
    # a request of an open session (with sid) always passes
    assert call(gate, query="EIO=4&transport=polling&sid=a")[0] == "200 OK"
    assert call(gate, path="/api/walls")[0] == "200 OK"  # and anything else
    assert gate.refused == 1


def test_a_draining_process_refuses_new_sessions():
    gate, _, _ = make_gate()
    gate.draining = True
    status, _, body = call(gate)
    assert status.startswith("503") and b"restarting" in body


def test_one_address_holds_at_most_its_share():
    gate, _, _ = make_gate(max_connections=100, per_address=2)
    handled = []
    for sid in ("s1", "s2"):
        gate.connected(sid, {"REMOTE_ADDR": "10.0.0.9"}, lambda *a: handled.append(a))
    assert len(handled) == 2
    status, _, body = call(gate, address="10.0.0.9")
    assert status.startswith("429") and json.loads(body)["error"] == "rate_limited"
    assert call(gate, address="10.0.0.8")[0] == "200 OK"  # another address
    gate.disconnected("s1", "gone", lambda *a: None)
    assert call(gate, address="10.0.0.9")[0] == "200 OK"


@pytest.mark.parametrize(("compression", "kept"), [(False, False), (True, True)])
def test_permessage_deflate_is_offered_only_when_on(compression, kept):
    gate, seen, _ = make_gate(compression=compression)
    call(gate, HTTP_SEC_WEBSOCKET_EXTENSIONS="permessage-deflate")
    assert ("HTTP_SEC_WEBSOCKET_EXTENSIONS" in seen[0]) is kept


def test_sessions_whose_queue_grew_past_the_limit_are_closed():
    slow, fine = Session(queued=6), Session(queued=5)
    gate, _, eio = make_gate({"slow": slow, "fine": fine}, max_queue=5)
    assert gate.close_slow_sessions() == 1
    assert slow.closed_with == (False, "server disconnect") and fine.closed_with is None
    assert "slow" not in eio.sockets and gate.slow_closed == 1


class HeaderClients:
    """Stands in for ClientCookies: the client is the X-Client header."""

    def from_environ(self, environ):
        return environ.get("HTTP_X_CLIENT")


def test_limits_go_by_client_first_with_a_higher_ceiling_per_address():
    gate, _, _ = make_gate(max_connections=1000, per_address=5)
    gate.per_client, gate.clients = 2, HeaderClients()
    for sid in ("a1", "a2"):
        gate.connected(sid, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_CLIENT": "ann"}, lambda *a: None)
    refused = call(gate, HTTP_X_CLIENT="ann")
    assert refused[0].startswith("429") and b"browser" in refused[2]
    # another browser behind the same address is let in, up to the address's ceiling
    assert call(gate, HTTP_X_CLIENT="bob")[0] == "200 OK"
    for sid in ("b1", "b2", "n1"):
        gate.connected(sid, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_CLIENT": sid[0]}, lambda *a: None)
    assert b"address" in call(gate, HTTP_X_CLIENT="carl")[2]
    gate.disconnected("a1", "gone", lambda *a: None)
    assert call(gate, HTTP_X_CLIENT="ann")[0] == "200 OK"  # one of ann's two, and room


@pytest.mark.timeout(10)
def test_refusals_are_the_json_api_s_error_bodies_byte_for_byte():
    # what socket.io-client and the integration tests have always read
    gate, _, _ = make_gate({"a": Session()}, max_connections=1)
    status, headers, body = call(gate)
    assert status == "503 Service Unavailable"
    assert body == (
        b'{"error": "unavailable", "message": "This server is full; try again shortly.", '
        b'"retry_after": 5}'
    )
    assert headers == {
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Retry-After": "5",
        "Cache-Control": "no-store",
    }
    gate, _, _ = make_gate(max_connections=10, per_address=1)
    gate.connected("s1", {"REMOTE_ADDR": "10.0.0.1"}, lambda *a: None)
    status, headers, body = call(gate)
    assert status == "429 Too Many Requests" and headers["Retry-After"] == "5"
    assert body == (
        b'{"error": "rate_limited", "message": "Too many connections from your address; '
        b'try again shortly.", "retry_after": 5}'
    )


@pytest.mark.timeout(10)
def test_the_gate_admits_no_more_than_the_open_file_limit_leaves_room_for(caplog):
    gate, _, eio = make_gate(max_connections=3)
    with caplog.at_level("WARNING", logger="wall.realtime.gate"):
        assert gate.fit_open_files(5, open_files=1000) == 3  # room enough: unchanged
        assert not caplog.records
        assert gate.fit_open_files(2, open_files=258) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "admitting at most 2 sessions (WALL_MAX_CONNECTIONS is 3): "
        "the open-file limit 258 allows no more"
    ]
    eio.sockets.update({"a": Session(), "b": Session()})
    assert call(gate)[0].startswith("503")
