"""engine.io's pings from timers, for the async libraries that have them.

engine.io keeps a greenlet per session asleep between pings
(``Socket.schedule_ping``); here a timer of the async library sends each
ping instead. The eventlet and gevent drivers apply it under their own
patches, which declare ``Socket.schedule_ping`` as their target.
"""

import time

from . import replaces

#: seconds after a ping's timeout at which its timer checks for the pong
PING_CHECK_MARGIN = 0.1


def spawn_when_due(start_timer, spawn):
    """A ``spawn_later(delay, fn, *args)`` that holds only a timer until it is due.

    The libraries' own ``spawn_later`` (``spawn_after`` in eventlet) makes
    the greenlet at once, with its task object, for the whole wait: per idle
    connection, one for its next ping (and under gevent one more for that
    ping's timeout), about 1 to 2 kB under eventlet and 3.7 kB under gevent
    (docs/performance.md). Here the hub's bare timer waits, and the task is
    spawned when it fires (a timer's callback runs in the hub itself, where
    nothing may block).

    :param start_timer: ``(delay, callback, *args)``: the hub's timer.
    :param spawn: starts ``fn(*args)`` in a new task, fire-and-forget.
    """

    def spawn_later(delay, fn, *args):
        start_timer(delay, spawn, fn, *args)

    return spawn_later


def ping_from_timers(engineio_socket_class, spawn_later, check_pong=False):
    """Replace ``schedule_ping``: a timer (``spawn_later(delay, fn, *args)``)
    instead of a sleeping greenlet.

    :param check_pong: also set a timer for each ping's timeout, which runs
        engine.io's own check (for a socket without a read timeout).
    """
    original = engineio_socket_class.schedule_ping

    @replaces(original)
    def schedule_ping(self):
        # only schedule a new ping if the previous ping wait cycle completed
        if self.last_ping:
            self.last_ping = None
            spawn_later(self.server.ping_interval, _send_ping, self, spawn_later, check_pong)

    engineio_socket_class.schedule_ping = schedule_ping


def _send_ping(session, spawn_later, check_pong):
    from engineio import packet

    if not session.closing and not session.closed:
        session.last_ping = time.time()
        session.send(packet.Packet(packet.PING))
        if check_pong:
            spawn_later(session.server.ping_timeout + PING_CHECK_MARGIN, _check_pong, session)


def _check_pong(session):
    # a PONG reset last_ping (schedule_ping): then this does nothing
    if not session.closing and not session.closed:
        session.check_ping_timeout()
