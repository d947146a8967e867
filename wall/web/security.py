"""Who may talk to the wall: same-origin only, strict headers, production checks.

One small ``after_request`` rather than Flask-Talisman: the wall needs four
headers and no HTTPS redirects or session cookies (TLS ends at nginx).
"""

import logging
from urllib.parse import urlsplit

from flask import request

from ..errors import Forbidden

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class OriginPolicy:
    """Same origin (scheme and Host as the client sent them) plus ``WALL_ALLOWED_ORIGINS``.

    Used by engine.io for every Socket.IO handshake (cross-site WebSocket
    hijacking) and by the HTTP API for unsafe methods. A request without an
    ``Origin`` header (curl, a server) is not a browser acting for someone
    else, so it is let through.
    """

    def __init__(self, extra_origins):
        self.extra = {_normal(o) for o in extra_origins}

    def __call__(self, origin, environ):
        if not origin:
            return True
        origin = _normal(origin)
        if origin is None:
            return False  # not an origin a browser sends (two of them, a port that is no number)
        return origin in self.extra or origin == _own_origin(environ)


def init_app(app, policy):
    @app.after_request
    def security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.before_request
    def refuse_cross_site():
        if request.method in _UNSAFE:
            origin = request.headers.get("Origin")
            cross_site = request.headers.get("Sec-Fetch-Site") == "cross-site"
            if cross_site or not policy(origin, request.environ):
                raise Forbidden("Cross-site requests are not accepted.")


def check_production(settings, redis_client, missing_protections=()):
    """Refuse or warn about settings that are fine in development only.

    :param missing_protections: names of protection patches that could not
        be applied (:func:`wall.drivers.missing_protections`): a production
        server refuses to start without them.
    """
    if settings.wall_env != "production":
        return
    if not settings.secret_key_set:
        raise RuntimeError(
            "WALL_ENV=production needs SECRET_KEY: set it to a long random string "
            "in the environment (for example /etc/wall/wall.env)."
        )
    if missing_protections:
        raise RuntimeError(
            "WALL_ENV=production refuses to start without these protections, whose "
            "library internals changed (see the errors above): %s. Install the library "
            "versions pinned in requirements.txt." % ", ".join(missing_protections)
        )
    try:
        url = settings.redis_url or ""
        host = urlsplit(url).hostname or "127.0.0.1"
        if not urlsplit(url).password and host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("Redis at %s has no password in REDIS_URL; set requirepass", host)
        policy = redis_client.config_get("maxmemory-policy").get("maxmemory-policy")
        if policy and policy != "noeviction":
            log.warning("Redis maxmemory-policy is %s: it may evict posts; use noeviction", policy)
    except Exception as exc:  # CONFIG may be disabled on managed Redis
        log.warning("could not check the Redis settings: %s", exc)


def _own_origin(environ):
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST", "")
    return _normal("%s://%s" % (scheme, host))


def _normal(origin):
    """``scheme://host[:port]`` without a default port, or None if ``origin`` is not one."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port  # raises on a port that is not a number from 0 to 65535
    except ValueError:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = port if port and port != default else None
    return "%s://%s%s" % (parts.scheme, parts.hostname or "", ":%d" % port if port else "")
