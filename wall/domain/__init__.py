"""The domain: what a wall does, whatever the transport.

- :mod:`posts` (with :mod:`post_batch`): posting, used alike by the
  Socket.IO namespace and the JSON API.
- :mod:`walls`: running a wall (settings, organisers, moderation, bans,
  audit, export); :mod:`blocklist`: the word filter.
- :mod:`clients`: who a client is (the ``wall_client`` cookie).

This layer uses :mod:`wall.storage` and knows neither Flask requests nor
Socket.IO.
"""

from ..storage import ratelimit
from ..storage.walls import WallStore
from .clients import ClientCookies
from .post_batch import PostBatch
from .posts import PostLimits, PostService
from .walls import WallLimits, WallService


def init_app(app, settings, storage, metrics):
    """Build the app's services; register them as ``wall.posts``, ``wall.walls``
    and ``wall.clients``."""
    limits_storage = storage.limits if settings.rate_limits else None
    walls = WallService(
        WallStore(storage.redis),
        storage.posts,
        WallLimits(
            limits_storage,
            settings.rate_limit_create,
            settings.rate_limit_create_ip,
            settings.rate_limit_keys,
            settings.rate_limit_passcodes,
        ),
        settings.admin_token,
        settings.secret_key,
        settings.default_wall,
        author_window_s=settings.author_window_s,
    )
    limits = PostLimits(
        limits_storage,
        settings.rate_limit_socket,
        settings.rate_limit_client,
        settings.rate_limit_ip,
    )
    service = PostService(PostBatch(storage.posts), limits, walls, metrics)
    app.extensions["wall.posts"] = service
    app.extensions["wall.walls"] = walls
    mint_limit = (
        ratelimit.moving_window(
            limits_storage,
            settings.rate_limit_cookies,
            "cookies",
            "Too many new clients from this address; wait %d s.",
        )
        if limits_storage is not None
        else ratelimit.NoLimit()
    )
    app.extensions["wall.clients"] = ClientCookies(settings.secret_key, mint_limit)
    return service


def get_posts(app):
    """The :class:`PostService` of ``app``."""
    return app.extensions["wall.posts"]


def get_walls(app):
    """The :class:`WallService` of ``app``."""
    return app.extensions["wall.walls"]


def get_clients(app):
    """The :class:`ClientCookies` of ``app``."""
    return app.extensions["wall.clients"]
