"""Running a wall in the OpenAPI document: settings, the whole wall, organiser
keys, bans, the audit log and the export (docs/protocol.md, Running a wall)."""

from . import export as exports
from .openapi_common import (
    KEYED,
    OPTIONAL_ORGANIZER,
    ORGANIZER,
    UNSAFE_HEADERS,
    WALL_PARAM,
    errors,
    json_body,
    json_response,
    organizer_get,
    ref,
)


def _param(name, description):
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _change(method, operation_id, summary, reply, status="200", body=None, params=(), codes=()):
    """An unsafe method only an organiser may call."""
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["organisers"],
        "security": ORGANIZER,
        "parameters": [WALL_PARAM, *params, *UNSAFE_HEADERS],
        "responses": {
            status: json_response(ref(reply), "Done."),
            **errors(*KEYED, *codes, *(("too_large",) if body else ())),
        },
    }
    if body:
        operation["requestBody"] = body
    return {method: operation}


_KEY_ID = _param("key_id", "A key's id (GET .../keys).")
_BAN_ID = _param("ban_id", "A ban's id (GET .../bans).")

PATHS = {
    "/api/walls/{wall}": _change(
        "delete",
        "delete_wall",
        "Delete every post, the settings, keys, bans and audit log: it becomes an "
        "open wall nobody created.",
        "WallDeleted",
    ),
    "/api/walls/{wall}/settings": {
        "get": {
            "operationId": "read_settings",
            "summary": "The public settings; with the organiser key, all of them.",
            "description": "A private wall, without its grant: only its name and visibility.",
            "tags": ["organisers"],
            "security": OPTIONAL_ORGANIZER,
            "parameters": [WALL_PARAM],
            "responses": {
                "200": json_response(
                    {
                        "oneOf": [
                            ref("FullSettings"),
                            ref("PublicSettings"),
                            ref("LockedSettings"),
                        ]
                    },
                    "The settings.",
                ),
                **errors(*KEYED),
            },
        },
        **_change(
            "patch",
            "change_settings",
            "Change any of the settings; every page on the wall gets 'wall updated'.",
            "FullSettings",
            body=json_body(ref("SettingsChange")),
        ),
    },
    "/api/walls/{wall}/clear": _change(
        "post", "clear_wall", "Delete every post of the wall.", "Cleared"
    ),
    "/api/walls/{wall}/keys": {
        **organizer_get(
            "list_keys", "The wall's organiser keys (never the keys).", "Keys", "Keys."
        ),
        **_change(
            "post",
            "add_key",
            "A co-organiser key with a label (the operator: for any wall with an organiser).",
            "IssuedKey",
            status="201",
            body=json_body(ref("NewKey"), required=False),
            codes=("not_found",),
        ),
    },
    "/api/walls/{wall}/keys/{key_id}": _change(
        "delete", "revoke_key", "Revoke a key.", "Revoked", params=[_KEY_ID], codes=("not_found",)
    ),
    "/api/walls/{wall}/bans": {
        **organizer_get("list_bans", "The wall's bans, oldest first.", "Bans", "Bans."),
        **_change(
            "post",
            "add_ban",
            "Ban the author of a post from posting here: its client or, with scope "
            "address, everyone behind its address (the reply warns).",
            "BanReply",
            status="201",
            body=json_body(ref("NewBan")),
            codes=("not_found",),
        ),
    },
    "/api/walls/{wall}/bans/{ban_id}": _change(
        "delete", "lift_ban", "Lift a ban.", "Lifted", params=[_BAN_ID], codes=("not_found",)
    ),
    "/api/walls/{wall}/audit": organizer_get(
        "read_audit", "Who did what to which post, when; newest first.", "Audit", "The log."
    ),
    "/api/walls/{wall}/export": {
        "get": {
            "operationId": "export",
            "summary": "Every post the wall keeps, any status but deleted, oldest first, "
            "streamed as a file.",
            "tags": ["organisers"],
            "security": ORGANIZER,
            "parameters": [
                WALL_PARAM,
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["csv", "json"], "default": "csv"},
                },
            ],
            "responses": {
                "200": {
                    "description": "CSV: a UTF-8 BOM, the header row %s, a row a post "
                    "(time in ISO 8601 UTC). JSON: one document." % ",".join(exports.FIELDS),
                    "headers": {
                        "Content-Disposition": {
                            "description": 'attachment; filename="wall-<wall>-<date>.<format>"',
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/json": {"schema": ref("Export")},
                    },
                },
                **errors(*KEYED),
            },
        }
    },
}
