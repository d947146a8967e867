"""Every setting of the wall, read from the environment and checked once.

Each field of :class:`Settings` names its environment variable, its parser
and its default; the README's configuration table lists exactly these
variables (a test holds them together). A bad value refuses to start with a
message that names the variable: nothing half-parsed reaches the app.
"""

import dataclasses
import logging
import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from limits import parse as parse_rate

from . import protocol, validation
from .errors import Invalid


class SettingError(ValueError):
    """A setting has a value the wall cannot use; the message names it."""


# -- parsers: (text, variable name) -> value, or raise SettingError ----------


def _text(value, name):
    return value.strip()


def _optional(value, name):
    return value.strip() or None


def _flag(value, name):
    word = value.strip().lower()
    if word in ("1", "on", "true", "yes"):
        return True
    if word in ("0", "off", "false", "no"):
        return False
    raise SettingError("%s must be on or off, not %r" % (name, value))


def _whole(minimum, maximum=None):
    def parse(value, name):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            limit = (
                "from %d to %d" % (minimum, maximum)
                if maximum is not None
                else ("of at least %d" % minimum)
            )
            raise SettingError("%s must be a whole number %s, not %r" % (name, limit, value))
        return number

    return parse


def _seconds(value, name):
    try:
        number = float(value.strip())
    except ValueError:
        number = 0
    if not number > 0:
        raise SettingError("%s must be a number of seconds above 0, not %r" % (name, value))
    return number


def _one_of(*choices):
    def parse(value, name):
        word = value.strip().lower()
        if word not in choices:
            raise SettingError("%s must be one of %s, not %r" % (name, ", ".join(choices), value))
        return word

    return parse


def _rate(value, name):
    try:
        parse_rate(value)
    except ValueError:
        raise SettingError(
            "%s must be a rate such as '5/10 seconds' or '600/minute', not %r" % (name, value)
        ) from None
    return value.strip()


_REDIS_SCHEMES = (
    "redis",
    "rediss",
    "unix",
    "redis+sentinel",
    "rediss+sentinel",
    "redis+cluster",
    "rediss+cluster",
)


def _redis_url(value, name):
    # the scheme here; the rest when the storage parses it (wall/storage/connection.py)
    url = value.strip()
    if not url:
        return None
    if urlsplit(url).scheme not in _REDIS_SCHEMES:
        raise SettingError(
            "%s must be a URL of one of the schemes %s, not %r"
            % (name, ", ".join(s + "://" for s in _REDIS_SCHEMES), value)
        )
    return url


def _wall(value, name):
    try:
        return validation.wall_name(value)
    except Invalid:
        raise SettingError(
            "%s must be a wall name (a-z, 0-9, '-'), not %r" % (name, value)
        ) from None


def _origins(value, name):
    origins = [o.strip() for o in value.split(",") if o.strip()]
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingError(
                "%s must list origins such as https://example.org, not %r" % (name, origin)
            )
    return origins


def _log_level(value, name):
    level = value.strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise SettingError("%s must be a logging level such as INFO, not %r" % (name, value))
    return level


def _env(variable, parse, default):
    """A field read from ``variable`` with ``parse``; ``default`` is text, parsed alike."""
    return field(metadata={"env": variable, "parse": parse, "default_text": default})


