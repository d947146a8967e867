"""wall: a live message wall on Flask-SocketIO and Redis Streams.

Nothing here imports eventlet or gevent but ``wall/drivers/``, and that only
when ``app.py`` installs the driver of the library it chose and patched.
docs/architecture.md shows the layers and a post's path through them.
"""

import logging
import os

from flask import Flask

from . import cli, domain, drivers, realtime, storage, web
from .metrics import Metrics
from .realtime import socketio
from .settings import Settings
from .web import security

__all__ = ["create_app", "socketio"]

log = logging.getLogger(__name__)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config=None):
    """Create the app.

    :param test_config: settings that replace what the environment says
        (tests use it for ``REDIS_URL``, ``ASYNC_MODE``...), by field name.
    """
    settings = Settings.from_environ()
    if test_config is not None:
        settings = settings.replace(test_config)
    app = Flask(
        __name__,
        template_folder=os.path.join(_ROOT, "templates"),
        static_folder=os.path.join(_ROOT, "static"),
        instance_path=os.path.join(_ROOT, "instance"),
    )
    app.config.from_mapping(settings.flask_config())
    app.json.sort_keys = False  # keep payloads in the order docs/protocol.md shows
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for note in settings.notes:
        log.warning(note)
    app.extensions["wall.settings"] = settings
    metrics = app.extensions["wall.metrics"] = Metrics()

    store = storage.init_app(app, settings, metrics)
    posts = domain.init_app(app, settings, store, metrics)
    origins = security.OriginPolicy(settings.allowed_origins)
    live = realtime.init_app(
        app,
        settings,
        store,
        posts,
        domain.get_walls(app),
        domain.get_clients(app),
        metrics,
        origins,
    )
    security.check_production(
        settings, store.redis, drivers.missing_protections(settings.async_mode)
    )
    # Last: its ProxyFix must wrap the gate that realtime put in front.
    web.init_app(app, settings, store, live.server, origins)
    cli.init_app(app)
    return app


def stop_app(app):
    """Stop an app's background tasks and its embedded Redis (tests, shutdown)."""
    realtime.get_realtime(app).stop()
    storage.get_storage(app).stop()
