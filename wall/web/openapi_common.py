"""The pieces every part of the OpenAPI document uses: references, media
types, the named error responses, the security requirements and the
parameters shared by many paths."""

from .. import errors as errors_module
from .. import protocol, validation

WALL_PATTERN = "^[A-Za-z0-9-]{1,%d}$" % validation.WALL_NAME_MAX
POST_ID_PATTERN = "^[0-9]{1,20}-[0-9]{1,20}$"
#: a wall name as replies carry it: case-folded
NAME = {"type": "string", "pattern": "^[a-z0-9-]{1,%d}$" % validation.WALL_NAME_MAX}


def ref(name):
    return {"$ref": "#/components/schemas/%s" % name}


def obj(required, properties, **more):
    """A JSON object of exactly these properties (replies carry nothing else)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": properties,
        "additionalProperties": False,
        **more,
    }


def json_response(schema, description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def html(description):
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


HTML_404 = html("Not a wall name: the HTML 404 page.")


def redirect(description="A name in another case: its case-folded form."):
    return {
        "description": description,
        "headers": {"Location": {"schema": {"type": "string"}}},
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


# What each error code means over HTTP (docs/protocol.md, Errors); the
# statuses are the exceptions' own. unknown_event is the socket's only.
_MEANINGS = {
    protocol.INVALID: "a bad payload, parameter, setting or wall name; a moderation "
    "action that does not apply to the post's status.",
    protocol.UNAUTHORIZED: "no Authorization: Bearer <key> (or, deleting a post, "
    "neither key nor author key).",
    protocol.FORBIDDEN: "a wrong key or passcode, not the author (or too late), a "
    "private wall without its grant, a busy or default wall claimed without the "
    "operator token, or a cross-site request.",
    protocol.NOT_FOUND: "no such API route, wall organiser, post, ban or key.",
    protocol.EXISTS: "the wall already has an organiser.",
    protocol.CLOSED: "the wall is closed: it takes no posts.",
    protocol.BANNED: "the client (or its address) is banned from posting on this wall.",
    protocol.REJECTED: "the post contains a word of the wall's filter, whose action is reject.",
    protocol.TOO_LARGE: "the body is over %d KiB." % (protocol.MAX_MESSAGE_BYTES // 1024),
    protocol.RATE_LIMITED: "too many (posts, walls, wrong keys or passcodes), or the "
    "wall's slow mode; retry_after says when to retry.",
    protocol.UNAVAILABLE: "Redis cannot be reached; retry later.",
    protocol.INTERNAL: "a bug on the server; it was logged.",
}
STATUS = {
    cls.code: cls.status
    for cls in errors_module.WallError.__subclasses__()
    if cls.code in _MEANINGS
}
#: what every JSON route may answer
ALWAYS = (protocol.UNAVAILABLE, protocol.INTERNAL)


def _error_schema(codes):
    schema = {"allOf": [ref("Error")], "properties": {"error": {"enum": list(codes)}}}
    if codes == [protocol.RATE_LIMITED]:
        schema["required"] = ["retry_after"]
    return schema


def errors(*codes):
    """The responses of these error codes, by status: a reference to the named
    response where a status has one code, the codes together where several."""
    by_status = {}
    for code in dict.fromkeys(codes + ALWAYS):
        by_status.setdefault(STATUS[code], []).append(code)
    responses = {}
    for status, group in sorted(by_status.items()):
        if len(group) == 1:
            responses[str(status)] = {"$ref": "#/components/responses/%s" % group[0]}
        else:
            text = " ".join("%s: %s" % (code, _MEANINGS[code]) for code in group)
            responses[str(status)] = json_response(_error_schema(group), text)
    return responses


def error_responses():
    """``components.responses``: one named response per error code."""
    return {
        code: json_response(_error_schema([code]), "%s: %s" % (code, text))
        for code, text in _MEANINGS.items()
    }


# -- security ---------------------------------------------------------------------

SECURITY_SCHEMES = {
    "organizer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <organiser key>: one of the wall's keys "
        "(POST /api/walls gives the first). Wrong keys are rate limited per address "
        "(WALL_RATE_LIMIT_KEYS).",
    },
    "operator": {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <WALL_ADMIN_TOKEN>: everything an "
        "organiser can do, on every wall.",
    },
    "author": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Author-Key",
        "description": "The author_key of a post's reply: its author may delete it "
        "within %d minutes." % (protocol.AUTHOR_WINDOW_S // 60),
    },
    "client": {
        "type": "apiKey",
        "in": "cookie",
        "name": "wall_client",
        "description": "The browser's signed id, set by every page: its posts' author "
        "rights, without an author key.",
    },
}
#: a route only an organiser (or the operator) may call
ORGANIZER = [{"organizer": []}, {"operator": []}]
#: a route anyone may call, that an organiser's key changes
OPTIONAL_ORGANIZER = [{}, *ORGANIZER]
#: what every route that checks an organiser key may refuse with (not_found:
#: also a path that matches no route, such as a wall name with a "/")
KEYED = ("invalid", "unauthorized", "forbidden", "not_found", "rate_limited")

# -- parameters -------------------------------------------------------------------

WALL_PARAM = {
    "name": "wall",
    "in": "path",
    "required": True,
    "description": "A wall name: 1 to %d characters of a-z, 0-9 and '-', case-folded "
    "(surrounding spaces are dropped)." % validation.WALL_NAME_MAX,
    "schema": {"type": "string", "pattern": WALL_PATTERN},
}

POST_ID_PARAM = {"name": "post_id", "in": "path", "required": True, "schema": ref("PostId")}

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


def json_body(schema, required=True):
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def organizer_get(operation_id, summary, schema, description, parameters=()):
    """A ``GET`` only an organiser may call, answered with ``schema``."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["organisers"],
            "security": ORGANIZER,
            "parameters": [WALL_PARAM, *parameters],
            "responses": {"200": json_response(ref(schema), description), **errors(*KEYED)},
        }
    }
