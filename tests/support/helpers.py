"""Small waiting helpers shared by the tests."""

import time


def wait_for(predicate, timeout=5.0, interval=0.02, message="condition"):
    """Poll ``predicate`` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, message))
        time.sleep(interval)


def make_config(redis_url, **overrides):
    config = {
        "TESTING": True,
        "REDIS_URL": redis_url,
        "ASYNC_MODE": "threading",
        # Flask-SocketIO's test client cannot run with a message queue.
        "MESSAGE_QUEUE": False,
        "RATE_LIMITS": False,
        "PRESENCE_TIMEOUT": 3.0,
    }
    config.update(overrides)
    return config


def store_post(store, wall, username, message, client_id=None):
    """Store a plain post through a PostStore (no bans or slow mode to check;
    the settings as they are now).

    :return: ``(post, created)``.
    """
    from wall.storage import keys
    from wall.storage.posts import NewPost

    version = store.redis.hget(keys.meta(wall), "v") or ""
    added = store.add_post(NewPost(wall, username, message, client_id, version))
    assert added.kind in ("stored", "exists"), added
    return added.post, added.created
