"""engine.io heartbeats from timers, not from a sleeping task per session.

engine.io sends each session's next PING from a task that sleeps for the
ping interval, so every idle connection holds one more started greenlet,
with its own saved stack, for its whole life. A timer that starts the send
only when it is due holds a few hundred bytes instead. Same packets, same
timing. ``app.py`` installs it under eventlet; the package never imports
eventlet itself.
"""

import time

from engineio import packet


def install(engineio_socket_class, spawn_after):
    """Replace ``Socket.schedule_ping``.

    :param engineio_socket_class: ``engineio.socket.Socket``.
    :param spawn_after: ``eventlet.spawn_after``: runs a function in a new
                        task after a delay, creating no stack until then.
    """
    if getattr(engineio_socket_class, "_wall_ping_timers", False):
        return

    def schedule_ping(self):
        # only schedule a new ping if the previous ping wait cycle completed
        if self.last_ping:
            self.last_ping = None
            spawn_after(self.server.ping_interval, _send_ping, self)

    engineio_socket_class.schedule_ping = schedule_ping
    engineio_socket_class._wall_ping_timers = True


def _send_ping(session):
    if not session.closing and not session.closed:
        session.last_ping = time.time()
        session.send(packet.Packet(packet.PING))
