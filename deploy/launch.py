"""The one launcher: Redis servers, app processes and nginx, on 127.0.0.1.

Used by ``make cluster`` (deploy/cluster.py), ``make bench`` (bench/infra.py)
and the tests (tests/support/), so that all three start, wait for, stop and
kill processes the same way: free ports, a log file per process, readiness
by polling, SIGTERM then SIGKILL.

- :class:`RedisProcess`: a ``redis-server`` (from wall/storage/embedded.py).
- :class:`Process`: any server with a health URL (the Node.js peer of the bench).
- :class:`AppProcess`: ``python app.py``, as the Procfile and systemd run it.
- :class:`Nginx`: nginx from the shipped ``deploy/nginx.conf``.
- :class:`Cluster`: N app processes on one Redis behind nginx.
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from wall.storage.embedded import EmbeddedRedis, RedisProcess, free_port

__all__ = ["AppProcess", "Cluster", "Nginx", "Process", "RedisProcess", "free_port", "stop_all"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NGINX_CONF = os.path.join(ROOT, "deploy", "nginx.conf")


class LaunchError(RuntimeError):
    """A process did not start; the message holds the end of its log."""


def _healthy(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status == 200
    except OSError:
        return False


class Process:
    """A server process with a log file and a health URL.

    :param cmd: the command line; :param cwd: where it runs.
    :param env: its whole environment (callers decide what to inherit).
    :param health_url: polled until it answers 200.
    """

    def __init__(self, cmd, cwd, env, log_path, health_url, name=None):
        self.cmd = list(cmd)
        self.cwd = cwd
        self.env = dict(env)
        self.log_path = log_path
        self.health_url = health_url
        self.name = name or os.path.basename(self.cmd[-1])
        self.process = None

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def start(self, wait=True, timeout=20):
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                self.cmd,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LaunchError(
                    "%s exited (%s):\n%s" % (self.name, self.process.returncode, self.log())
                )
            if _healthy(self.health_url):
                return
            time.sleep(0.1)
        raise LaunchError("%s not ready after %.0f s:\n%s" % (self.name, timeout, self.log()))

    def send_signal(self, sig):
        if self.alive():
            self.process.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Send ``sig`` and wait; SIGKILL if it does not exit within ``timeout``."""
        if self.alive():
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self):
        self.stop(signal.SIGKILL)

    def wait(self, timeout=15):
        """Wait for the process to exit; SIGKILL it after ``timeout``. Return its status."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log(self, tail=4000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-tail:]
        except FileNotFoundError:
            return ""


def stop_all(processes, sig=signal.SIGTERM, timeout=15):
    """Signal every process at once, then wait for each (so their drains overlap)."""
    for process in processes:
        process.send_signal(sig)
    for process in processes:
        process.wait(timeout)


class AppProcess(Process):
    """One ``python app.py`` on ``port``.

    :param env: the whole environment (``PORT`` and ``HOST`` are set here).
    :param root: the checkout to run (the bench may run another one).
    :param python: the interpreter (default: this one).
    :param script: what it runs instead of ``app.py`` (a benchmark contender, a test).
    """

    def __init__(self, port, env, log_path, root=ROOT, python=None, script=None):
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        env = dict(env, PORT=str(port), HOST="127.0.0.1", PYTHONUNBUFFERED="1")
        super().__init__(
            [python or sys.executable, script or os.path.join(root, "app.py")],
            root,
            env,
            log_path,
            self.url + "/healthz",
            name="app on port %d" % port,
        )


def render_nginx_conf(app_ports, listen_port, workdir, static_root=None):
    """The shipped nginx.conf with local ports and paths; nothing else changes."""
    with open(NGINX_CONF) as f:
        conf = f.read()
    servers = "".join("        server 127.0.0.1:%d max_fails=0;\n" % p for p in app_ports)
    conf, n = re.subn(
        r"(# --- the app processes: edit this list ---\n).*?(\s*# --- end of the list ---)",
        lambda m: m.group(1) + servers.rstrip("\n") + m.group(2),
        conf,
        flags=re.S,
    )
    assert n == 1, "upstream list markers not found in deploy/nginx.conf"
    static = static_root or os.path.join(ROOT, "static")
    replacements = [
        (r"listen 80;", "listen 127.0.0.1:%d;" % listen_port),
        (r"alias /srv/wall/static/\$1;", "alias %s/$1;" % static),
        (r"alias /srv/wall/static/;", "alias %s/;" % static),
        (r"pid [^;]+;", "pid %s/nginx.pid;" % workdir),
        (r"error_log [^;]+;", "error_log %s/error.log warn;" % workdir),
        (r"access_log /var/log/nginx/wall-access.log;", "access_log %s/access.log;" % workdir),
        (r"worker_processes auto;", "worker_processes 1;"),
    ]
    for pattern, value in replacements:
        conf, n = re.subn(pattern, lambda m, v=value: v, conf, count=1)
        assert n == 1, "%r not found in deploy/nginx.conf" % pattern
    local = "".join(
        "    %s_temp_path %s/%s;\n" % (kind, workdir, kind)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = conf.replace("http {\n", "http {\n" + local, 1)
    if os.geteuid() == 0:
        conf = "user root;\n" + conf  # workers must read the work tree here
    return conf


def nginx_binary():
    """nginx on PATH or in /usr/sbin, or None."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


