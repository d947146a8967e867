"""Validation of everything a client sends, as pure functions.

Each function takes the raw value from a JSON payload and returns the clean
value, or raises :class:`wall.errors.Invalid` with a message meant for a
person. Lengths are counted in code points after trimming and Unicode NFC,
exactly as the browser client counts them.
"""

import re
import unicodedata

from .errors import Invalid

WALL_NAME_MAX = 40
USERNAME_MAX = 32
MESSAGE_MAX = 1000
CLIENT_ID_MAX = 64
PAGE_DEFAULT = 50
PAGE_MAX = 200

_WALL_NAME = re.compile(r"[a-z0-9-]{1,%d}" % WALL_NAME_MAX)
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,%d}" % CLIENT_ID_MAX)
_POST_ID = re.compile(r"(\d{1,20})-(\d{1,20})")
_U64 = 2**64

# Embedding, override and isolate controls: they would let a name reorder
# the text around it, so names refuse them (messages keep them, isolated).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def wall_name(value):
    """Return the case-folded wall name, or raise Invalid."""
    if not isinstance(value, str):
        raise Invalid("The wall name must be a string.")
    name = value.strip().lower()
    if not _WALL_NAME.fullmatch(name):
        raise Invalid("A wall name is 1 to %d characters of a-z, 0-9 and '-'." % WALL_NAME_MAX)
    return name


def username(value):
    """Return the clean username (1 to 32 code points), or raise Invalid."""
    clean = text(value, "name", USERNAME_MAX, newlines=False)
    if any(ch in _BIDI_CONTROLS for ch in clean):
        raise Invalid("The name may not contain text-direction control characters.")
    return clean


def message(value):
    """Return the clean message (1 to 1000 code points), or raise Invalid."""
    return text(value, "message", MESSAGE_MAX, newlines=True)


def client_id(value):
    """Return the client id (or None when absent), or raise Invalid."""
    if value is None:
        return None
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        raise Invalid(
            "client_id is 1 to %d characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'."
            % CLIENT_ID_MAX
        )
    return value


def post_id(value, field="id"):
    """Return a Redis stream id such as ``1700000000000-0``, or raise Invalid."""
    if not isinstance(value, str):
        raise Invalid("%s must be a post id such as 1700000000000-0." % field)
    match = _POST_ID.fullmatch(value)
    if not match or any(int(part) >= _U64 for part in match.groups()):
        raise Invalid("%s must be a post id such as 1700000000000-0." % field)
    return "%d-%d" % (int(match.group(1)), int(match.group(2)))


def optional_post_id(value, field):
    """Like :func:`post_id`, but None (or absent) stays None."""
    return None if value is None else post_id(value, field)


def page_limit(value):
    """Return a page size from 1 to 200 (default 50), or raise Invalid."""
    if value is None:
        return PAGE_DEFAULT
    if isinstance(value, str) and value.isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PAGE_MAX:
        raise Invalid("limit must be a whole number from 1 to %d." % PAGE_MAX)
    return value


def payload(value, what):
    """Return the payload if it is a JSON object, or raise Invalid."""
    if not isinstance(value, dict):
        raise Invalid("The %s payload must be a JSON object." % what)
    return value


def new_post(data):
    """Validate an ``add to wall`` payload; return ``(wall, username, message, client_id)``."""
    data = payload(data, "post")
    for field in ("wall", "username", "message"):
        if field not in data:
            raise Invalid("The post has no '%s' field." % field)
    return (
        wall_name(data["wall"]),
        username(data["username"]),
        message(data["message"]),
        client_id(data.get("client_id")),
    )


# Unicode's Cc category is exactly these 65 code points; one regex scan is
# far cheaper than a category lookup per character on every post.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text(value, field, maximum, newlines):
    """Return clean text (1 to ``maximum`` code points), or raise Invalid."""
    if not isinstance(value, str):
        raise Invalid("The %s must be a string." % field)
    if _SURROGATE.search(value):
        raise Invalid("The %s contains an invalid character (a lone surrogate)." % field)
    if newlines:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    clean = unicodedata.normalize("NFC", value).strip()
    if not clean:
        raise Invalid("The %s may not be empty." % field)
    if len(clean) > maximum:
        raise Invalid(
            "The %s is %d characters long; the limit is %d." % (field, len(clean), maximum)
        )
    if (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).search(clean):
        raise Invalid("The %s may not contain control characters." % field)
    return clean


# RFC 6455 4.1: a key is 16 random bytes in base64; version 13 is the only one
# in use (eventlet would otherwise try the drafts of 2010, and fail).
_WEBSOCKET_KEY = re.compile(r"[A-Za-z0-9+/]{22}==")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
# RFC 9110 5.1 and 5.5, after WSGI has turned a name into HTTP_UPPER_CASE:
# eventlet passes on names and values that HTTP forbids, and the echo
# socket's WebSocket library parses the headers again, strictly, and fails.
_HEADER_NAME = re.compile(r"[A-Z0-9!#$%&'*+.^_`|~-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_WEBSOCKET_HEADERS = (
    "HTTP_SEC_WEBSOCKET_PROTOCOL",
    "HTTP_SEC_WEBSOCKET_EXTENSIONS",
    "HTTP_ORIGIN",
)


def websocket_upgrade(environ):
    """Whether a WSGI request asks to become a WebSocket (its Upgrade header)."""
    return environ.get("HTTP_UPGRADE", "").strip().lower() == "websocket"


def websocket_handshake(environ):
    """Check a WebSocket opening handshake (RFC 6455 4.2.1), or raise Invalid.

    Header values arrive as WSGI's latin-1 strings; the handshake's are ASCII.
    """
    if not websocket_upgrade(environ):
        raise Invalid("A WebSocket handshake needs 'Upgrade: websocket'.")
    if not environ.get("HTTP_HOST", "").strip():
        # RFC 6455 4.1 (and HTTP/1.1) require it; wsproto refuses one without
        raise Invalid("A WebSocket handshake needs a Host header.")
    connection = environ.get("HTTP_CONNECTION", "").lower()
    if "upgrade" not in (token.strip() for token in connection.split(",")):
        raise Invalid("A WebSocket handshake needs 'Connection: Upgrade'.")
    if environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip() != "13":
        raise Invalid("A WebSocket handshake needs 'Sec-WebSocket-Version: 13'.")
    if not _WEBSOCKET_KEY.fullmatch(environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()):
        raise Invalid("A WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64.")
    for key, value in environ.items():
        if key.startswith("HTTP_") and not (
            _HEADER_NAME.fullmatch(key[5:]) and _HEADER_VALUE.fullmatch(value)
        ):
            raise Invalid("A WebSocket handshake may only carry headers that HTTP allows.")
    for name in _WEBSOCKET_HEADERS:
        if not _PRINTABLE_ASCII.fullmatch(environ.get(name, "")):
            raise Invalid(
                "%s may hold printable ASCII only."
                % name[5:].replace("_", "-").title().replace("Websocket", "WebSocket")
            )
