"""``GET /api/openapi.json`` is true: the app's URL map, valid OpenAPI 3, real replies fit it."""

import re

import pytest
from openapi_spec_validator import validate

from wall import create_app, protocol, settings, stop_app
from wall.web import openapi

from ...support.helpers import make_config
from ...support.openapi_checker import JSON, Checker

#: what the document leaves out: files, and Socket.IO's own transport
UNDOCUMENTED = ("/static/", "/socket.io/")
#: what Flask answers on every rule by itself
AUTOMATIC = {"HEAD", "OPTIONS"}


def documented_rules(app):
    """``{OpenAPI path template: rule}`` for every rule the document must list."""
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(UNDOCUMENTED):
            continue
        template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        rules.setdefault(template, []).append(rule)
    return rules


def template_shape(path):
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.fixture(params=[True, False], ids=["speed test on", "speed test off"])
def any_app(request, redis_url):
    app = create_app(make_config(redis_url, SPEED_TEST=request.param))
    yield app
    stop_app(app)


def test_the_document_is_valid_openapi_3(any_app):
    doc = any_app.test_client().get(openapi.PATH).json
    assert doc["openapi"].startswith("3.")
    validate(doc)  # raises on any error of the spec


def test_every_rule_of_the_app_is_a_path_with_its_methods_and_back(any_app):
    """Paths match rules by shape (``/w/{}``): the document may name parameters to read well."""
    doc = any_app.test_client().get(openapi.PATH).json
    rules = {template_shape(t): r for t, r in documented_rules(any_app).items()}
    paths = {template_shape(p): p for p in doc["paths"]}
    assert sorted(paths) == sorted(rules)
    for shape, path in paths.items():
        methods = set().union(*(rule.methods for rule in rules[shape]))
        operations = doc["paths"][path]
        assert {m.upper() for m in operations} == methods - AUTOMATIC, path
        assert "GET" not in methods or "HEAD" in methods
        names = sorted(re.findall(r"\{([^}]+)\}", path))
        for operation in operations.values():
            params = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            assert sorted(p["name"] for p in params) == names, path
            assert all(p["required"] for p in params), path


def test_the_speed_test_paths_follow_the_setting(any_app):
    doc = any_app.test_client().get(openapi.PATH).json
    speed = {"/speed", "/api/echo", "/ws/echo"}
    assert (speed <= set(doc["paths"])) is settings.get(any_app).speed_test
    assert not (speed & set(doc["paths"])) or settings.get(any_app).speed_test


def test_the_error_codes_are_the_protocols(app):
    doc = app.test_client().get(openapi.PATH).json
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["enum"] == list(protocol.ERROR_CODES)
    assert set(error["properties"]) == {"error", "message", "retry_after"}


# -- real replies against the document ------------------------------------------------


def test_real_replies_fit_their_schemas(redis_url):
    app = create_app(
        make_config(
            redis_url,
            ADMIN_TOKEN="sesame",
            RATE_LIMITS=True,
            RATE_LIMIT_ECHO="1/minute",
        )
    )
    try:
        c = Checker(app)
        http = c.client
        posts = "/api/walls/{wall}/posts"
        body = {"username": "ann", "message": "hello", "client_id": "c-1"}
        created = c.check(posts, "POST", http.post("/api/walls/OpenAPI/posts", json=body))
        assert created.status_code == 201
        again = c.check(posts, "POST", http.post("/api/walls/openapi/posts", json=body))
        assert again.status_code == 200
        post_id = created.json["post"]["id"]
        c.check(posts, "POST", http.post("/api/walls/openapi/posts", json={"username": 3}))
        c.check(
            posts,
            "POST",
            http.post("/api/walls/openapi/posts", data="x" * 70_000, content_type=JSON),
        )
        c.check(
            posts,
            "POST",
            http.post("/api/walls/openapi/posts", json=body, headers={"Origin": "http://evil"}),
        )
        c.check(posts, "GET", http.get("/api/walls/openapi/posts?limit=5"))
        c.check(posts, "GET", http.get("/api/walls/openapi/posts?after=0-1"))
        c.check(posts, "GET", http.get("/api/walls/openapi/posts?before=%s" % post_id))
        c.check(posts, "GET", http.get("/api/walls/openapi/posts?limit=0"))
        c.check(posts, "GET", http.get("/api/walls/a%2Fb/posts"))
        c.check("/api/walls", "GET", http.get("/api/walls"))
        one = "/api/walls/{wall}/posts/{post_id}"
        url = "/api/walls/openapi/posts/%s" % post_id
        c.check(one, "DELETE", http.delete(url))
        c.check(one, "DELETE", http.delete(url, headers={"Authorization": "Bearer nope"}))
        auth = {"Authorization": "Bearer sesame"}
        c.check(one, "DELETE", http.delete(url, headers=auth))
        c.check(one, "DELETE", http.delete(url, headers=auth))  # gone: 404
        c.check(one, "DELETE", http.delete("/api/walls/openapi/posts/x", headers=auth))
        after = c.check(posts, "GET", http.get("/api/walls/openapi/posts?after=0-1"))
        assert after.json["deleted"] == [post_id]
        c.check("/api/echo", "POST", http.post("/api/echo", json={"data": "hi"}))
        limited = c.check("/api/echo", "POST", http.post("/api/echo", json={"data": "hi"}))
        assert limited.status_code == 429 and limited.json["retry_after"] >= 1
        c.check("/healthz", "GET", http.get("/healthz"))
        c.check("/metrics", "GET", http.get("/metrics"))
        c.check("/", "GET", http.get("/"))
        c.check("/w/{wall}", "GET", http.get("/w/openapi"))
        c.check("/w/{wall}", "GET", http.get("/w/OpenAPI"))
        c.check("/w/{wall}", "GET", http.get("/w/no%20such"))
        c.check("/speed", "GET", http.get("/speed"))
        c.check("/ws/echo", "GET", http.get("/ws/echo"))
        c.check(openapi.PATH, "GET", http.get(openapi.PATH))
        statuses = {status for _, _, status in c.seen}
        assert {200, 201, 301, 400, 401, 403, 404, 413, 429} <= statuses
    finally:
        stop_app(app)
