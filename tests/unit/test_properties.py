"""Property-based tests: validation and handlers never fail on any input but with `invalid`."""

import re
import unicodedata
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wall import create_app, socketio, stop_app, validation
from wall.errors import Invalid

from ..support.helpers import make_config

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
texts = st.text(st.characters(codec=None), max_size=1200)  # surrogates, controls, bidi...
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@given(texts | json_values)
def test_username_is_clean_or_invalid(value):
    try:
        name = validation.username(value)
    except Invalid:
        return
    assert 1 <= len(name) <= validation.USERNAME_MAX
    assert name == unicodedata.normalize("NFC", name) == name.strip()
    assert not any(unicodedata.category(c) == "Cc" or c in BIDI for c in name)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in name)


@given(texts | json_values)
def test_message_is_clean_or_invalid(value):
    try:
        text = validation.message(value)
    except Invalid:
        return
    assert 1 <= len(text) <= validation.MESSAGE_MAX
    assert all(unicodedata.category(c) != "Cc" or c == "\n" for c in text)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@given(texts | json_values)
def test_other_fields_are_clean_or_invalid(value):
    for check in (
        validation.wall_name,
        validation.client_id,
        validation.post_id,
        validation.page_limit,
    ):
        try:
            check(value)
        except Invalid:
            pass


@pytest.fixture(scope="module")
def module_app(redis_server):
    app = create_app(make_config(redis_server.url))
    yield app
    stop_app(app)


FRESH = object()
KNOWN_ERRORS = {"invalid", "rate_limited", "unavailable", "unknown_event"}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=st.sampled_from(["join", "leave", "add to wall", "other"]), payload=json_values)
def test_handlers_answer_every_payload_with_a_clear_ack(module_app, event, payload):
    sc = socketio.test_client(module_app, namespace="/wall")
    try:
        reply = sc.emit(event, payload, namespace="/wall", callback=True)
        assert isinstance(reply, dict) and isinstance(reply["ok"], bool)
        if not reply["ok"]:
            assert reply["error"] in KNOWN_ERRORS and reply["message"]
    finally:
        sc.disconnect("/wall")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.fixed_dictionaries(
        {
            "wall": st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True),
            "username": texts,
            "message": texts,
        },
        # FRESH becomes a new uuid: a repeated id would rightly return the first post
        optional={
            "client_id": st.none()
            | st.just(FRESH)
            | st.text(max_size=70).filter(lambda t: not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", t))
        },
    )
)
def test_posts_that_pass_validation_are_stored_as_cleaned(module_app, payload):
    if payload.get("client_id") == FRESH:
        payload["client_id"] = str(uuid.uuid4())
    sc = socketio.test_client(module_app, namespace="/wall")
    try:
        reply = sc.emit("add to wall", payload, namespace="/wall", callback=True)
        try:
            expected = validation.new_post(payload)
        except Invalid:
            assert reply["ok"] is False and reply["error"] == "invalid"
            return
        assert reply["ok"] is True
        post = reply["post"]
        assert (post["wall"], post["username"], post["message"], post["client_id"]) == expected
    finally:
        sc.disconnect("/wall")
