"""The web: HTML pages, the JSON API, health and metrics, the speed test.

- :mod:`pages`, :mod:`api`, :mod:`health`, :mod:`speed`: the routes;
  :mod:`openapi`: all of them as an OpenAPI document at ``/api/openapi.json``.
- :mod:`security`: origins, headers, production checks; :mod:`static_urls`:
  versioned static files.

This layer uses :mod:`wall.domain`, :mod:`wall.storage` and reads the state
of :mod:`wall.realtime` (health, metrics).
"""

import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import errors, protocol
from . import api, health, openapi, pages, security, speed, static_urls

log = logging.getLogger(__name__)


def init_app(app, settings, storage, server, origins):
    """Register the routes, headers and error answers; trust ``WALL_PROXY_FIX`` proxies.

    Call it last: ProxyFix must wrap everything else (the admission gate
    included), so that all of it sees the client's address and scheme.
    """
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    speed.init_app(app, settings, storage, server)
    security.init_app(app, origins)
    static_urls.init_app(app)
    _register_error_handlers(app)
    if settings.proxy_fix:
        n = settings.proxy_fix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)


def _register_error_handlers(app):
    def wants_json():
        return request.path.startswith("/api/") or request.path == "/healthz"

    def answer(error):
        body, status = errors.json_body(error)
        return jsonify(body), status

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 413:
            return answer(errors.TooLarge("The request body is larger than 64 KiB."))
        if wants_json():
            code = {404: protocol.NOT_FOUND}.get(exc.code, protocol.INVALID)
            return jsonify(error=code, message=exc.description), exc.code
        if exc.code == 404:
            return render_template("404.html"), 404
        return exc

    @app.errorhandler(Exception)
    def any_error(exc):
        return answer(errors.as_wall_error(exc, log, "%s %s" % (request.method, request.path)))
