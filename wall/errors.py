"""The error codes of the wire contract (docs/protocol.md), as exceptions, and
the one place that turns any exception into what a client receives.

Handlers raise :class:`WallError` subclasses. :func:`as_wall_error` maps
everything else: a Redis failure is ``unavailable`` (logged as a warning),
anything unexpected is ``internal`` (logged with its traceback, which never
reaches a client). :func:`ack` and :func:`json_body` give the two shapes.
"""

import redis

from . import protocol


class WallError(Exception):
    """A refusal a client can understand: a code, a message and a status."""

    code = protocol.INTERNAL
    status = 500

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    def to_dict(self):
        body = {"error": self.code, "message": self.message}
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return body


class Invalid(WallError):
    code = protocol.INVALID
    status = 400


class Unauthorized(WallError):
    code = protocol.UNAUTHORIZED
    status = 401


class Forbidden(WallError):
    code = protocol.FORBIDDEN
    status = 403


class NotFound(WallError):
    code = protocol.NOT_FOUND
    status = 404


class Exists(WallError):
    code = protocol.EXISTS
    status = 409


class Closed(WallError):
    code = protocol.CLOSED
    status = 403


class Banned(WallError):
    code = protocol.BANNED
    status = 403


class Rejected(WallError):
    code = protocol.REJECTED
    status = 422


class TooLarge(WallError):
    code = protocol.TOO_LARGE
    status = 413


class RateLimited(WallError):
    code = protocol.RATE_LIMITED
    status = 429


class Unavailable(WallError):
    code = protocol.UNAVAILABLE
    status = 503


class UnknownEvent(WallError):
    code = protocol.UNKNOWN_EVENT
    status = 400


class Internal(WallError):
    code = protocol.INTERNAL
    status = 500


UNAVAILABLE_MESSAGE = "The wall's storage is unavailable right now; try again shortly."
INTERNAL_MESSAGE = "The server failed to handle this; it has been logged."


def as_wall_error(exc, log, where):
    """The :class:`WallError` a client gets for ``exc``; logs what needs logging.

    :param log: the caller's logger; :param where: what failed, for the log.
    """
    if isinstance(exc, WallError):
        return exc
    if isinstance(exc, redis.RedisError):
        log.warning("%s: Redis unavailable: %s", where, exc)
        return Unavailable(UNAVAILABLE_MESSAGE)
    log.error("%s failed", where, exc_info=exc)
    return Internal(INTERNAL_MESSAGE)


def ack(error):
    """A Socket.IO ack for ``error``: ``{"ok": false, "error", "message"}``."""
    return {"ok": False, **error.to_dict()}


def json_body(error):
    """``(body, status)`` for an HTTP answer."""
    return error.to_dict(), error.status
