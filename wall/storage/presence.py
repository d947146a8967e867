"""Online counts in Redis: each process's count per wall, and its heartbeat."""

import time

from . import keys, lua


class PresenceStore:
    """:param client: a Redis client with ``decode_responses=True``."""

    def __init__(self, client):
        self.redis = client
        self._sync = lua.register(client, "presence")

    def sync(self, wall, process_id, count, timeout_s):
        """Record this process's socket count on a wall.

        :return: ``(total, announce)``: the count across live processes, and
                 1 if the caller should announce it now, 0 if it is unchanged,
                 -1 if another process announced within the last second.
        """
        now = int(time.time() * 1000)
        script_keys = [
            keys.online(wall),
            keys.processes(wall),
            keys.online_last(wall),
            keys.online_gate(wall),
        ]
        args = [process_id, count, now, now - int(timeout_s * 1000), 1000]
        total, announce = self._sync(keys=script_keys, args=args)
        return int(total), int(announce)

    def heartbeat(self, process_id, counts, timeout_s):
        """Keep this process alive in presence and re-state its counts.

        Re-stating makes presence whole again after Redis lost its data.
        """
        now = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        for group in keys.groups():
            pipe.zadd(keys.processes(group=group), {process_id: now})
            pipe.zremrangebyscore(
                keys.processes(group=group), "-inf", now - int(timeout_s * 1000) - 1
            )
        for wall, count in counts.items():
            pipe.hset(keys.online(wall), process_id, count)
        pipe.execute()

    def forget_process(self, process_id, walls):
        """Remove a stopping process from presence at once."""
        pipe = self.redis.pipeline(transaction=False)
        for wall in walls:
            pipe.hdel(keys.online(wall), process_id)
        for group in keys.groups():
            pipe.zrem(keys.processes(group=group), process_id)
        pipe.execute()

    def online(self, wall, timeout_s):
        """Sockets on ``wall`` across live processes (read only)."""
        now = int(time.time() * 1000)
        counts = self.redis.hgetall(keys.online(wall))
        if not counts:
            return 0
        seen = self.redis.zmscore(keys.processes(wall), list(counts))
        alive = now - int(timeout_s * 1000)
        return sum(int(c) for c, s in zip(counts.values(), seen) if s is not None and s >= alive)
