"""Drivers: the only code that touches private internals of eventlet, gevent,
engine.io and python-socketio.

Each change to a library is a :class:`Patch` that names what it replaces or
relies on (its :class:`Target`s: module, attribute path, and a digest of the
source it was written against) and the library versions it was tested with.
Before a patch is applied its targets are checked; if one is missing or its
source changed, the patch is not applied and one warning names the target
and the installed version: that path falls back to the library's own, and
the wall keeps working, only slower. A patch that protects the server (the
message caps, the admission gate's hooks) is logged as an error instead,
and a production server refuses to start without it. ``/metrics`` shows which patches are
active (``wall_fast_path``), and ``tests/unit/drivers`` fails as soon as a
dependency bump changes any target.

- :mod:`.socketio`: hooks on a python-socketio ``Server`` (every async mode).
- :mod:`.engineio`: engine.io's handling of bad input (every async mode).
- :mod:`.message_queue`: Flask-SocketIO's Redis queue with a liveness check.
- :mod:`.ping_timers`: engine.io's pings from the async library's timers
  (applied by the eventlet and gevent drivers).
- :mod:`.writer_tasks`: engine.io's WebSocket writer as a task only while
  something is queued (applied by the eventlet and gevent drivers).
- :mod:`.inline_reads`: simple-websocket's reads in the greenlet that waits
  for them (applied by the gevent driver).
- :mod:`.eventlet`, :mod:`.gevent`: what is specific to one async library
  (imported only by ``app.py``, through :func:`install`, when it serves).
"""

import hashlib
import importlib
import inspect
import logging
import os
from importlib import metadata

log = logging.getLogger(__name__)

#: every patch that exists, by name (registered as their modules are imported)
PATCHES = {}


class Target:
    """One library attribute a patch replaces or relies on.

    :param module: the module that defines it, e.g. ``"engineio.socket"``.
    :param path: the attribute path in that module, e.g. ``"Socket.schedule_ping"``.
    :param package: the distribution that ships it, e.g. ``"python-engineio"``.
    :param digest: the first 12 hex digits of the SHA-256 of its source as the
        patch was written against; None for something without source (a class
        attribute, a C type), which is only checked to exist.
    :param sets: instance attributes the patch relies on, which the target's
        source must assign (``self.<name> =``).
    """

    def __init__(self, module, path, package, digest=None, sets=()):
        self.module = module
        self.path = path
        self.package = package
        self.digest = digest
        self.sets = tuple(sets)

    @property
    def name(self):
        return "%s.%s" % (self.module, self.path)

    def resolve(self):
        """The library's own object (not a patched replacement), or raise LookupError."""
        try:
            obj = importlib.import_module(self.module)
        except ImportError as exc:
            raise LookupError("module %s cannot be imported (%s)" % (self.module, exc)) from None
        for part in self.path.split("."):
            try:
                obj = inspect.getattr_static(obj, part)
            except AttributeError:
                raise LookupError("%s has no attribute %s" % (self.name, part)) from None
            if isinstance(obj, (staticmethod, classmethod)):
                obj = obj.__func__
        return getattr(obj, "_wall_original", obj)

    def problem(self):
        """Why this target cannot be relied on, or None when it can."""
        try:
            obj = self.resolve()
        except LookupError as exc:
            return str(exc)
        if self.digest is None and not self.sets:
            return None
        try:
            source = inspect.getsource(obj)
        except (OSError, TypeError):
            return "the source of %s cannot be read" % self.name
        if self.digest is not None and source_digest(source) != self.digest:
            return "%s changed (source digest %s, written against %s)" % (
                self.name,
                source_digest(source),
                self.digest,
            )
        for attribute in self.sets:
            if "self.%s =" % attribute not in source:
                return "%s no longer sets self.%s" % (self.name, attribute)
        return None


def source_digest(source):
    """The digest :class:`Target` compares: 12 hex digits of SHA-256 of the source."""
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def installed_version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


