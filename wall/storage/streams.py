"""Reading many streams at once, and the wake-up streams that interrupt a read.

One process follows every wall it has sockets on with one blocking
``XREAD``. A newly watched wall must be read at once, not after the read in
progress times out, so each process also reads a stream of its own: adding
an entry there ends the blocking read, and the next one names the new wall.
"""

from . import keys
from .entries import EntryLog, parse


def newest_id(client, key):
    """The id of the newest entry of the stream ``key``, or ``0-0`` when empty."""
    newest = client.xrevrange(key, "+", "-", count=1)
    return newest[0][0] if newest else "0-0"


class StreamReader:
    """Blocking reads of walls' streams for one process.

    :param client: a Redis client (``decode_responses=True``) for short commands.
    :param process_id: this process's name in the wake-up key.
    :param entries: the :class:`~wall.storage.entries.EntryLog` of skipped entries.
    :param group: the slot group it reads (one ``XREAD`` names one slot on a cluster).
    """

    def __init__(self, client, process_id, entries=None, group=0):
        self.redis = client
        self.wake_key = keys.wake(process_id, group)
        self.entries = entries or EntryLog()

    def read(self, client, positions, wake_position, block_ms, count):
        """Block until a wall of ``positions`` (wall -> id) or the wake-up stream has news.

        :param client: the caller's own connection, since the call blocks.
        :return: ``(walls, wake_position)``: ``[(wall, [post, Deletion or
                 Skipped...])]`` and the wake-up stream's new position.
        """
        streams = {keys.posts(wall): position for wall, position in positions.items()}
        streams[self.wake_key] = wake_position
        replies = client.xread(streams, count=count, block=block_ms) or []
        walls = []
        for key, entries in replies:
            wall = keys.wall_of(key)
            if wall is None:
                wake_position = entries[-1][0]
            else:
                walls.append((wall, [parse(wall, i, f, self.entries) for i, f in entries]))
        return walls, wake_position

    def last_wake(self):
        """Where a reader starting now resumes the wake-up stream."""
        return newest_id(self.redis, self.wake_key)

    def wake(self):
        """Interrupt the blocking read of this process."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(self.wake_key, {"w": "1"}, maxlen=10, approximate=False)
        pipe.expire(self.wake_key, 3600)
        pipe.execute()
