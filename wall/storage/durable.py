"""Writes acknowledged only once replicas hold them (``WALL_REDIS_MIN_REPLICAS``).

Redis replicates asynchronously: a master killed right after a write may
take it along, and the replica promoted in its place never had it. ``WAIT
<replicas> <timeout>`` blocks until that many replicas hold every write made
so far *on the same connection*, so each batch of post scripts is sent in
one pipeline with its ``WAIT`` behind it, on one connection of the master
that serves its walls (on a cluster: one pipeline per master).

Guarantee: a post whose ack says it is stored is on at least ``replicas``
replicas; a failover that promotes one of them (Sentinel and Cluster pick
the most up-to-date replica) keeps it. A post that did not reach them in
time is answered :class:`NotReplicated` (``unavailable`` for the client),
even though the master may hold it: its retry with the same ``client_id``
finds it (the script then writes, so that the retry's ``WAIT`` covers the
original) and is acknowledged once the replicas have it too. Nothing is
stored twice; a post nobody was told is stored may still be lost with the
master, and watchers may have seen it.
"""

import redis
import redis.cluster

# the codes of scripts/add_post.lua that mean "the post is stored"
_STORED_CODES = (0, 1)


class NotReplicated(redis.exceptions.ConnectionError):
    """The write reached fewer replicas than asked within the timeout."""


class Durability:
    """Runs a script's calls followed by ``WAIT`` on the same connection(s).

    On a cluster it also serves without ``WAIT`` (``replicas=0``): one plain
    pipeline per master costs a quarter of what redis-py's cluster pipeline
    does per post (it works out every key's slot of every call, twice).

    :param client: the wall's Redis client (one server, Sentinel's master or
        a ``RedisCluster``).
    :param replicas: how many replicas must hold each write (0: no ``WAIT``).
    :param timeout_ms: how long to wait for them.
    """

    def __init__(self, client, replicas, timeout_ms):
        self.client = client
        self.replicas = replicas
        self.timeout_ms = timeout_ms

    def run(self, script, calls):
        """Run ``script`` once per ``(keys, args)`` in ``calls``; return one
        reply or exception per call, in order, as ``pipeline.execute(raise_on_error=False)``."""
        if not isinstance(self.client, redis.cluster.RedisCluster):
            return self._on(self.client, script, calls)
        # one connection per master: group the calls by the node of their first key
        groups = {}
        out = [None] * len(calls)
        lost = False
        for i, (script_keys, _) in enumerate(calls):
            try:
                node = self.client.get_node_from_key(script_keys[0])
            except redis.exceptions.RedisClusterException as exc:
                # no master for this slot right now (mid-failover): unavailable
                out[i] = redis.exceptions.ClusterDownError(str(exc))
                lost = True
                continue
            groups.setdefault(node.name, (node, []))[1].append(i)
        for node, indexes in groups.values():
            try:
                replies = self._on(
                    self.client.get_redis_connection(node), script, [calls[i] for i in indexes]
                )
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                # This master is down (or failing over): its posts are
                # unavailable, the other masters' walls go on.
                replies = [exc] * len(indexes)
                lost = True
            for i, reply in zip(indexes, replies):
                out[i] = reply
        moved = [i for i, r in enumerate(out) if _moved(r)]
        if lost or moved:
            # learn the promoted replica, or the slot's new owner, before the next batch
            try:
                self.client.nodes_manager.initialize()
            except (redis.RedisError, redis.exceptions.RedisClusterException):
                pass  # not settled yet: the next batch tries again
        if moved:
            # A slot moved (a reshard, a failover): nothing ran for those
            # calls. Without WAIT the cluster client runs them, following
            # MOVED and ASK; with it they are unavailable, and retried.
            if not self.replicas:
                for i in moved:
                    try:
                        out[i] = script(keys=calls[i][0], args=calls[i][1])
                    except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
                        out[i] = (
                            exc
                            if isinstance(exc, redis.RedisError)
                            else redis.exceptions.ClusterDownError(str(exc))
                        )
        return out

    def _on(self, client, script, calls):
        pipe = client.pipeline(transaction=False)
        for script_keys, args in calls:
            pipe.evalsha(script.sha, len(script_keys), *script_keys, *args)
        if not self.replicas:
            replies = pipe.execute(raise_on_error=False)
            acked = 0
        else:
            pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
            *replies, acked = pipe.execute(raise_on_error=False)
        missing = [
            i for i, r in enumerate(replies) if isinstance(r, redis.exceptions.NoScriptError)
        ]
        if missing:
            # not run: this server had lost its script cache (a restart, a
            # promoted replica); load it and run those again
            client.script_load(script.script)
            again = self._on(client, script, [calls[i] for i in missing])
            for i, reply in zip(missing, again):
                replies[i] = reply
        if self.replicas and (isinstance(acked, Exception) or int(acked) < self.replicas):
            error = NotReplicated(
                "The post reached %s of %d replicas within %d ms."
                % (
                    "none" if isinstance(acked, Exception) else acked,
                    self.replicas,
                    self.timeout_ms,
                )
            )
            replies = [
                error if isinstance(r, list) and r and r[0] in _STORED_CODES else r for r in replies
            ]
        return replies


def _moved(reply):
    # MovedError is an AskError
    return isinstance(reply, redis.exceptions.AskError)