@dataclass(frozen=True)
class Settings:
    """The settings of one app. Build with :meth:`from_environ`."""

    secret_key: str = _env("SECRET_KEY", _optional, "")
    wall_env: str = _env("WALL_ENV", _one_of("development", "production"), "development")
    host: str = _env("HOST", _text, "127.0.0.1")
    port: int = _env("PORT", _whole(1, 65535), "5000")
    async_mode: str = _env(
        "WALL_ASYNC_MODE", _one_of("eventlet", "gevent", "threading"), "eventlet"
    )
    #: None: start the embedded Redis in ``data_dir``
    redis_url: str = _env("REDIS_URL", _redis_url, "")
    data_dir: str = _env("WALL_DATA_DIR", _optional, "")
    redis_fsync: str = _env("WALL_REDIS_FSYNC", _one_of("everysec", "always"), "everysec")
    redis_min_replicas: int = _env("WALL_REDIS_MIN_REPLICAS", _whole(0, 16), "0")
    redis_replica_timeout_ms: int = _env("WALL_REDIS_REPLICA_TIMEOUT_MS", _whole(1, 2000), "1000")
    default_wall: str = _env("WALL_DEFAULT", _wall, "main")
    history: int = _env("WALL_HISTORY", _whole(1), "10000")
    rate_limits: bool = _env("WALL_RATE_LIMITS", _flag, "on")
    rate_limit_socket: str = _env("WALL_RATE_LIMIT_SOCKET", _rate, "5/10 seconds")
    rate_limit_client: str = _env("WALL_RATE_LIMIT_CLIENT", _rate, "10/10 seconds")
    rate_limit_ip: str = _env("WALL_RATE_LIMIT_IP", _rate, "12000/minute")
    rate_limit_echo: str = _env("WALL_RATE_LIMIT_ECHO", _rate, "60000/minute")
    rate_limit_create: str = _env("WALL_RATE_LIMIT_CREATE", _rate, "5/minute")
    rate_limit_create_ip: str = _env("WALL_RATE_LIMIT_CREATE_IP", _rate, "20/minute")
    rate_limit_keys: str = _env("WALL_RATE_LIMIT_KEYS", _rate, "20/minute")
    rate_limit_cookies: str = _env("WALL_RATE_LIMIT_COOKIES", _rate, "3000/5 minutes")
    rate_limit_passcodes: str = _env("WALL_RATE_LIMIT_PASSCODES", _rate, "20/minute")
    admin_token: str = _env("WALL_ADMIN_TOKEN", _optional, "")
    max_connections: int = _env("WALL_MAX_CONNECTIONS", _whole(1), "5000")
    max_connections_per_ip: int = _env("WALL_MAX_CONNECTIONS_PER_IP", _whole(1), "4000")
    max_connections_per_client: int = _env("WALL_MAX_CONNECTIONS_PER_CLIENT", _whole(1), "20")
    max_queue: int = _env("WALL_MAX_QUEUE", _whole(1), "1000")
    allowed_origins: list = _env("WALL_ALLOWED_ORIGINS", _origins, "")
    speed_test: bool = _env("WALL_SPEED_TEST", _flag, "on")
    direct_writes: bool = _env("WALL_DIRECT_WRITES", _flag, "on")
    websocket_compression: bool = _env("WALL_WEBSOCKET_COMPRESSION", _flag, "off")
    proxy_fix: int = _env("WALL_PROXY_FIX", _whole(0), "0")
    presence_timeout: float = _env("WALL_PRESENCE_TIMEOUT", _seconds, "30")
    log_level: str = _env("WALL_LOG_LEVEL", _log_level, "INFO")

    # Not read from the environment: set by create_app's test_config only.
    #: Flask-SocketIO's Redis message queue (its test client cannot run with one)
    message_queue: bool = True
    testing: bool = False
    #: whether SECRET_KEY came from the environment (production requires it)
    secret_key_set: bool = False
    #: how long the delivery reader's blocking read waits (tests shorten it)
    reader_block_ms: int = 5000
    #: how long an author may take back a post (tests shorten it)
    author_window_s: int = 15 * 60
    #: what :meth:`_checked` changed, for the app to log (this module does not log)
    notes: tuple = ()

    @classmethod
    def from_environ(cls, environ=None):
        """Read every variable from ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            if "env" not in f.metadata:
                continue
            raw = env.get(f.metadata["env"])
            if raw is None or (not raw.strip() and f.metadata["parse"] is not _text):
                raw = f.metadata["default_text"]
            values[f.name] = f.metadata["parse"](raw, f.metadata["env"])
        values["secret_key_set"] = bool(values["secret_key"])
        if not values["secret_key"]:
            values["secret_key"] = secrets.token_hex(32)  # per process: fine for development
        return cls(**values)._checked()

    def replace(self, overrides):
        """A copy with ``overrides`` (``{"REDIS_URL": ..., "RATE_LIMITS": True}``)
        applied; keys are the fields' names in any case. Values are used as given."""
        names = {f.name for f in dataclasses.fields(self)}
        changes = {}
        for key, value in overrides.items():
            name = key.lower()
            if name not in names:
                raise SettingError("unknown setting %r" % key)
            changes[name] = value
        return dataclasses.replace(self, **changes)._checked()

    def _checked(self):
        # One address may hold at most every session of the process.
        if self.max_connections_per_ip > self.max_connections:
            note = "WALL_MAX_CONNECTIONS_PER_IP=%d is above WALL_MAX_CONNECTIONS=%d; using %d" % (
                self.max_connections_per_ip,
                self.max_connections,
                self.max_connections,
            )
            return dataclasses.replace(
                self, max_connections_per_ip=self.max_connections, notes=self.notes + (note,)
            )
        return self

    @classmethod
    def variables(cls):
        """``[(variable, default text)]``, in declaration order (the README's table)."""
        return [
            (f.metadata["env"], f.metadata["default_text"])
            for f in dataclasses.fields(cls)
            if "env" in f.metadata
        ]

    def flask_config(self):
        """The keys Flask itself reads."""
        return {
            "SECRET_KEY": self.secret_key,
            "TESTING": self.testing,
            # Flask refuses bodies over this with 413; Socket.IO messages too.
            "MAX_CONTENT_LENGTH": protocol.MAX_MESSAGE_BYTES,
        }


def get(app):
    """The :class:`Settings` of ``app``."""
    return app.extensions["wall.settings"]
