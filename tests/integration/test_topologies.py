"""Beyond one Redis, on real servers: a master killed under Sentinel, and walls
spread over a Redis Cluster through a slot migration and a master's death.

Pages here are the soak's (tests/reliability/page.py: the page's reconnects,
re-joins, catch-up and outbox), on WebSocket and long-polling, on two app
processes with ``WALL_REDIS_MIN_REPLICAS=1``. At the end what every page saw
is checked strictly against the streams (tests/reliability/views.py), and
the streams against every post made (stored.py): nothing acknowledged lost,
nothing stored twice, nothing missing, doubled or out of order on a page.
"""

import asyncio
import logging
import math
import random
import time

import pytest
import redis
from redis.crc import key_slot

from deploy.topologies import RedisCluster, Sentinel
from wall import errors, protocol, storage
from wall.domain.posts import PostLimits
from wall.storage import connection, keys
from wall.storage.connection import limits_storage
from wall.storage.durable import Durability
from wall.storage.posts import NewPost, PostStore

from ..reliability import page
from ..reliability.page import Ledger, PageClient
from ..reliability.stored import FAILURES, check_stored
from ..reliability.timeline import Timeline
from ..reliability.views import Stream, check_view

pytestmark = [pytest.mark.server, pytest.mark.heavy]

#: The rate limits are on, far above what the pages send, so that every post's
#: check goes through the topology's limit storage (through the failover too).
#: The address limit's window is an hour so that its counter outlives the run.
ENV = {
    "WALL_REDIS_MIN_REPLICAS": "1",
    "WALL_RATE_LIMITS": "on",
    "WALL_RATE_LIMIT_SOCKET": "100000/10 seconds",
    "WALL_RATE_LIMIT_CLIENT": "100000/10 seconds",
    "WALL_RATE_LIMIT_IP": "1000000/hour",
}
RATE = 8  # posts per second, over all pages
#: recovery deadlines of the issue: posts acknowledged again after a master's death
SENTINEL_RECOVERY_S = 45
CLUSTER_RECOVERY_S = 60
#: how soon a join or a leave after the failover reaches the other pages' online counts
#: (announced at most once a second per wall, over the message queue)
ONLINE_MOVES_S = 8


class CountingPage(PageClient):
    """A page that also keeps the last ``online`` count of each wall."""

    def __init__(self, *args):
        super().__init__(*args)
        self.online = {}

    def on_event(self, name, payload):
        if name == protocol.ONLINE and isinstance(payload, dict):
            self.online[payload.get("wall")] = payload.get("count")
        super().on_event(name, payload)


