"""Operating-system limits the server sizes itself against."""

import logging
import resource

log = logging.getLogger(__name__)


def server_connection_limit(max_connections):
    """The web server's hard limit of concurrent connections.

    Above the soft limit of sessions (``WALL_MAX_CONNECTIONS``, enforced by
    the gate with a clear 503) with room for what a session may hold at once
    (a long-polling session has a GET and a POST in flight) and for plain
    HTTP requests, so that the gate, not the accept queue, turns people away.
    """
    return 2 * max_connections + 256


def raise_open_file_limit(wanted):
    """Raise this process's open-file limit toward ``wanted``; return the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit to %d: %s", target, exc)
    if soft < wanted:
        log.warning(
            "open-file limit %d is below the %d this server may need; raise LimitNOFILE "
            "(systemd) or ulimit -n, or lower WALL_MAX_CONNECTIONS", soft, wanted,
        )
    return soft
