"""The HTML pages (and a private wall's unlocking) in the OpenAPI document.

An invalid wall name on a page's path is the HTML 404 page, not JSON.
"""

from .openapi_common import (
    HTML_404,
    UNSAFE_HEADERS,
    WALL_PARAM,
    errors,
    html,
    json_response,
    redirect,
    ref,
)
from .pages import GRANT_MAX_AGE


def _page(operation_id, summary, parameters=(), description=None):
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["pages"],
        "responses": {"200": html("The page.")},
    }
    if parameters:
        operation["parameters"] = list(parameters)
        operation["responses"].update({"301": redirect(), "404": HTML_404})
    if description:
        operation["description"] = description
    return {"get": operation}


_QUERY = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": values},
    }
    for name, values in (("theme", ["dark"]), ("sort", ["newest", "popular"]))
]

PATHS = {
    "/": _page("index", "The default wall's page (WALL_DEFAULT)."),
    "/new": _page("new_wall", "The form that creates a wall and shows its organiser link once."),
    "/w/{wall}": _page("wall_page", "A wall's page.", [WALL_PARAM]),
    "/w/{wall}/manage": _page(
        "manage_page",
        "The moderation panel.",
        [WALL_PARAM],
        "Opened with the organiser link /w/<wall>/manage#key=<key>: the key is in the "
        "fragment, which never reaches the server.",
    ),
    "/w/{wall}/present": _page(
        "present_page",
        "The projector view: full screen, no inputs, the join panel with the QR code.",
        [WALL_PARAM, *_QUERY],
    ),
    "/w/{wall}/qr.{kind}": {
        "get": {
            "operationId": "qr_code",
            "summary": "The QR code of the wall's address <scheme>://<host>/w/<wall>, as the "
            "browser sees it.",
            "tags": ["pages"],
            "parameters": [
                WALL_PARAM,
                {
                    "name": "kind",
                    "in": "path",
                    "required": True,
                    "description": "Another is the HTML 404 page.",
                    "schema": {"type": "string", "enum": ["svg", "png"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "The image (Cache-Control: private, max-age=300).",
                    "content": {
                        "image/svg+xml": {"schema": {"type": "string"}},
                        "image/png": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "404": HTML_404,
            },
        }
    },
    "/w/{wall}/unlock": {
        "post": {
            "operationId": "unlock",
            "summary": "Exchange a private wall's passcode for its grant cookie.",
            "description": "Wrong passcodes are rate limited per address "
            "(WALL_RATE_LIMIT_PASSCODES). The grant ends when the organiser changes the "
            "passcode or the visibility.",
            "tags": ["pages"],
            "parameters": [WALL_PARAM, *UNSAFE_HEADERS],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": ref("Passcode")},
                    "application/x-www-form-urlencoded": {"schema": ref("Passcode")},
                },
            },
            "responses": {
                "200": json_response(
                    ref("Unlocked"),
                    "Unlocked.",
                    headers={
                        "Set-Cookie": {
                            "description": "wall_grant_<wall>: HttpOnly, SameSite=Lax, "
                            "%d days." % (GRANT_MAX_AGE // 86400),
                            "schema": {"type": "string"},
                        }
                    },
                ),
                **errors("invalid", "forbidden", "too_large", "rate_limited"),
                "404": HTML_404,
            },
        }
    },
}
