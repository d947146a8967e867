"""Configuration from environment variables, with safe defaults for development.

Every variable is listed in the README's configuration table.
"""

import os
import secrets


def _flag(value, name):
    value = value.strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValueError("%s must be on or off, not %r" % (name, value))


def from_environ(environ=None):
    """Return the app configuration read from ``environ`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_hex(32),
        "SECRET_KEY_SET": bool(env.get("SECRET_KEY")),
        "WALL_ENV": env.get("WALL_ENV", "development"),
        "HOST": env.get("HOST", "127.0.0.1"),
        "PORT": int(env.get("PORT", "5000")),
        "ASYNC_MODE": env.get("WALL_ASYNC_MODE", "eventlet"),
        # None: start the embedded Redis in WALL_DATA_DIR
        "REDIS_URL": env.get("REDIS_URL") or None,
        "DATA_DIR": env.get("WALL_DATA_DIR") or None,
        "REDIS_FSYNC": env.get("WALL_REDIS_FSYNC", "everysec"),
        "DEFAULT_WALL": env.get("WALL_DEFAULT", "main"),
        "HISTORY": int(env.get("WALL_HISTORY", "10000")),
        "RATE_LIMITS": _flag(env.get("WALL_RATE_LIMITS", "on"), "WALL_RATE_LIMITS"),
        "RATE_LIMIT_SOCKET": env.get("WALL_RATE_LIMIT_SOCKET", "5/10 seconds"),
        "RATE_LIMIT_IP": env.get("WALL_RATE_LIMIT_IP", "600/minute"),
        "RATE_LIMIT_ECHO": env.get("WALL_RATE_LIMIT_ECHO", "60000/minute"),
        "SPEED_TEST": _flag(env.get("WALL_SPEED_TEST", "on"), "WALL_SPEED_TEST"),
        # seconds after its last heartbeat that a process stops counting online
        "PRESENCE_TIMEOUT": float(env.get("WALL_PRESENCE_TIMEOUT", "30")),
        # unset: moderation (DELETE of posts) is off
        "ADMIN_TOKEN": env.get("WALL_ADMIN_TOKEN") or None,
        # "stream" (gap-free, the default) or "pubsub": posts over the message
        # queue only, at most once; kept to measure what the stream path costs
        "DELIVERY": env.get("WALL_DELIVERY", "stream"),
        # open engine.io sessions per process before new ones get 503
        "MAX_CONNECTIONS": int(env.get("WALL_MAX_CONNECTIONS", "5000")),
        "DIRECT_WRITES": _flag(env.get("WALL_DIRECT_WRITES", "on"), "WALL_DIRECT_WRITES"),
        "WEBSOCKET_COMPRESSION": _flag(
            env.get("WALL_WEBSOCKET_COMPRESSION", "off"), "WALL_WEBSOCKET_COMPRESSION"
        ),
        "MAX_CONNECTIONS_PER_IP": int(env.get("WALL_MAX_CONNECTIONS_PER_IP", "500")),
        # packets waiting for one client before it counts as not reading
        "MAX_QUEUE": int(env.get("WALL_MAX_QUEUE", "1000")),
        # how many proxies in front set X-Forwarded-*; 0 trusts none
        "PROXY_FIX": int(env.get("WALL_PROXY_FIX", "0")),
        # origins besides the app's own that may open sockets and POST
        "ALLOWED_ORIGINS": [o for o in env.get("WALL_ALLOWED_ORIGINS", "").split(",") if o.strip()],
        "MESSAGE_QUEUE": True,
        "LOG_LEVEL": env.get("WALL_LOG_LEVEL", "INFO"),
        # Flask refuses bodies over this with 413; Socket.IO messages too.
        "MAX_CONTENT_LENGTH": 64 * 1024,
    }
