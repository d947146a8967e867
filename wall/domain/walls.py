"""Running a wall: its settings, its organisers, moderation, bans and the audit log.

A wall nobody created is an open wall without organiser, as before. Whoever
creates it gets an organiser key (random, 192 bits, kept only as a SHA-256
hash, compared in constant time, never logged); the operator's
``WALL_ADMIN_TOKEN`` can do everything an organiser can, on every wall.
Settings are cached per process with their version: the post script checks
the version, so a change takes effect everywhere at once (see
:mod:`wall.storage.walls`).
"""

import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .. import protocol, validation
from ..errors import Exists, Forbidden, Invalid, NotFound, Unauthorized, Unavailable
from ..storage import ratelimit
from .blocklist import MAX_ENTRIES, MAX_ENTRY, Blocklist

TITLE_MAX = 100
DESCRIPTION_MAX = 1000
SLOW_MODE_MAX = 3600
LABEL_MAX = 40
PASSCODE_MIN, PASSCODE_MAX = 4, 64
#: an organiser key is this prefix and this many random bytes, URL-safe base64
KEY_PREFIX, KEY_BYTES = "wk_", 24
#: audit entries a read returns at most
AUDIT_MAX = 500
_CACHE_SIZE = 10000


@dataclass
class WallSettings:
    """A wall's settings as the post path and the pages use them."""

    wall: str
    version: str = ""
    title: str = ""
    description: str = ""
    moderation: str = "open"
    blocklist: list = field(default_factory=list)
    blocklist_action: str = "hold"
    slow_mode_s: int = 0
    #: public (listed), unlisted (open to anyone with the link) or private (passcode)
    visibility: str = "public"
    #: the passcode's hash, or ""
    passcode: str = ""
    #: grows whenever the visibility or the passcode changes: older grants stop working
    grant: int = 0
    #: random, new with every grant, so that a wall made again has none of the old ones
    grant_salt: str = ""
    #: the wall has an organiser
    organized: bool = False
    filter: Blocklist = None

    @classmethod
    def from_meta(cls, wall, meta):
        blocklist = json.loads(meta.get("blocklist") or "[]")
        return cls(
            wall=wall,
            version=meta.get("v", ""),
            title=meta.get("title", ""),
            description=meta.get("description", ""),
            moderation=meta.get("moderation", "open"),
            blocklist=blocklist,
            blocklist_action=meta.get("blocklist_action", "hold"),
            slow_mode_s=int(meta.get("slow_mode_s") or 0),
            visibility=meta.get("visibility", "public"),
            passcode=meta.get("passcode", ""),
            grant=int(meta.get("g") or 0),
            grant_salt=meta.get("gs", ""),
            organized="created" in meta,
            filter=Blocklist(blocklist),
        )

    def public(self):
        """What anyone may read (``GET .../settings``, join acks, ``wall updated``)."""
        return {
            "wall": self.wall,
            "title": self.title,
            "description": self.description,
            "moderation": self.moderation,
            "slow_mode_s": self.slow_mode_s,
            "visibility": self.visibility,
        }

    def full(self):
        """What an organiser reads (never the passcode itself: only whether there is one)."""
        return {
            **self.public(),
            "blocklist": list(self.blocklist),
            "blocklist_action": self.blocklist_action,
            "passcode_set": bool(self.passcode),
        }

    @property
    def private(self):
        return self.visibility == "private"

    @property
    def listed(self):
        return self.visibility == "public"


@dataclass
class Actor:
    """Who did something: ``organizer`` (with its key's label), ``operator`` or ``author``."""

    kind: str
    label: str = ""
    key_id: str = ""

    def describe(self):
        return {"kind": self.kind, "label": self.label} if self.label else {"kind": self.kind}


