"""Validation as parametrized tables: what is accepted, cleaned and refused."""

import pytest

from wall import validation
from wall.errors import Invalid


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("main", "main"), ("News", "news"), (" a-1 ", "a-1"), ("x" * 40, "x" * 40)],
)
def test_wall_name_accepts(raw, clean):
    assert validation.wall_name(raw) == clean


@pytest.mark.parametrize("raw", ["", "x" * 41, "a b", "a_b", "été", "a/b", "..", None, 5, ["main"]])
def test_wall_name_refuses(raw):
    with pytest.raises(Invalid):
        validation.wall_name(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ann", "ann"),
        ("  ann  ", "ann"),
        ("e\u0301" * 32, "\u00e9" * 32),  # 64 code points, 32 after NFC
        ("👩‍💻", "👩‍💻"),  # ZWJ sequence kept
        ("<script>", "<script>"),
        ("x" * 32, "x" * 32),
    ],
)
def test_username_accepts(raw, clean):
    assert validation.username(raw) == clean


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 33, "limit is 32"),
        ("x" * 10000, "limit is 32"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("a\x1bb", "control"),
        ("a\ud800b", "surrogate"),
        ("evil\u202etxt", "direction"),
        ("a\u2067b", "direction"),
        (None, "string"),
        (12, "string"),
        ({"a": 1}, "string"),
    ],
)
def test_username_refuses(raw, why):
    with pytest.raises(Invalid, match=why):
        validation.username(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("hello", "hello"),
        ("line 1\nline 2", "line 1\nline 2"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("abc\u202edef", "abc\u202edef"),  # kept; the page isolates it
        ("x" * 1000, "x" * 1000),
        ("e\u0301" * 1000, "\u00e9" * 1000),
        ('<img src=x onerror="alert(1)">', '<img src=x onerror="alert(1)">'),
    ],
)
def test_message_accepts(raw, clean):
    assert validation.message(raw) == clean


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("x" * 1001, "limit is 1000"),
        ("a\x00b", "control"),
        ("a\tb", "control"),
        ("a\x7fb", "control"),
        ("\udfff", "surrogate"),
        (["x"], "string"),
    ],
)
def test_message_refuses(raw, why):
    with pytest.raises(Invalid, match=why):
        validation.message(raw)


@pytest.mark.parametrize("raw", ["a", "x" * 64, "9f1c-22.b:c_d", None])
def test_client_id_accepts(raw):
    assert validation.client_id(raw) == raw


@pytest.mark.parametrize("raw", ["", "x" * 65, "a b", "é", 5, {"a": 1}])
def test_client_id_refuses(raw):
    with pytest.raises(Invalid, match="client_id"):
        validation.client_id(raw)


@pytest.mark.parametrize(
    ("raw", "clean"), [("1-0", "1-0"), ("1700000000000-12", "1700000000000-12"), ("01-02", "1-2")]
)
def test_post_id_accepts(raw, clean):
    assert validation.post_id(raw) == clean


@pytest.mark.parametrize(
    "raw", ["", "1", "-1-0", "1-", "a-b", "1-0-0", "99999999999999999999-0", 5, None]
)
def test_post_id_refuses(raw):
    with pytest.raises(Invalid):
        validation.post_id(raw)


@pytest.mark.parametrize(("raw", "clean"), [(None, 50), ("1", 1), ("200", 200), (7, 7)])
def test_page_limit_accepts(raw, clean):
    assert validation.page_limit(raw) == clean


@pytest.mark.parametrize("raw", ["0", "201", "-1", "ten", "1.5", True, 2.0, "٣"])
def test_page_limit_refuses(raw):
    with pytest.raises(Invalid):
        validation.page_limit(raw)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (None, "JSON object"),
        ("hello", "JSON object"),
        ([1, 2], "JSON object"),
        ({"username": "a", "message": "b"}, "'wall'"),
        ({"wall": "main", "message": "b"}, "'username'"),
        ({"wall": "main", "username": "a"}, "'message'"),
        ({"wall": "main", "username": None, "message": "b"}, "string"),
        ({"wall": "main", "username": "a", "message": {"deep": [1]}}, "string"),
    ],
)
def test_new_post_refuses(data, why):
    with pytest.raises(Invalid, match=why):
        validation.new_post(data)


def test_new_post_ignores_unknown_fields():
    data = {"wall": "Main", "username": " ann ", "message": "hi", "extra": [1], "client_id": "c1"}
    assert validation.new_post(data) == ("main", "ann", "hi", "c1")


HANDSHAKE = {
    "HTTP_HOST": "wall.example",
    "HTTP_UPGRADE": "websocket",
    "HTTP_CONNECTION": "keep-alive, Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
    "HTTP_SEC_WEBSOCKET_VERSION": "13",
}


def test_a_websocket_handshake_passes():
    validation.websocket_handshake(HANDSHAKE)
    validation.websocket_handshake({**HANDSHAKE, "HTTP_SEC_WEBSOCKET_PROTOCOL": "chat, v2"})
    # what browsers send: any token as a name, latin-1 (obs-text) in a value
    validation.websocket_handshake(
        {**HANDSHAKE, "HTTP_X_B3_TRACE~ID": "1", "HTTP_COOKIE": "a=\u00e9"}
    )


@pytest.mark.parametrize(
    "change",
    [
        {"HTTP_UPGRADE": "h2c"},
        {"HTTP_CONNECTION": "keep-alive"},
        {"HTTP_SEC_WEBSOCKET_VERSION": "8"},
        {"HTTP_SEC_WEBSOCKET_KEY": "short"},
        {"HTTP_SEC_WEBSOCKET_PROTOCOL": "\u00c3\u00a9"},  # UTF-8 of e-acute, as WSGI decodes it
        {"HTTP_<SCRIPT>ALERT(1)</SCRIPT>": "Y-"},  # found by make fuzz: a 500 at /ws/echo
        {"HTTP_X_NOTE": "a\x01b"},
    ],
    ids=[
        "upgrade",
        "connection",
        "version",
        "key",
        "non-ascii protocol",
        "header name no token",
        "control character in a value",
    ],
)
def test_a_broken_websocket_handshake_is_invalid(change):
    with pytest.raises(Invalid):
        validation.websocket_handshake({**HANDSHAKE, **change})


@pytest.mark.parametrize(
    "drop", ["HTTP_HOST", "HTTP_CONNECTION", "HTTP_SEC_WEBSOCKET_VERSION", "HTTP_SEC_WEBSOCKET_KEY"]
)
def test_a_websocket_handshake_without_a_header_is_invalid(drop):
    environ = dict(HANDSHAKE)
    del environ[drop]
    with pytest.raises(Invalid):
        validation.websocket_handshake(environ)
