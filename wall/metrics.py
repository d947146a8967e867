"""Metrics for operators at ``/metrics``, in Prometheus text format.

Each app has its own registry (the tests build many apps in one process).
Gauges are read at scrape time from the live state, so they cannot drift.
"""

import gc

from prometheus_client import CollectorRegistry, Counter, Gauge, GCCollector, Histogram


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.posts_stored = Counter(
            "wall_posts_stored", "Posts stored (idempotent repeats not counted)", registry=r
        )
        self.deliveries = Counter(
            "wall_deliveries",
            "Posts and deletions emitted to local sockets, per socket",
            registry=r,
        )
        self.delivery_lag = Histogram(
            "wall_delivery_lag_seconds",
            "From a post's store time to its emit here",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.redis_errors = Counter(
            "wall_redis_errors", "Redis commands that failed", ["where"], registry=r
        )
        self.rate_limited = Counter(
            "wall_rate_limited", "Posts refused by a rate limit", registry=r
        )
        self.packets_refused = Counter(
            "wall_packets_refused",
            "Sessions closed for binary or malformed packets",
            registry=r,
        )
        self.resyncs = Counter(
            "wall_resyncs", "Walls a reader could not continue gap-free", registry=r
        )
        self.entries_skipped = Counter(
            "wall_stream_entries_skipped",
            "Stream entries this version does not understand, skipped (each counted once)",
            registry=r,
        )
        self.loop_restarts = Counter(
            "wall_loop_restarts",
            "Background loops restarted after they ended or raised",
            ["loop"],
            registry=r,
        )
        self.connections = Gauge(
            "wall_connections", "Open engine.io sessions by transport", ["transport"], registry=r
        )
        self.broadcast = Gauge(
            "wall_broadcast_frames",
            "Events emitted to sockets, by path: written at once, or queued",
            ["path"],
            registry=r,
        )
        self.joined = Gauge("wall_joined_sockets", "Socket joins to walls, here", registry=r)
        self.walls = Gauge("wall_walls_read", "Walls this process reads", registry=r)
        self.refused = Gauge(
            "wall_connections_refused",
            "New sessions turned away (full, draining, or too many from one address)",
            registry=r,
        )
        self.slow_closed = Gauge(
            "wall_slow_sessions_closed",
            "Sessions closed because their client stopped reading",
            registry=r,
        )
        self.fast_paths = Gauge(
            "wall_fast_path",
            "1 if a patch of wall/drivers is active in this process, 0 if the library's "
            "own path serves (its targets changed, or it is not for this async mode)",
            ["name"],
            registry=r,
        )
        # python_gc_collections_total and friends: full collections are
        # what a reconnect storm pays for (wall/serve.py)
        GCCollector(registry=r)
        self.gc_threshold = Gauge(
            "wall_gc_threshold",
            "The garbage collector's threshold per generation (wall/serve.py tunes it)",
            ["generation"],
            registry=r,
        )
        self.gc_frozen = Gauge(
            "wall_gc_frozen_objects",
            "Objects frozen at startup, which no collection visits",
            registry=r,
        )

    def observe(self, realtime, fast_paths):
        """Refresh the gauges from the live state, just before a scrape.

        :param realtime: the app's :class:`wall.realtime.Realtime`.
        :param fast_paths: patch name -> active (:func:`wall.drivers.status`).
        """
        counts = {"websocket": 0, "polling": 0}
        server = realtime.server
        for sock in list(server.eio.sockets.values()) if server else ():
            counts["websocket" if sock.upgraded else "polling"] += 1
        for transport, count in counts.items():
            self.connections.labels(transport).set(count)
        delivery, gate, broadcast = realtime.delivery, realtime.gate, realtime.broadcast
        self.joined.set(delivery.joined_count())
        self.walls.set(len(delivery.walls()))
        self.refused.set(gate.refused)
        self.slow_closed.set(gate.slow_closed)
        self.broadcast.labels("direct").set(broadcast.direct)
        self.broadcast.labels("queued").set(broadcast.queued)
        fast_paths = dict(fast_paths)
        if not broadcast.direct_writes:  # WALL_DIRECT_WRITES=off: installed, not used
            fast_paths["eventlet.direct_writes"] = False
        for name, active in fast_paths.items():
            self.fast_paths.labels(name).set(1 if active else 0)
        for generation, threshold in enumerate(gc.get_threshold()):
            self.gc_threshold.labels(str(generation)).set(threshold)
        self.gc_frozen.set(gc.get_freeze_count())
