"""One client process of the soak: a few hundred pages, their posts, and their checks.

Run by soak.py as ``python -m tests.reliability.crowd <config.json>``. It
talks to the soak on its standard streams, one JSON object a line:

- stdin, commands: ``{"cmd": "start"}`` (begin posting), ``{"cmd": "rate",
  "factor": 10}``, ``{"cmd": "quiet"}`` (no new posts; unacknowledged ones are
  still retried), ``{"cmd": "finish", "timeout": 60}``: wait until every
  client is connected and holds the newest post of each of its walls (read
  from Redis), check what each saw against ``XRANGE`` (views.py), write the
  result file, close every client, say ``{"done": true}`` and exit. End of
  stdin (the soak died) ends the process too.
- stdout: ``{"ready": ...}`` once every client has joined its walls, then a
  status line every second (clients connected, posts sent, acknowledged and
  pending, deliveries, reconnects, this process's CPU and memory).
"""

import asyncio
import json
import os
import random
import resource
import sys
import time

import psutil
import redis

from wall.storage import keys

from . import page
from .page import Ledger, PageClient
from .timeline import Timeline, merge_hist
from .views import Stream, check_view

STATUS_EVERY_S = 1.0
CONNECT_BATCH = 25
FAILURE_SAMPLES = 60


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Crowd:
    def __init__(self, config):
        self.config = config
        self.epoch = config["epoch"]
        self.timeline = Timeline(self.epoch)
        self.ledger = Ledger(self.timeline)
        self.clients = []
        self.canaries = []
        for spec in config["clients"]:
            self.clients.append(self._client(spec))
        for spec in config.get("canaries", ()):
            self.canaries.append(self._client(spec))
        self.posters = [c for c in self.clients]
        self.rate = float(config["rate"])  # posts per second of this process
        self.factor = 1.0
        self.posting = False
        self.seq = 0
        self.rng = random.Random(config.get("seed", 1))
        self.proc = psutil.Process()
        self.proc.cpu_percent(None)
        self.commands = asyncio.Queue()

    def _client(self, spec):
        return PageClient(
            spec["name"],
            spec["url"],
            spec["transport"],
            spec.get("addr"),
            spec["walls"],
            self.ledger,
            self.timeline,
            self.epoch,
        )

    @property
    def everyone(self):
        return self.clients + self.canaries

    # -- the run -------------------------------------------------------------------

    async def run(self):
        # held here: asyncio keeps only a weak reference to a task, and the
        # pipe's protocol only a weak one to its reader
        self._commands_task = page.spawn(self._read_commands())
        deadline = time.time() + self.config.get("connect_timeout", 120)
        everyone = self.everyone
        for start in range(0, len(everyone), CONNECT_BATCH):
            await asyncio.gather(
                *(c.start(deadline) for c in everyone[start : start + CONNECT_BATCH])
            )
        while not all(c.joined_everywhere() for c in everyone):
            if time.time() > deadline:
                raise RuntimeError("clients did not all join in time")
            await asyncio.sleep(0.2)
        emit({"ready": True, "clients": len(self.clients), "canaries": len(self.canaries)})
        status = page.spawn(self._status_loop())
        while True:
            cmd = await self.commands.get()
            what = cmd.get("cmd")
            if what == "start":
                self.posting = True
                page.spawn(self._post_loop())
                if self.canaries:
                    page.spawn(self._canary_loop())
            elif what == "rate":
                self.factor = float(cmd["factor"])
            elif what == "quiet":
                self.posting = False
            elif what == "finish":
                self.posting = False
                status.cancel()
                await self._finish(float(cmd.get("timeout", 60)), cmd["result"])
                return

    async def _read_commands(self):
        loop = asyncio.get_running_loop()
        reader = self._stdin = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                os._exit(3)  # the soak is gone: nobody will read our result
            self.commands.put_nowait(json.loads(line))

    async def _post_loop(self):
        # Poisson arrivals on an absolute clock, so that a late wake-up of
        # the event loop does not lower the rate.
        prefix = self.config["prefix"]
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while self.posting:
            now = loop.time()
            rate = self.rate * self.factor
            if rate <= 0 or now < next_at:
                await asyncio.sleep(0.25 if rate <= 0 else min(next_at - now, 0.25))
                continue
            next_at = max(next_at, now - 1.0) + self.rng.expovariate(rate)
            client = self.rng.choice(self.posters)
            wall = self.rng.choice(client.walls_list)
            self.seq += 1
            client_id = "%s-%d-%04x" % (prefix, self.seq, self.rng.getrandbits(16))
            client.outbox.add(wall, client_id, time.time())

    async def _canary_loop(self):
        prefix = self.config["prefix"] + "k"
        n = 0
        while self.posting:
            await asyncio.sleep(self.config.get("canary_every", 1.0))
            canary = self.canaries[n % len(self.canaries)]
            n += 1
            canary.outbox.add(canary.walls_list[0], "%s-%d" % (prefix, n), time.time())

    async def _status_loop(self):
        # the fewest pages connected since the last status, looked at every 0.1 s:
        # a worker's pages are back within a second or two of its kill
        while True:
            fewest = len(self.clients)
            for _ in range(int(STATUS_EVERY_S / 0.1)):
                await asyncio.sleep(0.1)
                fewest = min(fewest, sum(1 for c in self.clients if c.connected))
            status = self.status()
            status["connected_min"] = fewest
            emit(status)

    def status(self):
        everyone = self.everyone
        memory = self.proc.memory_info().rss
        second = self.timeline.second(time.time())
        recent = {}  # deliveries of the last 5 s, for the progress line's p99
        per_second = self.timeline.hists.get("delivery", {})
        for s in range(second - 5, second + 1):
            merge_hist(recent, per_second.get(s, {}))
        return {
            "t": round(time.time() - self.epoch, 2),
            "clients": len(self.clients),
            "connected": sum(1 for c in self.clients if c.connected),
            "canaries_connected": sum(1 for c in self.canaries if c.connected),
            "synced": sum(1 for c in everyone for s in c.syncs.values() if s.synced),
            "joins": sum(len(c.syncs) for c in everyone),
            "created": len(self.ledger.records),
            "acked": self.ledger.acked,
            "pending": self.ledger.pending,
            "delivered": sum(c.delivered for c in everyone),
            "reconnects": sum(c.reconnects for c in everyone),
            "violations": sum(len(s.view.violations) for c in everyone for s in c.syncs.values()),
            "crashes": len(page.CRASHES),
            "cpu": self.proc.cpu_percent(None),
            "rss": memory,
            "fds": self.proc.num_fds(),
            "recent_delivery": recent,
        }

    # -- the end -------------------------------------------------------------------

    async def _finish(self, timeout, result_path):
        rdb = redis.Redis(port=self.config["redis_port"], decode_responses=True, socket_timeout=30)
        walls = sorted({w for c in self.everyone for w in c.syncs})
        newest = {}
        for wall in walls:
            last = rdb.xrevrange(keys.posts(wall), "+", "-", count=1)
            newest[wall] = last[0][0] if last else None
        # every client holding the newest post of each wall, or the timeout
        started = time.time()
        while time.time() - started < timeout:
            if all(c.synced_everywhere(newest) for c in self.everyone):
                break
            await asyncio.sleep(0.25)
        waited = time.time() - started
        streams = {}
        for wall in walls:
            entries = rdb.xrange(keys.posts(wall))
            streams[wall] = Stream(i for i, f in entries if "d" not in f)
        rdb.close()
        result = self._checks(streams, newest)
        result["final_wait_s"] = round(waited, 2)
        result["ledger"] = {
            cid: rec.to_json(self.epoch) for cid, rec in self.ledger.records.items()
        }
        result["timeline"] = self.timeline.to_json()
        result["crashes"] = list(page.CRASHES)
        result["status"] = self.status()
        await asyncio.gather(
            *(asyncio.wait_for(c.close(), 5) for c in self.everyone), return_exceptions=True
        )
        with open(result_path, "w") as f:
            json.dump(result, f)
        emit({"done": True})

    def _checks(self, streams, newest):
        totals = {}
        samples = []
        clients = []
        for client in self.everyone:
            incomplete = not client.synced_everywhere(newest)
            row = {
                "name": client.name,
                "transport": client.transport,
                "addr": client.local_addr,
                "url": client.base_url,
                "walls": client.walls_list,
                "connected_at_end": client.connected,
                "complete_at_end": not incomplete,
                "reconnects": client.reconnects,
                "disconnects": client.disconnects,
                "delivered": client.delivered,
                "stray": client.stray[:5],
                "walls_detail": {},
            }
            if client.stray:
                totals["contract"] = totals.get("contract", 0) + len(client.stray)
            for wall, sync in client.syncs.items():
                found = check_view(sync.view, streams[wall])
                segments = sync.view.segments
                seen = {
                    "seen:views": 1,
                    "seen:joins": len(segments),
                    "seen:rejoins_with_after": sum(1 for g in segments if g.after is not None),
                    "seen:acks_with_more": sum(1 for g in segments if g.more and g.after),
                    "seen:ack_posts": sum(len(g.ack) for g in segments),
                    "seen:page_posts": sum(len(g.pages) for g in segments),
                    "seen:live_posts": sum(len(g.live) for g in segments),
                    "seen:resyncs": sync.view.resyncs,
                    "seen:truncated": sync.truncations,
                    "seen:catch_ups_given_up": sync.gave_up,
                }
                for kind, n in seen.items():
                    totals[kind] = totals.get(kind, 0) + n
                for kind, n in found.counts.items():
                    totals[kind] = totals.get(kind, 0) + n
                detail = {
                    "segments": len(sync.view.segments),
                    "resyncs": sync.view.resyncs,
                    "truncations": sync.truncations,
                    "catch_ups": sync.catch_ups,
                    "catch_ups_given_up": sync.gave_up,
                    "synced": sync.synced,
                    "newest": sync.feed_newest,
                    "stream_newest": newest.get(wall),
                    "counts": dict(found.counts),
                }
                row["walls_detail"][wall] = detail
                if found.failed and len(samples) < FAILURE_SAMPLES:
                    samples.append(
                        {
                            "client": client.name,
                            "transport": client.transport,
                            "addr": client.local_addr,
                            "wall": wall,
                            "counts": dict(found.counts),
                            "samples": {k: v for k, v in found.samples.items() if k in found.KINDS},
                            "segments": [s.to_json() for s in sync.view.segments[:40]],
                        }
                    )
            if incomplete:
                totals["incomplete_at_end"] = totals.get("incomplete_at_end", 0) + 1
            clients.append(row)
        return {"totals": totals, "failures": samples, "clients": clients}


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    raise_file_limit()
    crowd = Crowd(config)
    asyncio.run(crowd.run())
    sys.stdout.flush()
    os._exit(0)  # leftover tasks of closed clients need no goodbye


if __name__ == "__main__":
    main()
