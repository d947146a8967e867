"""Security headers, cross-site refusals and production checks, in process."""

import pytest

from wall import create_app, stop_app

from ...support.helpers import make_config

BODY = {"username": "a", "message": "hi"}


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/api/walls", "/healthz", "/w/nope_"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "https://localhost"},  # another scheme is another origin
        {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://localhost:1,null"},  # two Origin headers, as a server joins them
        {"Origin": "http://localhost:99999"},
    ],
)
def test_cross_site_posts_are_refused(client, rdb, headers):
    reply = client.post("/api/walls/w/posts", json=BODY, headers=headers)
    assert reply.status_code == 403 and reply.json["error"] == "forbidden"
    assert rdb.keys("wall:posts:*") == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://localhost"},
        {"Origin": "http://LOCALHOST:80"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_same_origin_and_originless_posts_pass(client, headers):
    assert client.post("/api/walls/w/posts", json=BODY, headers=headers).status_code == 201


def test_allowed_origins_extend_the_own_one(redis_url):
    app = create_app(make_config(redis_url, ALLOWED_ORIGINS=["https://partner.example"]))
    try:
        client = app.test_client()
        ok = client.post(
            "/api/walls/w/posts", json=BODY, headers={"Origin": "https://partner.example"}
        )
        assert ok.status_code == 201
        bad = client.post(
            "/api/walls/w/posts", json=BODY, headers={"Origin": "https://other.example"}
        )
        assert bad.status_code == 403
    finally:
        stop_app(app)


def test_production_needs_a_secret_key(redis_url):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(make_config(redis_url, WALL_ENV="production", SECRET_KEY_SET=False))
    app = create_app(
        make_config(redis_url, WALL_ENV="production", SECRET_KEY="x" * 40, SECRET_KEY_SET=True)
    )
    stop_app(app)


def test_production_warns_when_redis_may_evict(redis_url, rdb, caplog):
    rdb.config_set("maxmemory-policy", "allkeys-lru")
    try:
        app = create_app(make_config(redis_url, WALL_ENV="production", SECRET_KEY_SET=True))
        stop_app(app)
    finally:
        rdb.config_set("maxmemory-policy", "noeviction")
    assert "may evict posts" in caplog.text


def test_production_refuses_to_start_without_a_protection(redis_url, monkeypatch):
    from wall.drivers import socketio as socketio_driver

    sessions = socketio_driver.SESSIONS
    monkeypatch.setattr(sessions, "_problems", [(sessions.targets[0], "it changed")])
    monkeypatch.setattr(sessions, "_warned", False)
    monkeypatch.setattr(sessions, "active", False)
    with pytest.raises(RuntimeError, match="socketio.sessions"):
        create_app(
            make_config(redis_url, WALL_ENV="production", SECRET_KEY="x" * 40, SECRET_KEY_SET=True)
        )
    # in development it is an error in the log, and the wall serves
    app = create_app(make_config(redis_url))
    stop_app(app)
