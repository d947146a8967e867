"""A fuzz run over the packet path: no packet makes the guard raise or breaks the server.

Raw engine.io message payloads, from random bytes to near-valid Socket.IO
packets, go through the same handler the server installs for every message.
The run is bounded by an example count that takes a few seconds here.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wall import create_app, socketio, stop_app

from ...support.helpers import make_config

near_valid = st.builds(
    lambda kind, attach, ns, ack, body: "%s%s%s%s%s" % (kind, attach, ns, ack, body),
    st.sampled_from(list("0123456789") + ["", "x", "-"]),
    st.sampled_from(["", "1-", "9999999999-", "-", "12345678901-"]),
    st.sampled_from(["", "/wall,", "/wall", "/", "/other,", "/wall?x=1,"]),
    st.sampled_from(["", "1", "9" * 30, "0x"]),
    st.one_of(
        st.text(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=10,
        ).map(json.dumps),
        st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    ),
)
packets = near_valid | st.text(max_size=300) | st.binary(max_size=300)


@pytest.fixture(scope="module")
def fuzz_app(redis_server):
    app = create_app(make_config(redis_server.url))
    yield app
    stop_app(app)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=packets)
def test_no_packet_escapes_the_guard(fuzz_app, data):
    attacker = socketio.test_client(fuzz_app, namespace="/wall")
    handler = socketio.server.eio.handlers["message"]
    handler(attacker.eio_sid, data)  # must not raise
    # whatever it did to its own session, a fresh client is served
    fresh = socketio.test_client(fuzz_app, namespace="/wall")
    try:
        reply = fresh.emit("join", {"wall": "fuzz"}, namespace="/wall", callback=True)
        assert reply["ok"] is True
    finally:
        for client in (attacker, fresh):
            if client.is_connected("/wall"):
                client.disconnect("/wall")
