"""Who a client is: the ``wall_client`` cookie, a session, or an address.

Every page sets the cookie (a random 128-bit id signed with ``SECRET_KEY``,
so every process of a deployment verifies it) when the browser has none or
one that does not verify. It identifies a browser for author rights, bans,
likes and limits; there are no accounts. A Socket.IO session without it is
identified by its session, an HTTP call without it by its address. The
identity is written ``c:<id>``, ``s:<session>`` or ``h:<address>``.
"""

import secrets
from http.cookies import CookieError, SimpleCookie

from itsdangerous import BadSignature, Signer

COOKIE = "wall_client"
MAX_AGE = 365 * 24 * 3600


class ClientCookies:
    """Mints and verifies ``wall_client`` cookies.

    :param secret: the app's ``SECRET_KEY``.
    :param mint_limit: new cookies per address (a script that drops its cookie
        to dodge the per-client limits gets no new one past it), a limit of
        :mod:`wall.storage.ratelimit`, or None.
    """

    def __init__(self, secret, mint_limit=None):
        self._signer = Signer(secret, salt="wall-client")
        self.mint_limit = mint_limit

    def mint(self, address=None):
        """A new client: ``(client id, cookie value)``.

        :raise RateLimited: this address got too many new cookies lately.
        """
        if self.mint_limit is not None:
            self.mint_limit.hit(address)
        client_id = secrets.token_hex(16)
        return client_id, self._signer.sign(client_id).decode()

    def verify(self, value):
        """The client id of a cookie value, or None when it does not verify."""
        if not value or len(value) > 200:
            return None
        try:
            return self._signer.unsign(value).decode()
        except (BadSignature, UnicodeDecodeError):
            return None

    def from_environ(self, environ):
        """The verified client id of a request's ``Cookie`` header, or None."""
        header = environ.get("HTTP_COOKIE")
        if not header or COOKIE not in header:
            return None
        try:
            morsel = SimpleCookie(header).get(COOKIE)
        except CookieError:
            return None
        return self.verify(morsel.value) if morsel is not None else None


def cookies(environ):
    """A request's cookies, name -> value (``{}`` for none or a bad header)."""
    header = environ.get("HTTP_COOKIE")
    if not header:
        return {}
    try:
        return {name: morsel.value for name, morsel in SimpleCookie(header).items()}
    except CookieError:
        return {}


def who(client_id=None, sid=None, address=None):
    """The identity a limit, a ban or a like is kept for.

    An HTTP call without cookie is ``h:<address>``, never ``a:<address>``,
    which names a ban of the whole address: banning such a caller "by
    client" bans the cookieless scripts at that address, not the browsers
    behind it.
    """
    if client_id:
        return "c:" + client_id
    if sid:
        return "s:" + sid
    return "h:" + (address or "unknown")


def address_who(address):
    """How a ban by address names it (``a:<ip>``), or "" without an address."""
    return "a:" + address if address else ""
