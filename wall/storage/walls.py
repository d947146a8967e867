"""What the wall keeps about running a wall: settings, organiser keys, bans, audit.

Settings live in one hash per wall with a version ``v`` that every change
increments; the post script compares the version the caller checked its
cached settings against, so a change takes effect on every process at
once. Organiser keys are kept only as SHA-256 hashes. Bans are a set of
``who`` strings that the post script checks, and a hash of their records.
"""

import json
import time

from . import keys, lua

AUDIT_KEEP = 10000  # audit records per wall, approximately


class WallStore:
    """:param client: a ``redis.Redis`` with ``decode_responses=True``."""

    def __init__(self, client):
        self.redis = client
        self._update = lua.register(client, "update_settings")
        self._claim = lua.register(client, "claim_wall")

    # -- settings ---------------------------------------------------------------

    def meta(self, wall):
        """The wall's settings hash as stored (``{}`` for a wall nobody claimed)."""
        return self.redis.hgetall(keys.meta(wall))

    def update(self, wall, fields, grant_salt=""):
        """Store ``fields`` (name -> text), bump the version, tell the wall's readers.

        A ``grant_salt`` ends every grant of the wall (a new passcode or
        visibility): see scripts/update_settings.lua.
        """
        args = [wall, grant_salt]
        for name, value in fields.items():
            args += [name, value]
        return self._update(keys=[keys.meta(wall), keys.posts(wall)], args=args)

    def claim(self, wall, key_id, key_record, fields, operator):
        """Make a wall's first organiser; see scripts/claim_wall.lua for the answer."""
        args = [
            "1" if operator else "0",
            key_id,
            json.dumps(key_record),
            int(time.time() * 1000),
            wall,
        ]
        for name, value in fields.items():
            args += [name, value]
        script_keys = [
            keys.meta(wall),
            keys.organizer_keys(wall),
            keys.posts(wall),
            keys.organized(wall),
        ]
        return int(self._claim(keys=script_keys, args=args))

    def has_posts(self, wall):
        return self.redis.exists(keys.posts(wall)) > 0

    def organized(self):
        """The walls that have an organiser."""
        walls = set()
        for group in keys.groups():
            walls |= self.redis.smembers(keys.organized(group=group))
        return sorted(walls)

    # -- organiser keys ------------------------------------------------------------

    def organizer_keys(self, wall):
        """key id -> ``{"hash", "label", "created"}``."""
        raw = self.redis.hgetall(keys.organizer_keys(wall))
        return {key_id: json.loads(record) for key_id, record in raw.items()}

    def add_key(self, wall, key_id, record):
        self.redis.hset(keys.organizer_keys(wall), key_id, json.dumps(record))

    def revoke_key(self, wall, key_id):
        return bool(self.redis.hdel(keys.organizer_keys(wall), key_id))

    # -- bans --------------------------------------------------------------------------

    def bans(self, wall):
        raw = self.redis.hgetall(keys.bans(wall))
        return sorted((json.loads(r) for r in raw.values()), key=lambda b: b["created"])

    def ban(self, wall, record):
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.bans(wall), record["id"], json.dumps(record))
        pipe.sadd(keys.banned(wall), record["who"])
        pipe.execute()

    def lift_ban(self, wall, ban_id):
        """Lift one ban; return its record, or None."""
        record = self.redis.hget(keys.bans(wall), ban_id)
        if record is None:
            return None
        record = json.loads(record)
        self.redis.hdel(keys.bans(wall), ban_id)
        still = any(b["who"] == record["who"] for b in self.bans(wall))
        if not still:
            self.redis.srem(keys.banned(wall), record["who"])
        return record

    # -- audit ---------------------------------------------------------------------------

    def audit(self, wall, record):
        self.redis.xadd(
            keys.audit(wall), {"j": json.dumps(record)}, maxlen=AUDIT_KEEP, approximate=True
        )

    def audit_log(self, wall, limit=500):
        """The newest ``limit`` audit records, newest first."""
        return [json.loads(f["j"]) for _, f in self.redis.xrevrange(keys.audit(wall), count=limit)]

    # -- the whole wall ----------------------------------------------------------------------

    def post_ids(self, wall):
        """Every post id the wall keeps (for clearing it), oldest first."""
        return self.redis.lrange(keys.post_ids(wall), 0, -1)

    def delete_all(self, wall):
        """Forget everything of a wall; readers behind get ``truncated`` (its mark)."""
        newest = self.redis.xrevrange(keys.posts(wall), count=1)
        pipe = self.redis.pipeline(transaction=True)
        for key in (
            keys.posts(wall),
            keys.meta(wall),
            keys.organizer_keys(wall),
            keys.post_ids(wall),
            keys.state(wall),
            keys.authors(wall),
            keys.pending(wall),
            keys.hidden(wall),
            keys.pinned(wall),
            keys.bans(wall),
            keys.banned(wall),
            keys.audit(wall),
            keys.popular(wall),
            keys.likes_changed(wall),
            keys.likes_gate(wall),
        ):
            pipe.delete(key)
        pipe.zrem(keys.index(wall), wall)
        pipe.srem(keys.organized(wall), wall)
        if newest:
            ms, _, seq = newest[0][0].partition("-")
            pipe.hset(keys.trimmed(wall), wall, "%s-%d" % (ms, int(seq) + 1))
        pipe.execute()
