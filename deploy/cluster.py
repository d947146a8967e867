"""A local cluster for trying the production setup: ``make cluster N=3``.

N app processes under eventlet (or ``WALL_ASYNC_MODE=gevent``) on one Redis,
behind nginx started from the shipped ``deploy/nginx.conf`` (only the
upstream list, the listen address and local paths are rewritten), all on
127.0.0.1. The tests start their clusters with the same code.

    python -m deploy.cluster [N] [--port 8080] [--redis-url URL]
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NGINX_CONF = os.path.join(ROOT, "deploy", "nginx.conf")


def free_port():
    from wall.redis_server import free_port as _free_port

    return _free_port()


class AppProcess:
    """One ``python app.py``, as the Procfile and the systemd unit run it."""

    def __init__(self, port, env, log_path):
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        self.env = dict(env, PORT=str(port), HOST="127.0.0.1", PYTHONUNBUFFERED="1")
        self.log_path = log_path
        self.process = None

    def start(self, wait=True, timeout=20):
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [sys.executable, "app.py"], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "app on port %d exited (%s):\n%s"
                    % (self.port, self.process.returncode, self.log())
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("app on port %d not ready:\n%s" % (self.port, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self):
        self.stop(signal.SIGKILL)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except FileNotFoundError:
            return ""


def render_nginx_conf(app_ports, listen_port, workdir, static_root=None):
    """The shipped nginx.conf with local ports and paths; nothing else changes."""
    with open(NGINX_CONF) as f:
        conf = f.read()
    servers = "".join("        server 127.0.0.1:%d;\n" % p for p in app_ports)
    conf, n = re.subn(
        r"(# --- the app processes: edit this list ---\n).*?(\s*# --- end of the list ---)",
        lambda m: m.group(1) + servers.rstrip("\n") + m.group(2),
        conf, flags=re.S,
    )
    assert n == 1, "upstream list markers not found in deploy/nginx.conf"
    replacements = [
        (r"listen 80;", "listen 127.0.0.1:%d;" % listen_port),
        (r"alias /srv/wall/static/\$1;", "alias %s/$1;" % (static_root or os.path.join(ROOT, "static"))),
        (r"alias /srv/wall/static/;", "alias %s/;" % (static_root or os.path.join(ROOT, "static"))),
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


class Cluster:
    """N app processes and nginx on one Redis.

    :param redis_url: the Redis to share; None starts one in ``workdir``.
    :param env: extra environment variables for every app process.
    """

    def __init__(self, n, workdir, redis_url=None, listen_port=None, env=None,
                 async_mode="eventlet"):
        self.n = n
        self.workdir = os.path.abspath(workdir)
        self.redis_url = redis_url
        self.listen_port = listen_port or free_port()
        self.url = "http://127.0.0.1:%d" % self.listen_port
        self.env = dict(os.environ)
        self.env.update(WALL_ASYNC_MODE=async_mode, WALL_PROXY_FIX="1")
        self.env.update(env or {})
        self.redis = None
        self.apps = []
        self.nginx = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        if self.redis_url is None:
            from wall.redis_server import EmbeddedRedis

            self.redis = EmbeddedRedis(os.path.join(self.workdir, "redis"))
            self.redis_url = self.redis.start()
        self.env["REDIS_URL"] = self.redis_url
        for _ in range(self.n):
            port = free_port()
            log = os.path.join(self.workdir, "app-%d.log" % port)
            self.apps.append(AppProcess(port, self.env, log).start(wait=False))
        for app in self.apps:
            app.wait_ready()
        self.start_nginx()
        return self

    def start_nginx(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf_path = os.path.join(self.workdir, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(render_nginx_conf([a.port for a in self.apps], self.listen_port, self.workdir))
        self.nginx = subprocess.Popen(
            [nginx, "-c", conf_path, "-p", self.workdir, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                with open(os.path.join(self.workdir, "error.log")) as f:
                    raise RuntimeError("nginx exited:\n" + f.read()[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not answer on %s" % self.url)

    def stop(self):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish requests
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        for app in self.apps:
            app.stop()
        if self.redis:
            self.redis.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=3, help="app processes (default 3)")
    parser.add_argument("--port", type=int, default=8080, help="nginx port (default 8080)")
    parser.add_argument("--redis-url", default=None, help="shared Redis (default: start one)")
    parser.add_argument("--workdir", default=os.path.join(ROOT, "instance", "cluster"))
    args = parser.parse_args(argv)
    cluster = Cluster(
        args.n, args.workdir, redis_url=args.redis_url, listen_port=args.port,
        async_mode=os.environ.get("WALL_ASYNC_MODE", "eventlet"),
    )
    cluster.start()
    print("wall cluster: %s (nginx) -> %s" % (cluster.url, ", ".join(a.url for a in cluster.apps)))
    print("Redis: %s; logs in %s; Ctrl-C stops it all." % (cluster.redis_url, cluster.workdir))
    try:
        # Blocked only now, so that the app processes do not inherit the mask.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
