"""A local cluster for trying the production setup: ``make cluster N=3``.

N app processes under eventlet (or ``WALL_ASYNC_MODE=gevent``) on one Redis,
behind nginx started from the shipped ``deploy/nginx.conf`` (only the
upstream list, the listen address and local paths are rewritten), all on
127.0.0.1, started by deploy/launch.py as the tests and the bench start theirs.
``--redis sentinel`` puts them on a master, two replicas and three
sentinels, ``--redis cluster`` on a Redis Cluster of three masters with a
replica each (deploy/topologies.py; ``make cluster REDIS=sentinel|cluster``).

    python -m deploy.cluster [N] [--port 8080] [--redis single|sentinel|cluster | --redis-url URL]
"""

import argparse
import os
import signal

from deploy.launch import ROOT, Cluster
from deploy.topologies import RedisCluster, Sentinel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=3, help="app processes (default 3)")
    parser.add_argument("--port", type=int, default=8080, help="nginx port (default 8080)")
    parser.add_argument("--redis-url", default=None, help="shared Redis (default: start one)")
    parser.add_argument(
        "--redis",
        choices=("single", "sentinel", "cluster"),
        default="single",
        help="the Redis topology to start (without --redis-url)",
    )
    parser.add_argument("--workdir", default=os.path.join(ROOT, "instance", "cluster"))
    args = parser.parse_args(argv)
    topology = None
    redis_url = args.redis_url
    env = None
    if redis_url is None and args.redis != "single":
        kind = Sentinel if args.redis == "sentinel" else RedisCluster
        print("starting Redis (%s)..." % args.redis)
        topology = kind(os.path.join(args.workdir, "redis-" + args.redis)).start()
        redis_url = topology.url
        # a post is acknowledged once a replica holds it: a master's death loses none
        env = dict(os.environ, WALL_REDIS_MIN_REPLICAS="1")
    cluster = Cluster(
        args.n,
        args.workdir,
        redis_url=redis_url,
        env=env,
        listen_port=args.port,
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
        if topology is not None:
            topology.stop()


if __name__ == "__main__":
    main()
