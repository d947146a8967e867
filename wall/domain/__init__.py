"""The domain: what a wall does, whatever the transport.

Posting (:mod:`posts`, with :mod:`post_batch`) is used alike by the Socket.IO
namespace and the JSON API. This layer uses :mod:`wall.storage` and knows
neither Flask requests nor Socket.IO.
"""

from .post_batch import PostBatch
from .posts import PostLimits, PostService


def init_app(app, settings, storage, metrics):
    """Build the app's :class:`PostService` and register it as ``wall.posts``."""
    limits = PostLimits(
        storage.limits if settings.rate_limits else None,
        settings.rate_limit_socket,
        settings.rate_limit_ip,
    )
    service = PostService(PostBatch(storage.posts), limits, metrics)
    app.extensions["wall.posts"] = service
    return service


def get_posts(app):
    """The :class:`PostService` of ``app``."""
    return app.extensions["wall.posts"]