class Run:
    """Pages on ``urls`` posting to ``walls`` for ``seconds``, faults at set times."""

    def __init__(self, urls, walls, pages=24):
        self.urls = urls
        self.t0 = time.time()
        self.timeline = Timeline(self.t0)
        self.ledger = Ledger(self.timeline)
        self.pages = [
            CountingPage(
                "p%d" % i,
                urls[i % len(urls)],
                ("websocket", "polling")[(i // len(urls)) % 2],
                None,
                [walls[i % len(walls)]],
                self.ledger,
                self.timeline,
                self.t0,
            )
            for i in range(pages)
        ]
        self.faults = {}  # name -> (started, ended) in time.time()
        #: pages that join but never post: they come and go during the run
        self.extras = []

    def extra_page(self, name, url, wall):
        return CountingPage(
            name, url, "websocket", None, [wall], self.ledger, self.timeline, self.t0
        )

    async def go(self, seconds, faults, redis_url):
        deadline = time.time() + 60
        await asyncio.gather(*(p.start(deadline) for p in self.pages + self.extras))
        while not all(p.joined_everywhere() for p in self.pages + self.extras):
            assert time.time() < deadline, "pages did not join"
            await asyncio.sleep(0.2)
        posting = page.spawn(self._post(seconds))
        for at, name, fault in faults:
            await asyncio.sleep(max(0, self.t0 + at - time.time()))
            started = time.time()
            if asyncio.iscoroutinefunction(fault):
                await fault()
            else:
                await asyncio.to_thread(fault)
            self.faults[name] = (started, time.time())
        await posting
        # the outbox sends until acknowledged: wait for the last acks
        end = time.time() + 90
        while self.ledger.pending and time.time() < end:
            await asyncio.sleep(0.25)
        newest = await asyncio.to_thread(self._newest, redis_url)
        end = time.time() + 60
        while time.time() < end and not all(p.synced_everywhere(newest) for p in self.pages):
            await asyncio.sleep(0.25)
        await asyncio.gather(
            *(asyncio.wait_for(p.close(), 5) for p in self.pages + self.extras),
            return_exceptions=True,
        )

    async def _post(self, seconds):
        rng = random.Random(7)
        n = 0
        while time.time() < self.t0 + seconds:
            await asyncio.sleep(rng.expovariate(RATE))
            client = rng.choice(self.pages)
            n += 1
            client.outbox.add(client.walls_list[0], "t-%d" % n, time.time())

    def _newest(self, redis_url):
        client = storage.connect(redis_url, socket_timeout=10, retry_writes=True)
        try:
            newest = {}
            for wall in self.walls():
                last = client.xrevrange(keys.posts(wall), "+", "-", count=1)
                newest[wall] = last[0][0] if last else None
            return newest
        finally:
            client.close()

    def limit_keys(self, redis_url):
        """The rate limits' keys on the topology (every master of a cluster)."""
        client = storage.connect(redis_url, socket_timeout=10, retry_writes=True)
        try:
            return set(client.scan_iter(match=keys.RATE_LIMITS_PREFIX + "*", count=1000))
        finally:
            client.close()

    def walls(self):
        return sorted({w for p in self.pages for w in p.walls_list})

    def stored(self, client):
        """Every post made against the streams ``client`` reads:
        ``(entries by wall, counts, problems)``."""
        entries = {w: client.xrange(keys.posts(w)) for w in self.walls()}
        ledger = {cid: r.to_json(self.t0) for cid, r in self.ledger.records.items()}
        counts, samples = check_stored(entries, ledger, self.t0)
        problems = {k: (counts[k], samples.get(k)) for k in FAILURES if counts.get(k)}
        return entries, counts, problems

    def check(self, redis_url):
        """Every post and every page against the streams; returns findings and counts."""
        client = storage.connect(redis_url, socket_timeout=10, retry_writes=True)
        try:
            entries, counts, problems = self.stored(client)
        finally:
            client.close()
        allowed = {}
        for p in self.pages:
            for wall, sync in p.syncs.items():
                found = check_view(sync.view, Stream(i for i, f in entries[wall] if "d" not in f))
                for kind, n in found.counts.items():
                    if kind in found.KINDS and n:
                        problems.setdefault("%s on %s" % (kind, p.name), found.samples.get(kind))
                    elif n:
                        allowed[kind] = allowed.get(kind, 0) + n
                for post in p.stray:
                    problems.setdefault("stray on " + p.name, post)
        assert not page.CRASHES, page.CRASHES
        return problems, counts, allowed

    def longest_without_ack(self, walls, since):
        """The longest time, in s, without an acknowledgement of a post on
        ``walls``, counting from ``since`` (a master's death) too: infinite if
        none of them was acknowledged after it."""
        acks = sorted(
            r.acked_at for r in self.ledger.records.values() if r.acked_at and r.wall in walls
        )
        if not acks or acks[-1] <= since:
            return math.inf
        acks = sorted(acks + [since])
        return max(b - a for a, b in zip(acks, acks[1:]))

    async def online_moves(self, wall, expected, within, exclude=()):
        """Wait until every page on ``wall`` (but ``exclude``) was told
        ``expected`` online; raise if not."""
        watching = [
            p
            for p in self.pages + self.extras
            if wall in p.syncs and p.connected and p not in exclude
        ]
        deadline = time.time() + within
        while any(p.online.get(wall) != expected for p in watching):
            if time.time() > deadline:
                raise AssertionError(
                    "online on %s: expected %d within %d s, pages had %s"
                    % (wall, expected, within, {p.name: p.online.get(wall) for p in watching})
                )
            await asyncio.sleep(0.1)

    def timeouts(self):
        """The seconds of the run (since t0) in which an ack took over 10 s, and how many."""
        return dict(sorted(self.timeline.counts.get("timeout", {}).items()))

    def answers(self):
        out = {}
        for record in self.ledger.records.values():
            for what, n in record.outcomes.items():
                out[what] = out.get(what, 0) + n
        return out


@pytest.fixture
def cluster_keys():
    """This process names keys as the app does on a cluster (and goes back after)."""
    keys.configure(True)
    yield
    keys.configure(False)


@pytest.mark.timeout(420)
def test_sentinel_failover_loses_no_acknowledged_post(tmp_path, start_server, enough_files):
    topology = Sentinel(str(tmp_path / "sentinel")).start()
    try:
        servers = [start_server(redis=topology.url, env=ENV) for _ in range(2)]
        run = Run([s.url for s in servers], ["alpha", "beta", "gamma"])
        killed = {}

        def kill_master():
            killed["at"] = time.time()
            killed["port"] = topology.kill_master().port
            # one replica is left for WAIT 1: posts flow again once it is promoted

        asyncio.run(run.go(40, [(10, "kill -9 of the master", kill_master)], topology.url))
        promoted = topology.wait_failover(killed["port"], timeout=5)
        problems, counts, allowed = run.check(topology.url)
        # every wall is on the one master
        gap = run.longest_without_ack(run.walls(), killed["at"])
        answers = run.answers()
        print(
            "sentinel: master %d -> %d; %s; longest without an ack (from the kill on) %.1f s; "
            "answers %s; timeouts at s %s; allowed %s"
            % (killed["port"], promoted, counts, gap, answers, run.timeouts(), allowed)
        )
        assert not problems, problems
        assert counts["acknowledged"] == counts["posts"] > 200
        assert gap < SENTINEL_RECOVERY_S, "posts acknowledged again only after %.1f s" % gap
        # a post sent during the switch is answered (unavailable), never left hanging
        assert not answers.get("timeout"), answers
        assert set(answers) <= {"ok", "unavailable", "offline"}, answers
        # the posts' limits were counted on the (new) master
        assert any("/ip/" in k for k in run.limit_keys(topology.url)), "no rate-limit keys"
    finally:
        topology.stop()


@pytest.mark.timeout(90)
def test_a_post_limit_check_without_a_sentinel_master_is_unavailable(tmp_path):
    """The posts' limit check on a killed master: an ``unavailable`` answer,
    soon (never ``internal``), and the limits go on on the promoted replica."""
    topology = Sentinel(str(tmp_path / "sentinel")).start()
    try:
        rate = "100000/10 seconds"
        limits = PostLimits(limits_storage(connection.parse(topology.url)), rate, rate, rate)
        limits.hit("127.0.0.1", "sid", "c:one")
        old = topology.kill_master().port
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            limits.hit("127.0.0.1", "sid", "c:one")
        answer = errors.ack(errors.as_wall_error(caught.value, logging.getLogger(__name__), "t"))
        assert answer["error"] == protocol.UNAVAILABLE, (answer, caught.value)
        assert time.monotonic() - started < 10
        topology.wait_failover(old)
        deadline = time.monotonic() + 30
        while True:
            try:
                limits.hit("127.0.0.1", "sid", "c:one")
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "the limits did not follow the promotion"
                time.sleep(0.5)
    finally:
        topology.stop()


def _walls_on_every_master(topology, per_master=2):
    """Wall names whose slot group lands on each master, ``per_master`` each."""
    masters = set(topology.masters().values())
    chosen = {port: [] for port in masters}
    for i in range(1000):
        wall = "wall-%d" % i
        port = topology.owner(key_slot(keys.posts(wall).encode()))
        if len(chosen[port]) < per_master and all(
            keys.group_of(wall) != keys.group_of(w) for ws in chosen.values() for w in ws
        ):
            chosen[port].append(wall)
        if all(len(ws) == per_master for ws in chosen.values()):
            return [w for ws in chosen.values() for w in ws]
    raise AssertionError("no walls for every master: %s" % chosen)


@pytest.mark.timeout(120)
def test_a_dead_cluster_master_fails_only_the_posts_on_its_walls(tmp_path, cluster_keys):
    """One batch carries posts for every master: a dead one costs its own walls only."""
    topology = RedisCluster(str(tmp_path / "cluster")).start()
    client = None
    try:
        walls = _walls_on_every_master(topology, per_master=1)
        client = storage.connect(topology.url)
        posts = PostStore(client, durability=Durability(client, 1, 1000))
        topology.kill_master_of(key_slot(keys.posts(walls[0]).encode()))
        started = time.monotonic()
        results = posts.add_posts([NewPost(w, "ann", "hi", "c-" + w) for w in walls])
        assert time.monotonic() - started < 5
        assert isinstance(results[0], redis.ConnectionError), results
        assert [getattr(r, "kind", r) for r in results[1:]] == ["stored", "stored"]
    finally:
        if client is not None:
            client.close()
        topology.stop()


@pytest.mark.timeout(600)
def test_cluster_spreads_walls_and_survives_a_migration_and_a_failover(
    tmp_path, start_server, enough_files, cluster_keys
):
    topology = RedisCluster(str(tmp_path / "cluster")).start()
    try:
        walls = _walls_on_every_master(topology)
        servers = [start_server(redis=topology.url, env=ENV) for _ in range(2)]
        run = Run([s.url for s in servers], walls)
        moved, killed = walls[0], walls[2]
        slot_moved = key_slot(keys.posts(moved).encode())
        slot_killed = key_slot(keys.posts(killed).encode())
        # one page more on the killed master's wall, on the second process: it
        # leaves after the failover
        leaver = run.extra_page("leaver", servers[1].url, killed)
        run.extras.append(leaver)
        events = {}

        def migrate():
            source = topology.owner(slot_moved)
            target = next(p for p in topology.masters().values() if p != source)
            # key by key, a pause apart, while posts go on: they meet the slot
            # split between the nodes (ASK), then moved (MOVED)
            events["split"] = topology.migrate_slot(slot_moved, target, batch=1, pause=0.2)
            events["migrated"] = (source, topology.owner(slot_moved))

        def kill_master():
            port = topology.owner(slot_killed)
            events["walls_killed"] = {
                w for w in walls if topology.owner(key_slot(keys.posts(w).encode())) == port
            }
            events["killed_at"] = time.time()
            server = topology.kill_master_of(slot_killed)
            events["killed"] = port
            events["promoted"] = topology.wait_failover(slot_killed, port)
            # The promoted replica has no replica of its own: WAIT 1 cannot be
            # met on its walls (their posts are unavailable) until the old
            # master is back, as a replica, as an operator would bring it.
            server.restart()
            topology.wait_synced()

        async def join_and_leave():
            # The message queue must not have gone deaf with the master: a page
            # joining on the first process and one leaving the second reach the
            # other pages' online counts on both.
            n = sum(1 for p in run.pages if killed in p.syncs) + 1  # with the leaver
            await run.online_moves(killed, n, ONLINE_MOVES_S)
            joiner = run.extra_page("joiner", servers[0].url, killed)
            run.extras.append(joiner)
            await joiner.start(time.time() + 30)
            started = time.time()
            await run.online_moves(killed, n + 1, ONLINE_MOVES_S, exclude=[joiner])
            events["join seen after"] = time.time() - started
            await asyncio.wait_for(leaver.close(), 5)
            started = time.time()
            await run.online_moves(killed, n, ONLINE_MOVES_S, exclude=[joiner, leaver])
            events["leave seen after"] = time.time() - started
            await asyncio.wait_for(joiner.close(), 5)

        asyncio.run(
            run.go(
                60,
                [
                    (10, "slot migration", migrate),
                    (25, "kill -9 of a master", kill_master),
                    (40, "a join and a leave after the failover", join_and_leave),
                ],
                topology.url,
            )
        )
        promoted = events["promoted"]
        problems, counts, allowed = run.check(topology.url)
        # the walls on the two live masters kept being acknowledged: the
        # deadline is about the killed master's walls
        gap = run.longest_without_ack(events["walls_killed"], events["killed_at"])
        answers = run.answers()
        split, joined = events["split"]
        # A post's script names several keys of its wall's slot, some new (its
        # client_id's): Redis cannot run it while the slot's keys are split
        # (ASK, TRYAGAIN), so such posts are answered unavailable, and stored
        # once by the outbox's retry after the migration.
        during = [
            r
            for r in run.ledger.records.values()
            if r.wall == moved and r.first_sent and split <= r.first_sent <= joined
        ]
        refused = [r for r in during if r.outcomes.get("unavailable")]
        acked_split = sum(1 for r in during if r.acked_at and r.acked_at <= joined)
        limit_keys = run.limit_keys(topology.url)
        print(
            "cluster: %d posts sent on %s while its slot was split (%.1f s): %d answered "
            "unavailable, %d acknowledged within it; %d rate-limit keys"
            % (len(during), moved, joined - split, len(refused), acked_split, len(limit_keys))
        )
        print(
            "cluster: walls %s; migrated slot %d %s; master %d -> %d (walls %s); %s; longest "
            "without an ack on its walls (from the kill on) %.1f s, on all walls %.1f s; "
            "faults %s; online: join seen after %.1f s, leave after %.1f s; answers %s; "
            "timeouts at s %s; allowed %s"
            % (
                walls,
                slot_moved,
                events["migrated"],
                events["killed"],
                promoted,
                sorted(events["walls_killed"]),
                counts,
                gap,
                run.longest_without_ack(set(walls), events["killed_at"]),
                {
                    k: (round(a - run.t0, 1), round(b - run.t0, 1))
                    for k, (a, b) in run.faults.items()
                },
                events["join seen after"],
                events["leave seen after"],
                answers,
                run.timeouts(),
                allowed,
            )
        )
        assert events["migrated"][0] != events["migrated"][1]
        # posts met the split slot, were refused, and were stored later (once: above)
        assert refused, "no post met the slot split (%d sent during it)" % len(during)
        assert all(r.acked_at for r in during)
        # the posts' limits were counted on the cluster
        assert any("/ip/" in k for k in limit_keys), "no rate-limit keys"
        assert not problems, problems
        assert counts["acknowledged"] == counts["posts"] > 300
        assert gap < CLUSTER_RECOVERY_S, "posts acknowledged again only after %.1f s" % gap
        # a post sent during the switch is answered (unavailable), never left hanging
        assert not answers.get("timeout"), answers
        assert set(answers) <= {"ok", "unavailable", "offline"}, answers
        # every wall's pages saw its posts only (a stray post fails above), and
        # the message queue's online counts crossed processes on the cluster
        per_wall = {w: sum(1 for p in run.pages if w in p.syncs) for w in walls}
        for p in run.pages:
            wall = p.walls_list[0]
            assert p.online.get(wall) == per_wall[wall], (p.name, p.online, per_wall)
    finally:
        topology.stop()


@pytest.mark.timeout(240)
def test_sentinel_kill_right_after_a_burst_loses_no_acknowledged_post(
    tmp_path, start_server, enough_files
):
    """``WAIT 1``: the master killed at the last ack of a burst, every
    acknowledged post is on the promoted replica, once. Replication here is
    too fast to lose anything on its own, so the burst's tail is posted with
    the replicas paused (SIGSTOP) and cut from the master, as lagging
    replicas would be: without ``WAIT`` those posts are acknowledged and lost
    with the master."""
    topology = Sentinel(str(tmp_path / "sentinel")).start()
    try:
        server = start_server(redis=topology.url, env=ENV)
        run = Run([server.url], ["alpha", "beta"], pages=8)
        replicas = topology.servers[1:]  # the master is the first, before any failover

        def post(first, last):
            for n in range(first, last):
                client = run.pages[n % len(run.pages)]
                client.outbox.add(client.walls_list[0], "b-%d" % n, time.time())

        async def acked(within):
            end = time.time() + within
            while run.ledger.pending and time.time() < end:
                await asyncio.sleep(0.005)
            return not run.ledger.pending

        async def burst():
            deadline = time.time() + 60
            await asyncio.gather(*(p.start(deadline) for p in run.pages))
            while not all(p.joined_everywhere() for p in run.pages):
                assert time.time() < deadline, "pages did not join"
                await asyncio.sleep(0.2)
            post(0, 150)
            assert await acked(60), "the burst was not acknowledged"
            for replica in replicas:
                replica.pause()
            # and cut from the master: what it stores now reaches no replica
            master = redis.Redis(port=topology.master_port(), socket_timeout=5)
            assert master.execute_command("CLIENT", "KILL", "TYPE", "replica") == len(replicas)
            master.close()
            post(150, 200)
            # with WAIT 1 none of these is acknowledged while no replica holds it
            await acked(3)
            killed = topology.kill_master().port
            for replica in replicas:
                replica.resume()
            promoted = await asyncio.to_thread(topology.wait_failover, killed)
            # what was not acknowledged is sent again, to the promoted replica
            assert await acked(60), "posts not acknowledged after the promotion"
            await asyncio.gather(
                *(asyncio.wait_for(p.close(), 5) for p in run.pages), return_exceptions=True
            )
            return killed, promoted

        killed, promoted = asyncio.run(burst())
        client = storage.connect(topology.url, socket_timeout=10, retry_writes=True)
        try:
            assert client.info("server")["tcp_port"] == promoted
            _, counts, problems = run.stored(client)
        finally:
            client.close()
        print("sentinel burst: master %d -> %d; %s" % (killed, promoted, counts))
        assert not problems, problems
        assert counts["acknowledged"] == counts["posts"] == counts["entries"] == 200
    finally:
        for replica in topology.servers[1:]:
            replica.resume()
        topology.stop()
