"""Where the wall's Redis is, and clients for it: one server, Sentinel or Cluster.

``REDIS_URL`` takes three forms, each with a user and password (Redis ACLs)
and TLS (the ``rediss`` schemes):

- ``redis://[user:pass@]host:port/db`` (``rediss://`` for TLS, or
  ``unix:///path``): one Redis;
- ``redis+sentinel://[user:pass@]host1:26379,host2:26379/<db>/<service>``
  (``rediss+sentinel://``), the form python-socketio reads: the master of
  ``service`` as the sentinels name it, followed through failovers;
- ``redis+cluster://[user:pass@]host1:7000,host2:7001`` (``rediss+cluster://``):
  a Redis Cluster; every key of one wall shares a hash slot (wall/storage/keys.py).

A TLS URL verifies the server against the system's CAs, or against the CA
file its query names: ``?ssl_ca_certs=/path/ca.pem`` (redis-py reads it on
``rediss://``; parsed here for the Sentinel and Cluster forms).
"""

import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import redis
import redis.cluster
import redis.sentinel
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

#: connections one client keeps to (each node of) Redis at most
POOL_SIZE = 64
#: how long a command waits for a free pooled connection, in seconds
POOL_WAIT = 10
#: the oldest Redis the wall runs on: exclusive stream ranges, "(<id>" (6.2), and for a
#: cluster 7.0 (sharded scripts and pub/sub as tested)
MIN_VERSION = (6, 2)
MIN_CLUSTER_VERSION = (7, 0)


class TopologyError(ValueError):
    """``REDIS_URL`` cannot be used; the message says why."""


@dataclass
class Topology:
    """A parsed ``REDIS_URL``."""

    kind: str  # "single", "sentinel" or "cluster"
    url: str
    tls: bool = False
    username: str = None
    password: str = None
    #: (host, port) of the sentinels or of the cluster's seed nodes
    nodes: list = field(default_factory=list)
    db: int = 0
    service: str = None
    #: the CA file a TLS server is verified against (None: the system's)
    ca_certs: str = None

    @property
    def cluster(self):
        return self.kind == "cluster"


def parse(url):
    """The :class:`Topology` of a ``REDIS_URL``, or raise :class:`TopologyError`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        return Topology("single", url, tls=scheme == "rediss")
    if scheme not in ("redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster"):
        raise TopologyError(
            "REDIS_URL must start with redis://, rediss://, unix://, "
            "redis+sentinel://, rediss+sentinel://, redis+cluster:// or "
            "rediss+cluster://, not %r" % url
        )
    netloc = parts.netloc
    username = password = None
    if "@" in netloc:
        auth, netloc = netloc.rsplit("@", 1)
        username, _, password = auth.partition(":")
        username, password = unquote(username) or None, unquote(password) or None
    nodes = []
    for hostport in netloc.split(","):
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            raise TopologyError("REDIS_URL names a node as host:port, not %r" % hostport)
        nodes.append((host.strip("[]"), int(port)))
    kind = "sentinel" if scheme.endswith("sentinel") else "cluster"
    query = parse_qs(parts.query)
    unknown = set(query) - {"ssl_ca_certs"}
    if unknown:
        raise TopologyError(
            "REDIS_URL: %s takes ssl_ca_certs= only, not %s" % (scheme, ", ".join(sorted(unknown)))
        )
    topology = Topology(
        kind,
        url,
        tls=scheme.startswith("rediss"),
        username=username,
        password=password,
        nodes=nodes,
        ca_certs=query.get("ssl_ca_certs", [None])[-1],
    )
    path = [p for p in parts.path.split("/") if p]
    if kind == "sentinel":
        # /<db>/<service>, as python-socketio reads it; /<service> alone too
        if len(path) == 2 and path[0].isdigit():
            topology.db, topology.service = int(path[0]), path[1]
        elif len(path) == 1 and not path[0].isdigit():
            topology.service = path[0]
        else:
            raise TopologyError("redis+sentinel:// URLs end with /<db>/<service name>")
    elif path:
        raise TopologyError("A Redis Cluster has no databases: redis+cluster://host:port,...")
    return topology


def _options(topology, socket_timeout, retry_writes, decode=True):
    options = dict(
        socket_connect_timeout=2.0,
        socket_timeout=socket_timeout,
        socket_keepalive=True,
        health_check_interval=30,
        decode_responses=decode,
        # Bytes that are not UTF-8 (a stream entry someone else wrote) must
        # not fail a whole read: they decode to lone surrogates, which
        # wall/storage/entries.py refuses entry by entry.
        encoding_errors="surrogateescape",
    )
    if not retry_writes:
        options["retry"] = Retry(NoBackoff(), 0)
        options["retry_on_error"] = []
    if topology.kind != "single":
        if topology.username:
            options["username"] = topology.username
        if topology.password:
            options["password"] = topology.password
        if topology.tls:
            options["ssl"] = True
            if topology.ca_certs:
                options["ssl_ca_certs"] = topology.ca_certs
    return options


class BlockingSentinelPool(redis.sentinel.SentinelConnectionPool, redis.BlockingConnectionPool):
    """The pool of a Sentinel-managed master, bounded as the wall's other pools are."""


