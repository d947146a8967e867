"""The HTML pages of the OpenAPI document."""

from .openapi_common import WALL_PARAM, html

PATHS = {
    "/": {
        "get": {
            "operationId": "index",
            "summary": "The default wall's page (WALL_DEFAULT).",
            "tags": ["pages"],
            "responses": {"200": html("The page.")},
        }
    },
    "/w/{wall}": {
        "get": {
            "operationId": "wall_page",
            "summary": "A wall's page.",
            "tags": ["pages"],
            "parameters": [WALL_PARAM],
            "responses": {
                "200": html("The page."),
                "301": {
                    "description": "A name in another case: its case-folded form.",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                "404": html("Not a wall name: the HTML 404 page."),
            },
        }
    },
}
