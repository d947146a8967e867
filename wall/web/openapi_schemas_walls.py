"""The component schemas of running a wall: creating it, its settings, keys,
bans, audit log, export and a private wall's unlocking (docs/protocol.md,
Running a wall), bounded by the constants of :mod:`wall.domain.walls`."""

import math

from .. import protocol
from ..domain import blocklist
from ..domain import walls as walls_module
from .api import MODERATION_ACTIONS
from .openapi_common import NAME, WALL_PATTERN, obj, ref

_KEY_CHARS = math.ceil(walls_module.KEY_BYTES * 4 / 3)  # URL-safe base64, unpadded
ORGANIZER_KEY = {
    "type": "string",
    "pattern": "^%s[A-Za-z0-9_-]{%d}$" % (walls_module.KEY_PREFIX, _KEY_CHARS),
    "description": "Shown once; only its hash is kept.",
}
MS = {"type": "integer", "minimum": 0, "description": "Milliseconds since the Unix epoch."}
ID = {"type": "string", "minLength": 1}


def _text(maximum, what):
    return {
        "type": ["string", "null"],
        "maxLength": maximum,
        "description": '%s; validated like a message; "" or null clears it.' % what,
    }


_TITLE = _text(walls_module.TITLE_MAX, "No line breaks")
_DESCRIPTION = _text(walls_module.DESCRIPTION_MAX, "Line breaks allowed")
_MODERATION = {"type": "string", "enum": list(protocol.MODERATION)}
_VISIBILITY = {"type": "string", "enum": list(protocol.VISIBILITIES)}
_SLOW_MODE = {"type": "integer", "minimum": 0, "maximum": walls_module.SLOW_MODE_MAX}
_BLOCKLIST = {
    "type": "array",
    "maxItems": blocklist.MAX_ENTRIES,
    "items": {"type": "string", "minLength": 1, "maxLength": blocklist.MAX_ENTRY},
    "description": "Words and phrases, matched case- and accent-insensitively on "
    "whole words after NFKC case folding, in the username and the message.",
}
_BLOCKLIST_ACTION = {"type": "string", "enum": list(protocol.BLOCKLIST_ACTIONS)}
_PUBLIC = {
    "wall": NAME,
    "title": {"type": "string", "maxLength": walls_module.TITLE_MAX},
    "description": {"type": "string", "maxLength": walls_module.DESCRIPTION_MAX},
    "moderation": _MODERATION,
    "slow_mode_s": _SLOW_MODE,
    "visibility": _VISIBILITY,
}
_FULL = {
    **_PUBLIC,
    "blocklist": _BLOCKLIST,
    "blocklist_action": _BLOCKLIST_ACTION,
    "passcode_set": {"type": "boolean"},
}
_BAN_SCOPES = ["client", "address"]
# What wall/domain/walls.py writes to the audit log.
_AUDIT_ACTIONS = [
    "create",
    "settings",
    "add key",
    "revoke key",
    *MODERATION_ACTIONS,
    "delete",
    "ban",
    "lift ban",
    "clear",
]

