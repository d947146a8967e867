"""Operations (this document, health, metrics) and the speed test in the OpenAPI document."""

from .openapi_common import UNSAFE_HEADERS, errors, html, json_response, ref

OPENAPI_VERSION = "3.1.0"
PATH = "/api/openapi.json"

PATHS = {
    PATH: {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "tags": ["api"],
            "responses": {"200": json_response({"type": "object"}, "OpenAPI %s" % OPENAPI_VERSION)},
        }
    },
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "Whether this process can serve: Redis answers, not draining.",
            "tags": ["operations"],
            "responses": {
                "200": json_response(ref("Health"), '{"status": "ok"}'),
                "503": json_response(ref("Health"), "unavailable or draining, with the reason."),
            },
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics of this process.",
            "tags": ["operations"],
            "responses": {
                "200": {
                    "description": "Prometheus text format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
}


SPEED_TEST_PATHS = {
    "/speed": {
        "get": {
            "operationId": "speed_page",
            "summary": "The speed test page.",
            "tags": ["speed test"],
            "responses": {"200": html("The page.")},
        }
    },
    "/api/echo": {
        "post": {
            "operationId": "http_echo",
            "summary": "AJAX round trip of the speed test (rate limited per address).",
            "tags": ["speed test"],
            "parameters": list(UNSAFE_HEADERS),
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("Echo")}},
            },
            "responses": {
                "200": json_response(ref("EchoReply"), "The data, and the request's size."),
                **errors(
                    "invalid",
                    "forbidden",
                    "too_large",
                    "rate_limited",
                    "unavailable",
                    "internal",
                ),
            },
        }
    },
    "/ws/echo": {
        "get": {
            "operationId": "websocket_echo",
            "summary": "A plain WebSocket: every text message comes back unchanged.",
            "description": "Past the echo rate limit the server closes it (1008).",
            "tags": ["speed test"],
            "responses": {
                "101": {"description": "Switching to the WebSocket protocol."},
                "400": html("Not a WebSocket upgrade."),
            },
        }
    },
}
