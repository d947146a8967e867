"""The error codes of the wire contract (docs/protocol.md), as exceptions.

Handlers raise these; the socket layer turns them into an ack
``{"ok": false, "error", "message"}`` and the HTTP layer into a JSON body with
the matching status. Anything else that escapes is a bug, logged and answered
as ``internal`` without its traceback.
"""


class WallError(Exception):
    """A refusal a client can understand: a code, a message and a status."""

    code = "internal"
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
    code = "invalid"
    status = 400


class Unauthorized(WallError):
    code = "unauthorized"
    status = 401


class Forbidden(WallError):
    code = "forbidden"
    status = 403


class NotFound(WallError):
    code = "not_found"
    status = 404


class TooLarge(WallError):
    code = "too_large"
    status = 413


class RateLimited(WallError):
    code = "rate_limited"
    status = 429


class Unavailable(WallError):
    code = "unavailable"
    status = 503


UNAVAILABLE_MESSAGE = "The wall's storage is unavailable right now; try again shortly."
