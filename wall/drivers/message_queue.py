"""Flask-SocketIO's Redis message queue, with a listener that cannot go deaf.

python-socketio's ``RedisManager`` blocks on its subscription with no
timeout, so a connection that dies silently (a dropped NAT entry, a
half-open TCP connection) leaves the process deaf to other processes'
emits for good, and after an outage it retries with waits growing to a
minute. This subclass publishes a heartbeat into its own channel every few
seconds and, when its own heartbeats stop coming back, drops the
subscription connection so that it is made again at once; reconnects are
retried every second. Posts do not travel here (they come from the Redis
Streams); this keeps ``online`` counts and other emits flowing.

It overrides private methods of ``RedisManager``; if they changed, the
stock manager serves (without the liveness check) and a warning says so.
"""

import logging
import time

from socketio import RedisManager

from . import Patch, Target

log = logging.getLogger(__name__)

HEARTBEAT = "wall-heartbeat"


class _Stopped(BaseException):
    """Ends the listener: the library's loop around it catches every Exception."""


LIVENESS = Patch(
    "socketio.message_queue_liveness",
    "the message queue's subscription is checked by heartbeats and made again when silent",
    [
        Target(
            "socketio.redis_manager",
            "RedisManager._redis_listen_with_retries",
            "python-socketio",
            "a19262da0295",
        ),
        Target(
            "socketio.redis_manager",
            "RedisManager._redis_connect",
            "python-socketio",
            "da4530c93632",
            sets=("pubsub",),
        ),
        Target("socketio.redis_manager", "RedisManager._listen", "python-socketio", "cf4821d0f65d"),
        Target(
            "socketio.redis_manager", "RedisManager._publish", "python-socketio", "9218e2786bc4"
        ),
        Target(
            "socketio.redis_manager", "RedisManager.__init__", "python-socketio", "192d50bfc5bf"
        ),
        Target(
            "socketio.pubsub_manager", "PubSubManager._thread", "python-socketio", "ecce2e6d1001"
        ),
        Target(
            "socketio.pubsub_manager",
            "PubSubManager.__init__",
            "python-socketio",
            "81c6a9f1e359",
            sets=("host_id",),
        ),
    ],
    {"python-socketio": "5.18.1"},
)


def manager(url, channel, redis_options, heartbeat=5.0, on_restart=None, connect=None):
    """The client manager for ``socketio.init_app``: the watched one, or the stock one.

    :param connect: ``(socket_timeout) -> Redis client`` for every form of
        ``REDIS_URL`` (Sentinel, Cluster); the stock manager knows one Redis
        and python-socketio's ``redis+sentinel://`` only.
    """
    if LIVENESS.usable():
        LIVENESS.active = True
        return WatchedRedisManager(url, channel, redis_options, heartbeat, on_restart, connect)
    return RedisManager(url, channel=channel, redis_options=redis_options)


class WatchedRedisManager(RedisManager):
    """:param heartbeat: seconds between heartbeats; the subscription is
    declared dead after three missed ones."""

    name = "wall-redis"

    def __init__(self, url, channel, redis_options, heartbeat=5.0, on_restart=None, connect=None):
        # Heartbeats keep the subscription busy, so a read that waits three
        # of them has met a dead connection: time it out and resubscribe.
        # Publishes get the same bound instead of hanging forever.
        redis_options = dict(redis_options, socket_timeout=3 * heartbeat)
        super().__init__(url, channel=channel, redis_options=redis_options)
        self.heartbeat = heartbeat
        self.last_heard = time.monotonic()
        self.reconnects = 0
        #: called when the listener had to be restarted (a metric)
        self.on_restart = on_restart
        self._connect = connect
        self.started = False
        self.stopped = False
        self._last_kick = 0.0
        self._watchdog_task = None

    def initialize(self):
        super().initialize()
        self.started = True
        self.last_heard = time.monotonic()
        self._watchdog_task = self.server.start_background_task(self._watchdog)

    def stop(self):
        """End the listener and the heartbeats; return once both have.

        A server never needs this (it exits); the tests make managers in one process.
        """
        self.stopped = True
        try:
            self.pubsub.connection.disconnect()  # wakes the listener from its read
        except Exception:
            pass
        for task in (getattr(self, "thread", None), self._watchdog_task):
            if task is not None:
                task.join()

    def _redis_connect(self):
        # As the library's, for every form of REDIS_URL (a cluster's pub/sub
        # is the classic one: a PUBLISH on any node reaches every subscriber).
        if self._connect is None:
            return super()._redis_connect()
        self.redis = self._connect(3 * self.heartbeat)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    def silent_for(self):
        """Seconds since this process last heard its own heartbeat back (None before start)."""
        return time.monotonic() - self.last_heard if self.started else None

    def _thread(self):
        # The library's listener ends for good if its generator ever does;
        # this one is started again, so the process never goes deaf.
        while True:
            try:
                super()._thread()
            except _Stopped:
                return
            except Exception:
                log.exception("message queue: listener failed")
            log.warning("message queue: listener ended; restarting it")
            if self.on_restart is not None:
                self.on_restart()
            time.sleep(1)

    def _listen(self):
        marker = ('"%s"' % HEARTBEAT).encode()
        for message in super()._listen():
            if isinstance(message, bytes) and marker in message:
                if self.host_id.encode() in message:
                    self.last_heard = time.monotonic()
                continue  # nobody else needs to see heartbeats
            yield message

    def _redis_listen_with_retries(self):
        # As the library's, but retrying every second instead of backing
        # off to a minute: missed emits are not replayed, so be quick.
        subscribed = False
        while not self.stopped:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    self.last_heard = time.monotonic()
                yield from self.pubsub.listen()
            except Exception as exc:
                if self.stopped:
                    break
                log.warning("message queue: subscription lost (%s); resubscribing", exc)
                subscribed = False
                time.sleep(1)
        raise _Stopped

    def _watchdog(self):
        while not self.stopped:
            self.server.sleep(self.heartbeat)
            if self.stopped:
                return
            try:
                self._check_heartbeat()
            except Exception:
                log.exception("message queue: heartbeat check failed; checking again")

    def _check_heartbeat(self):
        self._publish({"method": HEARTBEAT, "host_id": self.host_id})
        now = time.monotonic()
        silent = now - max(self.last_heard, self._last_kick)
        if silent > 3 * self.heartbeat and self.pubsub is not None:
            log.warning("message queue: no heartbeat for %.0f s; resubscribing", silent)
            self.reconnects += 1
            self._last_kick = now  # silent_for() still says how long it has been
            try:
                self.pubsub.connection.disconnect()
            except Exception:
                pass