class Nginx(Process):
    """nginx from deploy/nginx.conf in front of ``app_ports``, on ``listen_port``."""

    def __init__(self, app_ports, workdir, listen_port=None):
        self.workdir = os.path.abspath(workdir)
        self.listen_port = listen_port or free_port()
        self.url = "http://127.0.0.1:%d" % self.listen_port
        self.conf_path = os.path.join(self.workdir, "nginx.conf")
        binary = nginx_binary() or "nginx"
        super().__init__(
            [binary, "-c", self.conf_path, "-p", self.workdir, "-g", "daemon off;"],
            self.workdir,
            os.environ,
            os.path.join(self.workdir, "nginx.out"),
            self.url + "/healthz",
            name="nginx",
        )
        self.app_ports = list(app_ports)

    def start(self, wait=True, timeout=10):
        os.makedirs(self.workdir, exist_ok=True)
        with open(self.conf_path, "w") as f:
            f.write(render_nginx_conf(self.app_ports, self.listen_port, self.workdir))
        return super().start(wait, timeout)

    def log(self, tail=2000):
        try:
            with open(os.path.join(self.workdir, "error.log"), errors="replace") as f:
                return f.read()[-tail:]
        except FileNotFoundError:
            return super().log(tail)

    def reload(self):
        """``nginx -s reload``: new workers, open connections finish on the old ones."""
        self.send_signal(signal.SIGHUP)

    def stop(self, sig=signal.SIGQUIT, timeout=10):
        super().stop(sig, timeout)  # SIGQUIT: graceful, requests finish


class Cluster:
    """N app processes and nginx on one Redis.

    :param redis_url: the Redis to share; None starts one in ``workdir``.
    :param env: the app processes' environment (default: this process's).
    """

    def __init__(
        self, n, workdir, redis_url=None, listen_port=None, env=None, async_mode="eventlet"
    ):
        self.n = n
        self.workdir = os.path.abspath(workdir)
        self.redis_url = redis_url
        self.listen_port = listen_port
        # behind the shipped nginx, one proxy sets X-Forwarded-*; env may say otherwise
        # and one SECRET_KEY for all, so that cookies verify on every process
        self.env = {
            "WALL_ASYNC_MODE": async_mode,
            "WALL_PROXY_FIX": "1",
            "SECRET_KEY": secrets.token_hex(32),
        }
        self.env.update(os.environ if env is None else env)
        self.redis = None
        self.apps = []
        self.nginx = None

    @property
    def url(self):
        return self.nginx.url

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        if self.redis_url is None:
            # locked: two clusters on one folder would share one AOF
            self.redis = EmbeddedRedis(os.path.join(self.workdir, "redis"))
            self.redis_url = self.redis.start()
        self.env["REDIS_URL"] = self.redis_url
        for _ in range(self.n):
            self.add_app()
        for app in self.apps:
            app.wait_ready()
        self.nginx = Nginx([a.port for a in self.apps], self.workdir, self.listen_port)
        self.nginx.start()
        return self

    def add_app(self, port=None):
        """Start one more app process (not yet in nginx's list; for restarts on a port)."""
        port = port or free_port()
        app = AppProcess(port, self.env, os.path.join(self.workdir, "app-%d.log" % port))
        self.apps.append(app.start(wait=False))
        return app

    def stop(self):
        if self.nginx is not None:
            self.nginx.stop()
        stop_all(self.apps)
        if self.redis is not None:
            self.redis.stop()