def _hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def new_key():
    """A new organiser key (192 random bits) and its id."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES), secrets.token_hex(4)


class WallService:
    """:param store: a :class:`wall.storage.walls.WallStore`.
    :param posts: the :class:`wall.storage.posts.PostStore`.
    :param limits: :class:`WallLimits`.
    :param admin_token: ``WALL_ADMIN_TOKEN`` or None.
    :param secret: ``SECRET_KEY``, for author keys.
    :param default_wall: ``WALL_DEFAULT`` (claiming it needs the operator).
    """

    def __init__(
        self,
        store,
        posts,
        limits,
        admin_token,
        secret,
        default_wall,
        author_window_s=protocol.AUTHOR_WINDOW_S,
    ):
        self.store = store
        self.posts = posts
        self.limits = limits
        self.admin_token = admin_token
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self.default_wall = default_wall
        self.author_window_s = author_window_s
        self._cache = OrderedDict()

    # -- settings ---------------------------------------------------------------

    def settings(self, wall):
        """The wall's settings as stored now."""
        return self._remember(wall, WallSettings.from_meta(wall, self.store.meta(wall)))

    def cached(self, wall):
        """The wall's settings as this process last read them (the post path)."""
        settings = self._cache.get(wall)
        if settings is None:
            return self.settings(wall)
        self._cache.move_to_end(wall)
        return settings

    def forget(self, wall):
        """Drop the cached settings (the post script said they changed)."""
        self._cache.pop(wall, None)

    def _remember(self, wall, settings):
        self._cache[wall] = settings
        self._cache.move_to_end(wall)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return settings

    def update_settings(self, wall, changes, actor):
        """Apply a ``PATCH`` of settings; return the new settings (full)."""
        if not isinstance(changes, dict) or not changes:
            raise Invalid("Send a JSON object with the settings to change.")
        fields = {}
        for name, value in changes.items():
            if name == "moderation":
                fields[name] = _choice(value, protocol.MODERATION, name)
            elif name == "blocklist_action":
                fields[name] = _choice(value, protocol.BLOCKLIST_ACTIONS, name)
            elif name == "blocklist":
                fields[name] = json.dumps(_blocklist(value))
            elif name == "slow_mode_s":
                fields[name] = str(_whole(value, 0, SLOW_MODE_MAX, name))
            elif name == "title":
                fields[name] = _optional_text(value, name, TITLE_MAX, newlines=False)
            elif name == "description":
                fields[name] = _optional_text(value, name, DESCRIPTION_MAX, newlines=True)
            elif name == "visibility":
                fields[name] = _choice(value, protocol.VISIBILITIES, name)
            elif name == "passcode":
                removed = value is None or value == ""
                fields[name] = "" if removed else self._passcode_hash(wall, _passcode(value))
            else:
                raise Invalid("There is no setting %r." % str(name)[:40])
        current = self.settings(wall)
        merged = WallSettings.from_meta(wall, {**_meta_of(current), **fields})
        if merged.private and not merged.passcode:
            raise Invalid("A private wall needs a passcode: set one with it.")
        salt = ""
        if "visibility" in fields or "passcode" in fields:
            salt = secrets.token_hex(8)
        self.store.update(wall, fields, salt)
        self.audit(wall, actor, "settings", changes=sorted(fields))
        self.forget(wall)
        return self.settings(wall)

    # -- private walls ---------------------------------------------------------

    def _passcode_hash(self, wall, passcode):
        return hmac.new(
            self._secret, ("passcode|%s|%s" % (wall, passcode)).encode(), hashlib.sha256
        ).hexdigest()

    def unlock(self, wall, passcode, address):
        """The grant (a cookie value) for the right passcode of a private wall.

        :raise Forbidden: a wrong passcode (counted per address), or the wall
            is not private; :raise RateLimited: too many wrong passcodes.
        """
        self.limits.wrong_passcodes.check(address)
        settings = self.settings(wall)
        if not settings.private:
            raise Invalid("This wall is not private: nothing to unlock.")
        given = self._passcode_hash(wall, passcode if isinstance(passcode, str) else "")
        if not hmac.compare_digest(given, settings.passcode):
            self.limits.wrong_passcodes.hit(address)
            raise Forbidden("The passcode is wrong.")
        return self._grant_value(wall, settings.grant, settings.grant_salt)

    def _grant_value(self, wall, grant, salt):
        message = ("grant|%s|%d|%s" % (wall, grant, salt)).encode()
        mac = hmac.new(self._secret, message, hashlib.sha256)
        return "%d.%s" % (grant, mac.hexdigest()[:32])

    def granted(self, wall, grant, salt, cookie_value):
        """True if ``cookie_value`` grants the current ``grant`` of a private wall."""
        if not cookie_value:
            return False
        return hmac.compare_digest(cookie_value, self._grant_value(wall, grant, salt))

    def may_read(self, settings, cookies, actor=None):
        """May this caller read and post on the wall? ``cookies``: name -> value."""
        if not settings.private or actor is not None:
            return True
        return self.granted(
            settings.wall,
            settings.grant,
            settings.grant_salt,
            cookies.get(grant_cookie(settings.wall)),
        )

    # -- creation and organiser keys ---------------------------------------------

    def create(self, wall, title="", description="", who="", address="", operator=False):
        """Create a wall with its first organiser; return the organiser key.

        :raise Exists: the wall has an organiser already.
        :raise Forbidden: it has posts, or is the default wall, and the
            operator did not ask.
        """
        if not operator:
            self.limits.create_per_client.hit(who)
            self.limits.create_per_address.hit(address)
        if wall == self.default_wall and not operator:
            raise Forbidden("The default wall can only be given an organiser by the operator.")
        fields = {
            "title": _optional_text(title, "title", TITLE_MAX, newlines=False),
            "description": _optional_text(description, "description", DESCRIPTION_MAX, True),
            # a wall made again after its deletion starts with new grants
            "gs": secrets.token_hex(8),
        }
        key, key_id = new_key()
        record = {"hash": _hash(key), "label": "creator", "created": _now()}
        claimed = self.store.claim(wall, key_id, record, fields, operator)
        if claimed == 0:
            raise Exists("The wall %s already has an organiser." % wall)
        if claimed < 0:
            raise Forbidden(
                "The wall %s already has posts: only the operator can give it an organiser "
                "(Authorization: Bearer <WALL_ADMIN_TOKEN>, or flask wall create)." % wall
            )
        self.forget(wall)
        self.audit(wall, Actor("operator" if operator else "organizer", "creator"), "create")
        return key

    def add_key(self, wall, label, actor):
        """A new organiser key for ``wall`` (a co-organiser, or the operator's issue)."""
        label = _optional_text(label, "label", LABEL_MAX, newlines=False) or "organiser"
        if not self.settings(wall).organized:
            raise NotFound("The wall %s has no organiser; create it first." % wall)
        key, key_id = new_key()
        self.store.add_key(wall, key_id, {"hash": _hash(key), "label": label, "created": _now()})
        self.audit(wall, actor, "add key", key=key_id, key_label=label)
        return {"id": key_id, "label": label, "key": key}

    def keys(self, wall):
        return [
            {"id": key_id, "label": r["label"], "created": r["created"]}
            for key_id, r in sorted(
                self.store.organizer_keys(wall).items(), key=lambda kv: kv[1]["created"]
            )
        ]

    def revoke_key(self, wall, key_id, actor):
        if not self.store.revoke_key(wall, key_id):
            raise NotFound("There is no key %s on this wall." % str(key_id)[:20])
        self.audit(wall, actor, "revoke key", key=key_id)

    def authorize(self, wall, authorization, address):
        """The :class:`Actor` an ``Authorization: Bearer <key>`` header stands for.

        :raise Unauthorized: no key; :raise Forbidden: a wrong key;
        :raise RateLimited: too many wrong keys from this address.
        """
        token = _bearer(authorization)
        if token is None:
            raise Unauthorized("This needs the wall's organiser key: Authorization: Bearer <key>.")
        actor = self.actor_for(wall, token, address)
        if actor is None:
            raise Forbidden("The key is wrong for this wall.")
        return actor

    def actor_for(self, wall, token, address):
        """The :class:`Actor` of a key, or None (a wrong key, counted per address).

        A right key always works; past the limit of wrong ones, a wrong key
        is answered ``rate_limited`` (guessing a 192-bit key is hopeless
        anyway; the limit keeps a script from hammering the store).
        """
        if self.admin_token and hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Actor("operator")
        digest = _hash(token)
        for key_id, record in self.store.organizer_keys(wall).items():
            if hmac.compare_digest(digest, record["hash"]):
                return Actor("organizer", record["label"], key_id)
        self.limits.wrong_keys.hit(address)
        return None

    def is_operator(self, authorization):
        token = _bearer(authorization)
        return bool(
            token
            and self.admin_token
            and hmac.compare_digest(token.encode(), self.admin_token.encode())
        )

    # -- posts ---------------------------------------------------------------------

    def author_key(self, wall, post_id):
        """The key that lets a post's author take it back (derived, never stored)."""
        message = ("author|%s|%s" % (wall, post_id)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def moderate(self, wall, post_id, action, actor):
        """approve, hide, restore, pin or unpin; return the post as it is now."""
        post, changed = self.posts.moderate(wall, post_id, action)
        if post is None:
            if changed == "not_found":
                raise NotFound("There is no post %s on this wall." % post_id)
            if changed == "too_many":
                raise Invalid(
                    "A wall has at most %d pinned posts; unpin one first." % protocol.MAX_PINS
                )
            raise Invalid("A %s post cannot be %s." % (changed, _past(action)))
        if changed:
            self.audit(wall, actor, action, post=post_id)
        return post

    def delete_post(self, wall, post_id, actor):
        if not self.posts.delete_post(wall, post_id):
            raise NotFound("There is no post %s on this wall." % post_id)
        self.audit(wall, actor, "delete", post=post_id)

    def author_actor(self, wall, post_id, author_key=None, who=None):
        """An ``author`` :class:`Actor` if the caller wrote the post within the window.

        :raise Forbidden: a wrong author key, not the author, or too late.
        """
        post = self.posts.get(wall, post_id)
        if post is None:
            raise NotFound("There is no post %s on this wall." % post_id)
        mine = False
        if author_key:
            mine = hmac.compare_digest(author_key.encode(), self.author_key(wall, post_id).encode())
        elif who and who.startswith("c:"):
            recorded = self.posts.author(wall, post_id)
            mine = recorded is not None and hmac.compare_digest(recorded[0], who)
        if not mine:
            raise Forbidden("Only the organiser, or the post's author, can delete it.")
        if time.time() * 1000 - post["ts"] > self.author_window_s * 1000:
            raise Forbidden(
                "An author can take back a post within %d minutes only."
                % (self.author_window_s // 60)
            )
        return Actor("author")

    def like(self, wall, post_id, who, like=True, cookies=None, actor=None):
        """``who`` likes (or stops liking) a visible post; return ``(likes, liked)``.

        :raise Forbidden: a private wall, ``cookies`` carry no grant (as the
            settings are when the like is counted, not as last cached) and
            there is no ``actor`` (an organiser, who needs none).
        """
        for _ in range(3):
            settings = self.cached(wall)
            if not self.may_read(settings, cookies or {}, actor):
                raise Forbidden("This wall is private: unlock it with its passcode.")
            result = self.posts.like(wall, post_id, who, like, settings.version)
            if result != "stale":
                break
            self.forget(wall)
        else:
            raise Unavailable("The wall's settings kept changing; try again.")
        if result is None:
            raise NotFound("There is no post %s to like on this wall." % post_id)
        return result

    def flush_likes(self):
        """Write the likes changed meanwhile to each wall's stream (every process
        runs this a few times a second; each wall is flushed once per gap)."""
        for wall in self.posts.walls_with_new_likes():
            self.posts.flush_likes(wall, protocol.LIKES_FLUSH_MS)

    # -- bans ------------------------------------------------------------------------

    def ban(self, wall, post_id, scope, actor):
        """Ban the client (or, asked for, the address) that wrote ``post_id``."""
        post_id = validation.post_id(post_id, "post_id")
        scope = scope or "client"
        if scope not in ("client", "address"):
            raise Invalid("scope is client or address.")
        author = self.posts.author(wall, post_id)
        if author is None:
            raise NotFound("There is no post %s on this wall (or it is too old)." % post_id)
        who, address = author
        if scope == "address":
            if not address:
                raise Invalid("The address of that post's author is not known.")
            who = address
        record = {
            "id": secrets.token_hex(4),
            "who": who,
            "scope": scope,
            "post_id": post_id,
            "created": _now(),
        }
        self.store.ban(wall, record)
        self.audit(wall, actor, "ban", post=post_id, scope=scope)
        return _public_ban(record)

    def bans(self, wall):
        return [_public_ban(b) for b in self.store.bans(wall)]

    def lift_ban(self, wall, ban_id, actor):
        record = self.store.lift_ban(wall, ban_id)
        if record is None:
            raise NotFound("There is no ban %s on this wall." % str(ban_id)[:20])
        self.audit(wall, actor, "lift ban", post=record["post_id"], ban=ban_id)

    # -- the whole wall ------------------------------------------------------------------

    def clear(self, wall, actor):
        """Delete every post (each leaves every page, as a deletion does)."""
        deleted = sum(self.posts.delete_post(wall, pid) for pid in self.store.post_ids(wall))
        self.audit(wall, actor, "clear", posts=deleted)
        return deleted

    def delete_wall(self, wall, actor):
        """Clear the wall, then forget everything about it."""
        self.clear(wall, actor)
        self.store.delete_all(wall)
        self.forget(wall)

    def audit(self, wall, actor, action, **details):
        self.store.audit(wall, {"at": _now(), "by": actor.describe(), "action": action, **details})

    def audit_log(self, wall, limit=AUDIT_MAX):
        return self.store.audit_log(wall, limit)

    def export(self, wall):
        """Every post the wall keeps (any status but deleted), oldest first, lazily."""
        return self.posts.every_post(wall)


def grant_cookie(wall):
    """The name of the cookie that grants a private wall."""
    return "wall_grant_" + wall


class WallLimits:
    """The limits of running walls: creating them, wrong organiser keys and passcodes.

    :param storage: the ``limits`` storage, or None when ``WALL_RATE_LIMITS=off``.
    """

    def __init__(
        self,
        storage,
        create_per_client,
        create_per_address,
        wrong_keys,
        wrong_passcodes="20/minute",
    ):
        if storage is None:
            self.create_per_client = self.create_per_address = self.wrong_keys = ratelimit.NoLimit()
            self.wrong_passcodes = ratelimit.NoLimit()
            return
        self.wrong_passcodes = ratelimit.fixed_window(
            storage, wrong_passcodes, "wrong-passcode", "Too many wrong passcodes; wait %d s."
        )
        message = "Too many new walls; wait %d s."
        self.create_per_client = ratelimit.moving_window(
            storage, create_per_client, "create", message
        )
        self.create_per_address = ratelimit.moving_window(
            storage, create_per_address, "create-ip", message
        )
        self.wrong_keys = ratelimit.fixed_window(
            storage, wrong_keys, "wrong-key", "Too many wrong keys; wait %d s."
        )


def bearer(authorization):
    """True if an ``Authorization`` header carries a Bearer token (other schemes,
    such as a proxy's Basic, are not the wall's business)."""
    return _bearer(authorization) is not None


def _bearer(authorization):
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _now():
    return int(time.time() * 1000)


def _past(action):
    return {
        "approve": "approved",
        "hide": "hidden",
        "restore": "restored",
        "pin": "pinned",
        "unpin": "unpinned",
    }.get(action, action)


def _public_ban(record):
    return {k: record[k] for k in ("id", "scope", "post_id", "created")}


def _meta_of(settings):
    return {
        "v": settings.version,
        "title": settings.title,
        "description": settings.description,
        "moderation": settings.moderation,
        "blocklist": json.dumps(settings.blocklist),
        "blocklist_action": settings.blocklist_action,
        "slow_mode_s": str(settings.slow_mode_s),
        "visibility": settings.visibility,
        "passcode": settings.passcode,
        "g": str(settings.grant),
        **({"created": "1"} if settings.organized else {}),
    }


def _choice(value, choices, name):
    if value not in choices:
        raise Invalid("%s is one of %s." % (name, ", ".join(choices)))
    return value


def _whole(value, low, high, name):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid("%s is a whole number from %d to %d." % (name, low, high))
    return value


def _optional_text(value, name, maximum, newlines):
    if value is None or value == "":
        return ""
    return validation.text(value, name, maximum, newlines)


def _passcode(value):
    if not isinstance(value, str) or not PASSCODE_MIN <= len(value) <= PASSCODE_MAX:
        raise Invalid("A passcode is %d to %d characters." % (PASSCODE_MIN, PASSCODE_MAX))
    return value


def _blocklist(value):
    if not isinstance(value, list) or len(value) > MAX_ENTRIES:
        raise Invalid("blocklist is a list of at most %d words and phrases." % MAX_ENTRIES)
    entries = []
    for entry in value:
        entry = validation.text(entry, "blocklist entry", MAX_ENTRY, newlines=False)
        if entry not in entries:
            entries.append(entry)
    return entries