def client(topology, socket_timeout=5.0, retry_writes=False, pool_size=POOL_SIZE, decode=True):
    """A Redis client for ``topology``.

    The post path must never repeat a write on its own (a timed-out XADD may
    have been applied), so retries are off unless asked for. Pools are
    bounded: thousands of sockets joining at once (a hall arriving, a
    reconnect storm) share ``pool_size`` connections and wait their turn,
    instead of each opening a connection of its own and timing out on a
    connect storm.
    """
    options = _options(topology, socket_timeout, retry_writes, decode)
    if topology.kind == "single":
        pool = redis.BlockingConnectionPool.from_url(
            topology.url, max_connections=pool_size, timeout=POOL_WAIT, **options
        )
        return redis.Redis(connection_pool=pool)
    if topology.kind == "sentinel":
        sentinel_options = {
            k: v
            for k, v in options.items()
            if k in ("username", "password", "ssl", "ssl_ca_certs", "socket_connect_timeout")
        }
        sentinel_options["socket_timeout"] = 2.0
        sentinels = redis.sentinel.Sentinel(
            topology.nodes, sentinel_kwargs=sentinel_options, **options
        )
        return sentinels.master_for(
            topology.service,
            connection_pool_class=BlockingSentinelPool,
            max_connections=pool_size,
            timeout=POOL_WAIT,
            db=topology.db,
        )
    nodes = [redis.cluster.ClusterNode(host, port) for host, port in topology.nodes]
    options.pop("retry_on_error", None)
    return redis.cluster.RedisCluster(startup_nodes=nodes, max_connections=pool_size, **options)


def check_version(redis_client, topology):
    """Refuse a Redis too old for the wall (a clear message, not a failure later)."""
    try:
        info = redis_client.info("server")
    except redis.RedisError as exc:
        log.warning("could not read the Redis version: %s", exc)
        return None
    if topology.cluster and isinstance(info, dict) and "redis_version" not in info:
        info = next(iter(info.values()))  # one node's answer
    version = tuple(int(x) for x in str(info.get("redis_version", "0.0")).split(".")[:2])
    needed = MIN_CLUSTER_VERSION if topology.cluster else MIN_VERSION
    if version < needed:
        raise TopologyError(
            "Redis %s is too old for %s: the wall needs %s or newer."
            % (
                info.get("redis_version"),
                "a Redis Cluster" if topology.cluster else "the wall",
                ".".join(map(str, needed)),
            )
        )
    return version


def limits_storage(topology, pool_size=POOL_SIZE):
    """The ``limits`` library's storage on the same Redis (counters of the rate limits)."""
    from limits.storage import RedisClusterStorage, RedisSentinelStorage, RedisStorage

    from . import keys

    if topology.kind == "single":
        pool = redis.BlockingConnectionPool.from_url(
            topology.url,
            max_connections=pool_size,
            timeout=POOL_WAIT,
            socket_connect_timeout=2,
            socket_timeout=5,
        )
        return RedisStorage(topology.url, connection_pool=pool, key_prefix=keys.RATE_LIMITS_PREFIX)
    tls = {"ssl": topology.tls}
    if topology.tls and topology.ca_certs:
        tls["ssl_ca_certs"] = topology.ca_certs
    auth = ""
    if topology.password:
        auth = "%s:%s@" % (topology.username or "", topology.password)
    hosts = ",".join("%s:%d" % node for node in topology.nodes)
    if topology.kind == "sentinel":
        uri = "redis+sentinel://%s%s/%s" % (auth, hosts, topology.service)
        return RedisSentinelStorage(
            uri,
            key_prefix=keys.RATE_LIMITS_PREFIX,
            db=topology.db,
            socket_timeout=5,
            socket_connect_timeout=2,
            **tls,
        )
    uri = "redis+cluster://%s%s" % (auth, hosts)
    return RedisClusterStorage(
        uri,
        key_prefix=keys.RATE_LIMITS_PREFIX,
        socket_timeout=5,
        socket_connect_timeout=2,
        **tls,
    )
