"""wall: a live message wall on Flask-SocketIO and Redis Streams.

The package never imports eventlet or gevent: ``app.py`` chooses the async
library and monkey-patches before importing it.
"""

import logging
import os

import redis
from flask import Flask, jsonify, render_template, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from . import security, static_files
from .errors import UNAVAILABLE_MESSAGE, TooLarge, Unavailable, WallError
from .gate import ConnectionGate
from .packet_guard import PacketGuard
from .redis_server import EmbeddedRedis

socketio = SocketIO()

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
log = logging.getLogger(__name__)


def create_app(test_config=None):
    """Create the app.

    :param test_config: a mapping that replaces values read from the
        environment (tests use it for ``REDIS_URL``, ``ASYNC_MODE``...).
    """
    app = Flask(
        __name__,
        template_folder=os.path.join(_ROOT, "templates"),
        static_folder=os.path.join(_ROOT, "static"),
        instance_path=os.path.join(_ROOT, "instance"),
    )
    app.config.from_mapping(config_module.from_environ())
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False  # keep payloads in the order docs/protocol.md shows
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    # Flask-SocketIO handlers (the /speed namespace) must be decorated before
    # the first init_app: it only replays those onto every new server.
    from . import api, events, speed, views  # noqa: F401
    from .runtime import Runtime

    redis_url = app.config["REDIS_URL"] or _start_embedded_redis(app)
    origins = security.OriginPolicy(app.config["ALLOWED_ORIGINS"])
    _init_socketio(app, redis_url, origins)

    runtime = app.extensions["wall"] = Runtime(app, socketio, redis_url)
    socketio.server.register_namespace(events.WallNamespace(runtime))
    PacketGuard(socketio.server, runtime.metrics)
    security.check_production(app.config, runtime.store.redis)
    security.init_app(app, origins)
    # Outermost first: ProxyFix corrects the client address and scheme that
    # everything behind it (the gate, Socket.IO, Flask) sees.
    runtime.gate = ConnectionGate(
        app.wsgi_app, socketio, app.config["MAX_CONNECTIONS"],
        app.config["MAX_CONNECTIONS_PER_IP"], app.config["MAX_QUEUE"],
        compression=app.config["WEBSOCKET_COMPRESSION"],
    )
    runtime.gate.attach(socketio.server)
    app.wsgi_app = runtime.gate
    if app.config["PROXY_FIX"]:
        n = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    speed.init_app(app)
    static_files.init_app(app)
    _register_error_handlers(app)
    return app


def _start_embedded_redis(app):
    data_dir = app.config["DATA_DIR"] or os.path.join(app.instance_path, "redis")
    server = EmbeddedRedis(data_dir, fsync=app.config["REDIS_FSYNC"])
    url = server.start()
    app.extensions["wall_redis"] = server
    log.info("embedded Redis %s on %s (data in %s)", server.binary, url, data_dir)
    return url


def _init_socketio(app, redis_url, origins):
    options = dict(
        async_mode=app.config["ASYNC_MODE"],
        cors_allowed_origins=origins,
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
        logger=False,
        engineio_logger=False,
        # engine.io already runs each message in a task of its own; a second
        # task per event would only cost a greenlet spawn per post.
        async_handlers=False,
    )
    if app.config["MESSAGE_QUEUE"]:
        # Passed as a manager (not message_queue=) so our Redis options apply.
        options["client_manager"] = socketio_manager(redis_url)
    socketio.init_app(app, **options)


def socketio_manager(redis_url):
    """The Redis message queue that carries emits other than posts."""
    from .message_queue import WallRedisManager

    return WallRedisManager(
        redis_url,
        channel="wall-socketio",
        redis_options=dict(
            socket_connect_timeout=2.0, socket_keepalive=True, health_check_interval=30
        ),
    )


def _register_error_handlers(app):
    def wants_json():
        return request.path.startswith("/api/") or request.path == "/healthz"

    @app.errorhandler(WallError)
    def wall_error(exc):
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(redis.RedisError)
    def redis_error(exc):
        log.warning("%s %s: Redis unavailable: %s", request.method, request.path, exc)
        return wall_error(Unavailable(UNAVAILABLE_MESSAGE))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 413:
            return wall_error(TooLarge("The request body is larger than 64 KiB."))
        if wants_json():
            code = {404: "not_found", 405: "invalid"}.get(exc.code, "invalid")
            return jsonify(error=code, message=exc.description), exc.code
        if exc.code == 404:
            return render_template("404.html"), 404
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("%s %s failed", request.method, request.path)
        body = {"error": "internal", "message": "The server failed; it has been logged."}
        return jsonify(body), 500