WALL_SCHEMAS = {
    "NewWall": {
        "type": "object",
        "description": "Unknown fields are ignored.",
        "required": ["wall"],
        "properties": {
            "wall": {"type": "string", "pattern": WALL_PATTERN},
            "title": _TITLE,
            "description": _DESCRIPTION,
        },
    },
    "CreatedWall": obj(
        ["wall", "organizer_key", "organizer_url"],
        {
            "wall": NAME,
            "organizer_key": ORGANIZER_KEY,
            "organizer_url": {
                "type": "string",
                "pattern": "^/w/[a-z0-9-]+/manage#key=",
                "description": "/w/<wall>/manage#key=<key>: a fragment, so the key "
                "never reaches a server log.",
            },
        },
    ),
    "PublicSettings": obj(list(_PUBLIC), _PUBLIC),
    "FullSettings": obj(
        list(_FULL), _FULL, description="What the organiser reads: never the passcode."
    ),
    "LockedSettings": obj(
        ["wall", "visibility"],
        {"wall": NAME, "visibility": _VISIBILITY},
        description="A private wall, to a caller without its grant.",
    ),
    "SettingsChange": {
        "type": "object",
        "description": "Any of the settings; another field is 400 invalid.",
        "minProperties": 1,
        "properties": {
            "moderation": _MODERATION,
            "blocklist": _BLOCKLIST,
            "blocklist_action": _BLOCKLIST_ACTION,
            "slow_mode_s": _SLOW_MODE,
            "title": _TITLE,
            "description": _DESCRIPTION,
            "visibility": _VISIBILITY,
            "passcode": {
                "anyOf": [
                    {
                        "type": "string",
                        "minLength": walls_module.PASSCODE_MIN,
                        "maxLength": walls_module.PASSCODE_MAX,
                    },
                    {"enum": ["", None]},
                ],
                "description": 'Needed for private; "" or null removes it. Kept as a '
                "keyed hash, never shown again.",
            },
        },
        "additionalProperties": False,
    },
    "Key": obj(["id", "label", "created"], {"id": ID, "label": {"type": "string"}, "created": MS}),
    "Keys": obj(["keys"], {"keys": {"type": "array", "items": ref("Key")}}),
    "NewKey": {
        "type": "object",
        "properties": {
            "label": {"type": ["string", "null"], "maxLength": walls_module.LABEL_MAX},
        },
    },
    "IssuedKey": obj(
        ["key"],
        {
            "key": obj(
                ["id", "label", "key"],
                {"id": ID, "label": {"type": "string"}, "key": ORGANIZER_KEY},
            )
        },
    ),
    "Revoked": obj(["wall", "id", "revoked"], {"wall": NAME, "id": ID, "revoked": {"const": True}}),
    "NewBan": {
        "type": "object",
        "required": ["post_id"],
        "properties": {
            "post_id": ref("PostId"),
            "scope": {
                "enum": [*_BAN_SCOPES, None],
                "description": "client (the default: its cookie, or its session) or "
                "address (everyone behind it).",
            },
        },
    },
    "Ban": obj(
        ["id", "scope", "post_id", "created"],
        {"id": ID, "scope": {"enum": _BAN_SCOPES}, "post_id": ref("PostId"), "created": MS},
    ),
    "BanReply": obj(
        ["ban"],
        {
            "ban": ref("Ban"),
            "warning": {"type": "string", "description": "With scope address."},
        },
    ),
    "Bans": obj(["wall", "bans"], {"wall": NAME, "bans": {"type": "array", "items": ref("Ban")}}),
    "Lifted": obj(["wall", "id", "lifted"], {"wall": NAME, "id": ID, "lifted": {"const": True}}),
    "Cleared": obj(
        ["wall", "deleted"],
        {"wall": NAME, "deleted": {"type": "integer", "minimum": 0, "description": "Posts."}},
    ),
    "WallDeleted": obj(["wall", "deleted"], {"wall": NAME, "deleted": {"const": True}}),
    "AuditEntry": obj(
        ["at", "by", "action"],
        {
            "at": MS,
            "by": obj(
                ["kind"],
                {
                    "kind": {"enum": ["organizer", "operator", "author"]},
                    "label": {"type": "string", "description": "An organiser key's label."},
                },
            ),
            "action": {"enum": _AUDIT_ACTIONS},
            "post": ref("PostId"),
            "changes": {"type": "array", "items": {"type": "string"}},
            "key": ID,
            "key_label": {"type": "string"},
            "scope": {"enum": _BAN_SCOPES},
            "ban": ID,
            "posts": {"type": "integer", "minimum": 0},
        },
    ),
    "Audit": obj(
        ["wall", "entries"],
        {
            "wall": NAME,
            "entries": {
                "type": "array",
                "items": ref("AuditEntry"),
                "maxItems": walls_module.AUDIT_MAX,
            },
        },
    ),
    "Export": obj(
        ["wall", "posts"],
        {"wall": NAME, "posts": {"type": "array", "items": ref("Post")}},
        description="Every post the wall keeps, any status but deleted, oldest first.",
    ),
    "Passcode": {
        "type": "object",
        "properties": {"passcode": {"type": "string"}},
    },
    "Unlocked": obj(["wall", "ok"], {"wall": NAME, "ok": {"const": True}}),
}
