"""The pieces every part of the OpenAPI document uses: references, media
types, the named error responses and the parameters shared by many paths."""

from .. import validation

WALL_PATTERN = "^[A-Za-z0-9-]{1,%d}$" % validation.WALL_NAME_MAX
POST_ID_PATTERN = "^[0-9]{1,20}-[0-9]{1,20}$"


def ref(name):
    return {"$ref": "#/components/schemas/%s" % name}


def json_response(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def html(description):
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


# One named response per error status of docs/protocol.md.
ERRORS = {
    "invalid": (400, "invalid: a bad payload, parameter or wall name."),
    "unauthorized": (401, "unauthorized: no Authorization: Bearer token."),
    "forbidden": (403, "forbidden: a wrong token, or a cross-site request."),
    "not_found": (404, "not_found: no such post, or moderation is off."),
    "too_large": (413, "too_large: the body is over 64 KiB."),
    "rate_limited": (429, "rate_limited: too many; retry_after says when to retry."),
    "unavailable": (503, "unavailable: Redis cannot be reached; retry later."),
    "internal": (500, "internal: a bug on the server; it was logged."),
}


def errors(*codes):
    return {str(ERRORS[code][0]): {"$ref": "#/components/responses/%s" % code} for code in codes}


def error_responses():
    """``components.responses``: one per error code."""
    return {code: json_response(ref("Error"), text) for code, (_status, text) in ERRORS.items()}


WALL_PARAM = {
    "name": "wall",
    "in": "path",
    "required": True,
    "description": "A wall name: 1 to %d characters of a-z, 0-9 and '-', case-folded "
    "(surrounding spaces are dropped)." % validation.WALL_NAME_MAX,
    "schema": {"type": "string", "pattern": WALL_PATTERN},
}

UNSAFE_HEADERS = [
    {
        "name": "Origin",
        "in": "header",
        "required": False,
        "description": "A browser's origin: another than the app's own (or one of "
        "WALL_ALLOWED_ORIGINS) is refused with 403.",
        "schema": {"type": "string"},
    },
    {
        "name": "Sec-Fetch-Site",
        "in": "header",
        "required": False,
        "description": "cross-site is refused with 403.",
        "schema": {"type": "string"},
    },
]
