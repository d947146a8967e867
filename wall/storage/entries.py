"""Stream entries and the wire contract's post objects.

A wall's stream holds posts (fields ``u`` username, ``m`` message, ``c``
client id) and deletion tombstones (``d``: the id of the post deleted).
Field names are short because every post pays for them. The stream id is
the post id, so ids sort in time order and a reader can resume from any id.
"""


def id_key(entry_id):
    """Sort key of a stream id: ``"12-3"`` -> ``(12, 3)``."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Deletion:
    """A tombstone read from a wall's stream: post ``post_id`` was deleted."""

    __slots__ = ("id", "post_id")

    def __init__(self, entry_id, post_id):
        self.id = entry_id
        self.post_id = post_id


def to_item(wall, entry_id, fields):
    """A post, or a :class:`Deletion` for a tombstone entry."""
    if "d" in fields:
        return Deletion(entry_id, fields["d"])
    return to_post(wall, entry_id, fields)


def to_post(wall, post_id, fields):
    """The post payload of the wire contract, from a stream entry."""
    return {
        "id": post_id,
        "wall": wall,
        "username": fields.get("u", ""),
        "message": fields.get("m", ""),
        "ts": id_key(post_id)[0],
        "client_id": fields.get("c") or None,
    }


def pairs(flat):
    """``[k1, v1, k2, v2]`` (as a Lua script returns an entry) -> ``{k1: v1, k2: v2}``."""
    return dict(zip(flat[0::2], flat[1::2]))