class Patch:
    """A named change to library internals, applied only if all its targets hold.

    :param name: e.g. ``"eventlet.direct_writes"`` (the label in ``/metrics``).
    :param what: one line for people: what it does and what falls back.
    :param targets: the :class:`Target`s it replaces or relies on.
    :param tested: distribution -> version the patch was written and tested against.
    :param protection: it protects the server (a memory cap, the admission
        gate), rather than making it faster: refused, it is logged as an
        error, and a production server refuses to start without it.
    """

    def __init__(self, name, what, targets, tested, protection=False):
        self.name = name
        self.protection = protection
        self.what = what
        self.targets = tuple(targets)
        self.tested = dict(tested)
        #: True once applied; False if never applied or refused
        self.active = False
        self._problems = None
        self._warned = False
        PATCHES[name] = self

    def problems(self):
        """What is wrong with the targets in the installed libraries (cached)."""
        if self._problems is None:
            found = []
            for target in self.targets:
                problem = target.problem()
                if problem is not None:
                    found.append((target, problem))
            self._problems = found
        return self._problems

    def usable(self):
        """True if every target holds; else warn once (naming each) and return False."""
        problems = self.problems()
        if problems and not self._warned:
            self._warned = True
            for target, problem in problems:
                log.warning(
                    "fast path %s is off, the library's own path serves instead: %s "
                    "(installed %s %s; written against %s)",
                    self.name,
                    problem,
                    target.package,
                    installed_version(target.package),
                    self.tested.get(target.package, "?"),
                )
        return not problems


def replaces(original):
    """Mark a replacement function so that target checks still see ``original``."""

    def mark(replacement):
        replacement._wall_original = getattr(original, "_wall_original", original)
        return replacement

    return mark


def status():
    """patch name -> True if active in this process."""
    _load_all()
    return {name: patch.active for name, patch in sorted(PATCHES.items())}


def missing_protections(async_mode):
    """The protection patches of ``async_mode`` (and of every mode) that are not active."""
    _load_all()
    prefixes = ("socketio.", "engineio.", "%s." % async_mode)
    return sorted(
        name
        for name, patch in PATCHES.items()
        if patch.protection and not patch.active and name.startswith(prefixes)
    )


def install(async_mode):
    """Apply the process-wide patches of ``async_mode`` (eventlet or gevent).

    Called by ``app.py`` after monkey-patching and before ``create_app``.
    Per-server hooks (:mod:`.socketio`) and engine.io's patches, the same
    in every mode (:mod:`.engineio`), are applied by the realtime layer.
    """
    if async_mode == "eventlet":
        from . import eventlet

        eventlet.install()
    elif async_mode == "gevent":
        from . import gevent

        gevent.install()


#: queued connections the listening socket holds before the kernel drops
#: SYNs (the kernel caps it at net.core.somaxconn). eventlet's default of
#: 50 makes a room of phones reconnecting at once wait out SYN retries
#: (1, 3, 7, 15 s...); Node listens with 511.
LISTEN_BACKLOG = 1024


def no_delay(listener):
    """Turn Nagle's algorithm off for what ``listener`` accepts (Linux copies it over).

    With it on, a small write waits for the peer's ACK of the previous one,
    which the peer delays by up to 40 ms: gevent's WSGI server writes a
    response's headers and body in two sends, so every keep-alive request
    (REST, each long-poll) took 44 ms; two small writes in a row to one
    WebSocket can wait the same way. Node's ``ws`` turns it off too.
    """
    import socket

    if listener.family in (socket.AF_INET, socket.AF_INET6):
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def serving(async_mode):
    """How to serve under ``async_mode``: the web server and a clean stop."""
    if async_mode == "eventlet":
        from .eventlet import Serving
    elif async_mode == "gevent":
        from .gevent import Serving
    else:
        Serving = WerkzeugServing
    return Serving()


class WerkzeugServing:
    """The ``threading`` mode (tests, development): Werkzeug's server."""

    #: open files a session may hold at once (a long-polling GET and POST)
    files_per_session = 2

    def run(self, socketio, app, host, port, max_connections):
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)

    def stop(self, socketio):
        os._exit(0)


def _load_all():
    # Every driver module registers its patches on import. None of them
    # imports an async library at import time: they are loaded here, for
    # /metrics and the target checks, whatever the mode.
    from . import engineio, eventlet, gevent, message_queue, socketio  # noqa: F401
