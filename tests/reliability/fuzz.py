"""``make fuzz``: generated inputs against a real server, over WebSocket, long-polling and HTTP.

    FUZZ_N=3000 FUZZ_SEED=1234 python -m tests.reliability.fuzz
    FUZZ_SEED=1234 python -m tests.reliability.fuzz --replay 517   # input 517 alone

Two ``python app.py`` processes (deploy/launch.py's AppProcess) on one real
Redis (RedisProcess): the first with rate limits off, for throughput, then
the second with them on, for the last ``FUZZ_LIMITED`` share of the run
(default 0.2). ``FUZZ_N`` inputs in all (default 100,000):

- ``FUZZ_HTTP`` of them (default 0.2): schemathesis cases against
  ``/api/openapi.json`` (tests/reliability/fuzz_http.py), from
  up to ``FUZZ_HTTP_PROCESSES`` processes at once (default 4, one per 2,000
  cases);
- the rest from tests/reliability/fuzz_inputs.py, seeded per input:
  engine.io and Socket.IO framing, WebSocket framing, handshakes, long-polling
  requests, and JSON payloads for every event, by ``FUZZ_WORKERS`` clients
  at once (default 200), each on its own loopback address.

It fails (exit 1) on:

- a 5xx from any HTTP request (polling, upgrades, schemathesis' cases; Redis
  stays up, so ``unavailable`` is a failure too, as an ack or a 503);
- traceback text, or an ``internal`` error, in any reply or frame;
- an ack of the wrong shape (docs/protocol.md: ``{"ok": ...}``);
- a long-polling POST not answered within :data:`POST_TIMEOUT` s;
- a message over 64 KiB that does not close its session;
- a **canary** (an order-keeping aiohttp client per transport, on 127.0.0.2)
  that does not get its own post back as ``new post`` within
  ``FUZZ_CANARY_DEADLINE`` s (default 5); one posts every
  ``FUZZ_CANARY_EVERY`` inputs (default 250) or 3 s, whichever comes first;
- a server process that exits, or does not exit within 10 s of SIGTERM at
  the end; a traceback in a server's log;
- an RSS past the bounds (:data:`RSS_GROWTH_MAX`, :data:`RSS_PEAK_MAX`).

Failures print the input, the seed and the command that replays it as they
happen (the first of each kind; the summary counts them all), and the run
goes on to find more kinds. Progress every 5 s; a JSON summary in
test-artifacts/fuzz/<timestamp>.json. ``FUZZ_KINDS=payload,frame`` runs only
those kinds (other inputs for the same seed).
"""

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import secrets
import signal
import sys
import threading
import time
import uuid

import psutil
import redis

from deploy.launch import AppProcess, RedisProcess, free_port, stop_all
from wall import protocol

from ..support.aio_client import AioWallClient
from ..support.servers import clean_environ
from . import fuzz_inputs as inputs
from . import fuzz_wire as wire
from .fuzz_http import HttpPool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = "127.0.0.1"
CANARY_ADDR = "127.0.0.2"
#: seconds for an ack (a real client waits longer; the server answers in milliseconds)
ACK_TIMEOUT = 5.0
#: seconds for the probe after an input that asks for no answer
PROBE_TIMEOUT = 1.5
#: seconds for a long-polling POST: it is answered once its events are handled,
#: one after another (a POST of a dozen posts waits for a dozen Redis writes,
#: seconds on a loaded 2-core machine); the ack timeout bounds each of them
POST_TIMEOUT = 10.0
#: distinct kinds of failure before the run stops early (each keeps 3 examples)
MAX_FAILURES = 50
#: seconds a reused session may sit unused: engine.io pings every 25 s and drops
#: a session that has not answered within 20 s more
IDLE_MAX = 20.0
#: seconds a server has to drain and exit after SIGTERM
STOP_TIMEOUT = 10
#: RSS bounds of a server process. Its peak over its start: FUZZ_WORKERS (200)
#: clients hold up to 3 sessions each, each with engine.io, Socket.IO and
#: eventlet state (tens of KiB) and up to one 64 KiB message in flight, and
#: a server that falls behind holds the requests of clients that gave up and
#: came back: 40-70 MiB at worst (measured: +58 and +65 MiB in a 100,000
#: run). Its growth from its RSS once warmed up to the end: none is expected
#: but allocator slack; 48 MiB catches a leak of 800 bytes per input over a
#: 100,000 run, and any leak of whole connections (a held request costs
#: about 90 KiB). Warmed up is after a quarter of its phase's inputs (at
#: least 1,000): RSS climbs to that high-water mark over the first tens of
#: thousands of inputs, then stays flat (a 48,000-input phase: +30 MiB by
#: 2,400 inputs, +42 by 7,900, +55 by 27,600, then +55 to +56 to the end).
RSS_GROWTH_MAX = 48 * 2**20
RSS_PEAK_MAX = 96 * 2**20
ACK_FIELDS = {
    protocol.JOIN: {"ok", "wall", "posts", "online", "more"},
    protocol.LEAVE: {"ok", "wall"},
    protocol.ADD_TO_WALL: {"ok", "post"},
}


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name, default):
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


class Run:
    """What a run counts, and its failures."""

    def __init__(self, seed, n):
        self.seed = seed
        self.n = n
        self.started = time.monotonic()
        self.machine = MachineCpu()
        self.kinds = {}
        self.outcomes = {}
        self.statuses = {}
        self.acks = {}  # "<event> <ok or error code>" -> count
        self.seconds = {}  # time spent per kind and outcome, by the workers together
        self.unexpected = {}  # not failures: what surprised, with an example each
        self.failures = {}  # signature -> {"what", "count", "examples"}
        self.canary = {"round_trips": 0, "rate_limited_retries": 0, "latencies_ms": []}
        self.kinds_only = ""  # FUZZ_KINDS, for the replay command
        self.interrupted = False
        self.done_socket = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def count(self, item, outcome, seconds):
        self.done_socket += 1
        self.kinds[item.kind] = self.kinds.get(item.kind, 0) + 1
        key = "%s %s" % (item.kind, outcome)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds

    def status(self, status):
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1

    def surprise(self, what, item):
        entry = self.unexpected.setdefault(what, {"count": 0, "example": item.describe(300)})
        entry["count"] += 1

    def fail(self, what, detail, phase=None, replay=None):
        """Record a failure; the first of each kind is printed at once (seed, input, replay)."""
        with self.lock:
            signature = re.sub(r"\d+", "N", what)
            entry = self.failures.get(signature)
            if entry is None:
                entry = self.failures[signature] = {"what": what, "count": 0, "examples": []}
            entry["count"] += 1
            if len(entry["examples"]) >= 3:
                return
            record = {"detail": detail, "phase": phase}
            if replay is not None:
                record["replay"] = "FUZZ_SEED=%s %spython -m tests.reliability.fuzz --replay %d" % (
                    self.seed,
                    "FUZZ_KINDS=%s " % self.kinds_only if self.kinds_only else "",
                    replay,
                )
            entry["examples"].append(record)
            if len(entry["examples"]) == 1:
                print(
                    "\nFAIL (seed %s, %s): %s\n    %s" % (self.seed, phase, what, detail),
                    flush=True,
                )
                if "replay" in record:
                    print("    replay: " + record["replay"], flush=True)
            if len(self.failures) >= MAX_FAILURES:
                self.stop.set()


# -- running one input ------------------------------------------------------------------------------


class Worker:
    """One client: a WebSocket and a polling session reused across inputs, fresh
    connections for the inputs that need their own."""

    probe_ids = itertools.count(3_000_000_000)

    def __init__(self, phase, address):
        self.phase = phase
        self.run = phase.run
        self.address = address
        self.ws = None
        self.poll = None
        self.ws_used = self.poll_used = 0.0
        self.closed_by = ""  # why the last session closed, for the notes
        self.item = None

    # the scanner of every byte received, for the input that runs now
    def scan(self, chunk):
        found = wire.leak(chunk)
        if found:
            self.fail(
                "traceback text (or an internal error) %r in what the server sent" % found,
                chunk[:2000],
            )

    def fail(self, what, received=b""):
        item = self.item
        detail = item.describe() if item else ""
        if received:
            detail += "\n    received: %r" % (received[:2000],)
        self.run.fail(what, detail, self.phase.name, item.index if item else None)

    async def execute(self, item):
        self.item = item
        started = time.monotonic()
        try:
            runner = {
                "ws": self.on_ws,
                "polling": self.on_polling,
                "ws-fresh": self.on_fresh,
                "http": self.on_http,
            }[item.transport]
            outcome = await runner(item)
        except wire.Closed as exc:
            outcome = "refused"
            self.run.surprise("could not open a session: %s" % str(exc)[:60], item)
        except (OSError, TimeoutError) as exc:
            outcome = "connect error"
            self.run.surprise("connection error %s: %s" % (type(exc).__name__, exc), item)
        self.run.count(item, outcome, time.monotonic() - started)
        self.item = None

    # -- acks ---------------------------------------------------------------------

    def check_ack(self, item, text):
        """An ack of the wall namespace: ``[{"ok": bool, ...}]`` as docs/protocol.md says."""
        body = text[len("43%s," % inputs.NS) + len(str(item.ack_id)) :]
        try:
            args = json.loads(body)
        except ValueError:
            return self.fail("an ack that is not JSON", text.encode()[:2000])
        if not (isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict)):
            return self.fail("an ack that is not one object", text.encode()[:2000])
        ack = args[0]
        code = "ok" if ack.get("ok") is True else str(ack.get("error"))
        event = item.event if isinstance(item.event, str) and item.event in ACK_FIELDS else None
        key = "%s %s" % (event or "other event", code)
        self.run.acks[key] = self.run.acks.get(key, 0) + 1
        if not isinstance(ack.get("ok"), bool):
            return self.fail("an ack without ok", text.encode()[:2000])
        if ack["ok"]:
            want = ACK_FIELDS.get(item.event if isinstance(item.event, str) else None)
            if want is None or not want <= set(ack):
                return self.fail("an ok ack of the wrong shape", text.encode()[:2000])
            return
        if ack.get("error") == protocol.UNAVAILABLE:
            return self.fail("an unavailable ack while Redis is up", text.encode()[:2000])
        if ack.get("error") not in protocol.ERROR_CODES or ack["error"] == protocol.INTERNAL:
            return self.fail("an error ack with code %r" % ack.get("error"), text.encode()[:2000])
        if not isinstance(ack.get("message"), str):
            return self.fail("an error ack without a message", text.encode()[:2000])
        if "retry_after" in ack and not (
            isinstance(ack["retry_after"], int) and ack["retry_after"] >= 0
        ):
            return self.fail("a bad retry_after", text.encode()[:2000])
        known = set(inputs.EVENTS)
        if (
            isinstance(item.event, str)
            and item.event not in known
            and ack["error"] != protocol.UNKNOWN_EVENT
        ):
            self.run.surprise("an unknown event answered %s" % ack["error"], item)

    def after_answer(self, item, outcome):
        """Count a reused session's outcome. An input that asked for an ack and got a
        close or silence is noted with what excuses it (too big, not UTF-8...), if
        anything; a POST never answered is already a failure."""
        if item.expect == "answer" and outcome not in ("answered", "unanswered"):
            excuse = item.may_close or "nothing excuses it"
            if outcome == "closed" and not item.may_close:
                excuse += "; %s" % re.sub(r"\d{4,}", "N", self.closed_by[:60])
            self.run.surprise("%s without an ack (%s)" % (outcome, excuse), item)
        return outcome

    # -- WebSocket, reused session -----------------------------------------------------

    async def ws_session(self):
        if self.ws is not None and time.monotonic() - self.ws_used > IDLE_MAX:
            self.ws.close()  # it did not read the server's pings: the server may drop it
        self.ws_used = time.monotonic()
        if self.ws is None or self.ws.closed:
            self.ws = await self.phase.open_ws(self.scan, self.address)
        self.ws.ws.scan = self.scan
        self.ws.messages = []
        return self.ws

    async def on_ws(self, item):
        session = await self.ws_session()
        try:
            if item.raw:
                await session.ws.send(item.raw, item.chunks)
            else:
                for opcode, data in item.messages:
                    await session.ws.send(wire.ws_frame(data, opcode=opcode))
            outcome = await self.ws_wait(session, item)
        except wire.Closed as exc:
            outcome = "closed"
            self.closed_by = str(exc)
        if outcome != "answered":
            session.close()
        return self.after_answer(item, outcome)

    async def ws_wait(self, session, item):
        if item.ack_id is not None:
            want, timeout = item.ack_id, ACK_TIMEOUT
        else:
            want, timeout = next(self.probe_ids), PROBE_TIMEOUT
            await session.send_text(wire.probe_packet(want))
        try:
            text = await asyncio.wait_for(session.until(lambda m: wire.ack_of(m) == want), timeout)
        except TimeoutError:
            return "quiet"
        if item.ack_id is not None:
            self.check_ack(item, text)
        return "answered"

    # -- long-polling, reused session --------------------------------------------------------

    async def polling_session(self):
        if self.poll is not None and time.monotonic() - self.poll_used > IDLE_MAX:
            await self.poll.close()  # it answered no ping: the server may drop it
        self.poll_used = time.monotonic()
        if self.poll is None or self.poll.closed:
            self.poll = await wire.PollingSession.open(
                HOST, self.phase.port, self.scan, self.address
            )
        self.poll.scan = self.scan
        self.poll.messages = []
        self.poll.statuses = []
        return self.poll

    async def on_polling(self, item):
        session = await self.polling_session()
        try:
            try:
                for ctype, body in item.messages:
                    await session.post(body, ctype, timeout=POST_TIMEOUT)
                if item.ack_id is not None:
                    want, timeout = item.ack_id, ACK_TIMEOUT
                else:
                    want, timeout = next(self.probe_ids), PROBE_TIMEOUT
                    await session.post(wire.probe_packet(want).encode(), timeout=POST_TIMEOUT)
                text = await session.poll_until(lambda m: wire.ack_of(m) == want, timeout)
                if text is None:
                    outcome = "quiet"
                else:
                    outcome = "answered"
                    if item.ack_id is not None:
                        self.check_ack(item, text)
            except wire.Unanswered as exc:
                self.fail(
                    "a long-polling POST got no answer within %.0f s" % POST_TIMEOUT, str(exc)
                )
                outcome = "unanswered"
                session.closed = True
            except wire.Closed as exc:
                outcome = "closed"
                self.closed_by = str(exc)
        finally:
            self.http_statuses(session.statuses)
        if outcome != "answered":
            await session.close()
        return self.after_answer(item, outcome)

    def http_statuses(self, statuses):
        for status in statuses:
            self.run.status(status)
            if status >= 500:
                self.fail("HTTP %d from the server" % status)

    # -- fresh connections ---------------------------------------------------------------------

    async def on_fresh(self, item):
        request = item.request
        poll = None
        if item.before == "upgrade":
            poll = await wire.PollingSession.open(HOST, self.phase.port, self.scan, self.address)
            request = wire.upgrade_request(
                wire.SOCKETIO + "websocket&sid=" + poll.sid, self.phase.hostport
            )
        ws = await wire.RawWebSocket.connect(
            HOST, self.phase.port, request, self.scan, self.address
        )
        try:
            if ws.status is None:
                return "no reply"
            self.run.status(ws.status)
            if ws.status >= 500:
                self.fail(
                    "HTTP %d to an upgrade" % ws.status, ws.head.encode() + b"\r\n\r\n" + ws.body
                )
            if ws.status != 101:
                return "http %d" % ws.status
            session = wire.WsSession(ws)
            try:
                if item.before in ("open", "ns"):
                    opening = await asyncio.wait_for(session.next_message(), ACK_TIMEOUT)
                    if item.before == "ns" and opening.startswith("0"):
                        await session.send_text("40%s," % inputs.NS)
                        await asyncio.wait_for(
                            session.until(lambda m: m.startswith("40" + inputs.NS)), ACK_TIMEOUT
                        )
                await ws.send(item.raw, item.chunks)
                return await self.linger(session, item)
            except (wire.Closed, TimeoutError):
                return "closed"
        finally:
            ws.close()
            if poll is not None:
                await poll.close()

    async def linger(self, session, item):
        """Wait for the server's reaction: a close, or ``linger`` seconds of anything."""
        try:
            await asyncio.wait_for(session.until(lambda m: False), item.linger)
        except TimeoutError:
            pass
        if item.expect != "close":
            return "open"
        # an oversize message must have closed the session: is it still answering?
        want = next(self.probe_ids)
        await session.send_text(wire.probe_packet(want))
        try:
            await asyncio.wait_for(session.until(lambda m: wire.ack_of(m) == want), PROBE_TIMEOUT)
        except TimeoutError:
            return "open, quiet"
        self.fail("an oversize message did not close its session")
        return "open"

    async def on_http(self, item):
        sids = {}
        outcome = "no reply"
        for raw in item.requests:
            if b"{sid}" in raw:
                sids["sid"] = sids.get("sid") or (await self.polling_session()).sid
                raw = raw.replace(b"{sid}", sids["sid"].encode())
            if b"{other}" in raw:
                other = (await self.ws_session()).sid
                raw = raw.replace(b"{other}", other.encode())
            reply = await wire.http_request(
                HOST, self.phase.port, raw, self.scan, self.address, linger=item.linger
            )
            if reply is not None:
                self.run.status(reply.status)
                if reply.status >= 500:
                    self.fail(
                        "HTTP %d from the server" % reply.status,
                        reply.head.encode() + b"\r\n\r\n" + reply.body,
                    )
                outcome = "http %d" % reply.status
        # the requests may have closed this worker's sessions: start afresh
        if sids:
            await self.drop_sessions()
        return outcome

    async def drop_sessions(self):
        if self.poll is not None:
            await self.poll.close()
            self.poll = None
        if self.ws is not None:
            self.ws.close()
            self.ws = None


def worker_address(i):
    """Worker ``i``'s own loopback address (127.0.1.1, ...), so that the per-address
    limits of the gate and of posting count each worker apart; the canaries are on
    127.0.0.2."""
    return "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)


# -- canaries ---------------------------------------------------------------------------------------------


class Canary:
    """A well-behaved client that posts and must see its own post come back."""

    def __init__(self, phase, transport):
        self.phase = phase
        self.transport = transport
        self.wall = "canary-%s" % phase.run.seed
        self.client = AioWallClient(phase.url, transport, local_addr=CANARY_ADDR)
        self.last = 0.0

    async def start(self):
        await self.client.connect()
        await self.client.join(self.wall)

    async def round_trip(self, deadline):
        run = self.phase.run
        loop = asyncio.get_running_loop()
        started = loop.time()
        end = started + deadline
        client_id = "canary-" + uuid.uuid4().hex
        data = {
            "wall": self.wall,
            "username": "canary",
            "message": "alive?",
            "client_id": client_id,
        }
        while True:
            if not self.client.connected:
                return "the %s canary was disconnected" % self.transport
            try:
                ack = await self.client.call(
                    protocol.ADD_TO_WALL, data, timeout=max(0.1, end - loop.time())
                )
            except TimeoutError:
                return "the %s canary's post was not acked within %.0f s" % (
                    self.transport,
                    deadline,
                )
            except Exception as exc:
                return "the %s canary's post failed: %r" % (self.transport, exc)
            if ack.get("ok"):
                break
            if (
                ack.get("error") == protocol.RATE_LIMITED
                and loop.time() + ack.get("retry_after", 1) < end + 10
            ):
                run.canary["rate_limited_retries"] += 1
                await asyncio.sleep(ack.get("retry_after", 1))
                end = loop.time() + deadline
                continue
            return "the %s canary's post was refused: %r" % (self.transport, ack)
        post_id = ack["post"]["id"]
        while post_id not in self.client.live:
            if loop.time() > end:
                return "the %s canary did not get its post %s back within %.0f s" % (
                    self.transport,
                    post_id,
                    deadline,
                )
            await asyncio.sleep(0.005)
        run.canary["round_trips"] += 1
        run.canary["latencies_ms"].append(round((loop.time() - started) * 1000, 1))
        self.last = loop.time()
        return None


# -- a phase: one server, its share of the inputs ------------------------------------------------------------


class Phase:
    def __init__(self, run, name, server, indices, http_quota, config):
        self.run = run
        self.name = name
        self.server = server
        self.port = server.port
        self.url = server.url
        self.hostport = "%s:%d" % (HOST, self.port)
        self.indices = indices
        self.http_quota = http_quota
        self.config = config
        self.http = None

    async def open_ws(self, scan, address):
        return await wire.WsSession.open(HOST, self.port, scan, address)

    async def go(self):
        cfg = self.config
        run = self.run
        canaries = [Canary(self, "websocket"), Canary(self, "polling")]
        for canary in canaries:
            await canary.start()
        self.http = HttpPool(
            self.url,
            self.http_quota,
            run.seed,
            lambda what, detail: run.fail(what, detail, self.name),
            cfg["admin_token"],
            # a process costs a second or two to start: one per 2,000 cases
            max(1, min(cfg["http_processes"], self.http_quota // 2000)),
        )
        self.http.start()
        queue = asyncio.Queue()
        for index in self.indices:
            queue.put_nowait(index)
        workers = [Worker(self, worker_address(i)) for i in range(cfg["workers"])]

        async def work(worker):
            while not run.stop.is_set():
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                try:
                    item = inputs.make_input(run.seed, index, self.hostport, cfg["kinds"])
                except Exception as exc:
                    run.fail("the fuzzer cannot make input %d: %r" % (index, exc), "", self.name)
                    continue
                try:
                    await worker.execute(item)
                except Exception as exc:  # a bug of the fuzzer itself: say so, go on
                    run.surprise("fuzzer error %s: %s" % (type(exc).__name__, str(exc)[:80]), item)
                    await worker.drop_sessions()
            await worker.drop_sessions()

        tasks = [asyncio.ensure_future(work(w)) for w in workers]
        canary_task = asyncio.ensure_future(self.canaries(canaries, tasks))
        await asyncio.gather(*tasks)
        while self.http.alive():
            if run.stop.is_set():
                self.http.stop.set()
            await asyncio.sleep(0.1)
        self.http.finish()
        canary_task.cancel()
        # one last round trip on each transport, once all is sent
        for canary in canaries:
            error = await canary.round_trip(cfg["canary_deadline"])
            if error:
                run.fail(error, "after the phase's last input", self.name)
        for canary in canaries:
            await canary.client.close()
        if self.http.error:
            run.fail("the HTTP fuzz stopped: %s" % self.http.error, "", self.name)

    async def canaries(self, canaries, tasks):
        cfg = self.config
        run = self.run
        loop = asyncio.get_running_loop()
        next_at = run.done_socket + cfg["canary_every"]
        turn = 0
        last = loop.time()
        min_gap = 2.2 if cfg["rate_limits"] else 0.0  # 5 posts per 10 s per connection
        try:
            while True:
                await asyncio.sleep(0.02)
                done = run.done_socket + (self.http.done if self.http else 0)
                if done < next_at and loop.time() - last < 3.0:
                    continue
                canary = canaries[turn % len(canaries)]
                if loop.time() - canary.last < min_gap:
                    continue
                turn += 1
                error = await canary.round_trip(cfg["canary_deadline"])
                if error:
                    run.fail(error, "while fuzzing, after %d inputs" % done, self.name)
                    if not canary.client.connected:
                        await canary.client.close()
                        canary.client = AioWallClient(
                            self.url, canary.transport, local_addr=CANARY_ADDR
                        )
                        await canary.start()
                next_at = (
                    run.done_socket + (self.http.done if self.http else 0) + cfg["canary_every"]
                )
                last = loop.time()
        except asyncio.CancelledError:
            pass


# -- watching the servers ------------------------------------------------------------------------------------


class Watch:
    """RSS of each server every half second; alive or not."""

    def __init__(self, run, servers):
        self.run = run
        self.servers = servers  # name -> AppProcess
        self.procs = {name: psutil.Process(s.pid) for name, s in servers.items()}
        self.samples = {name: [] for name in servers}
        self.cpu = {}
        self.phase_start = {}  # name -> inputs done when its phase began
        self.phase_inputs = {}  # name -> inputs its phase makes

    def sample(self, inputs_done):
        for name, server in self.servers.items():
            if not server.alive():
                return name
            try:
                rss = self.procs[name].memory_info().rss
                fds = self.procs[name].num_fds()
            except psutil.Error:
                return name
            try:
                times = self.procs[name].cpu_times()
                self.cpu[name] = round(times.user + times.system, 1)
            except psutil.Error:
                pass
            self.samples[name].append(
                (round(time.monotonic() - self.run.started, 1), inputs_done, rss, fds)
            )
        return None

    def figures(self, name):
        samples = self.samples[name]
        if not samples:
            return {}
        rss = [s[2] for s in samples]
        # warmed up: after a quarter of its own phase (see RSS_GROWTH_MAX)
        warm_at = self.phase_start.get(name, 0) + max(1000, self.phase_inputs.get(name, 0) // 4)
        warm = next((s[2] for s in samples if s[1] >= warm_at), rss[-1])
        mib = 2**20
        step = max(1, len(samples) // 60)
        return {
            "start_mib": round(rss[0] / mib, 1),
            "warm_mib": round(warm / mib, 1),
            "peak_mib": round(max(rss) / mib, 1),
            "end_mib": round(rss[-1] / mib, 1),
            "cpu_seconds": self.cpu.get(name),
            "open_files_start": samples[0][3],
            "open_files_peak": max(x[3] for x in samples),
            "open_files_end": samples[-1][3],
            "timeline (s, inputs, MiB, open files)": [
                (t, n, round(r / mib, 1), f) for t, n, r, f in samples[::step]
            ],
        }


class MachineCpu:
    """How busy the machine is, and how much of that is not this run.

    A run that is slow from its first second may be starved by other jobs
    or by the host (steal): each progress line says so, and the summary
    gives the whole run's figures.
    """

    def __init__(self):
        self.me = psutil.Process()
        self.first = self.last = self._read()
        self.worst_other = 0.0

    def _read(self):
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        tick = os.sysconf("SC_CLK_TCK")
        total = sum(fields[:8]) / tick
        idle = (fields[3] + fields[4]) / tick
        steal = fields[7] / tick if len(fields) > 7 else 0.0
        # this process with the children it has reaped, and the live ones
        times = self.me.cpu_times()
        mine = times.user + times.system + times.children_user + times.children_system
        for process in self.me.children(recursive=True):
            try:
                times = process.cpu_times()
                mine += times.user + times.system
            except psutil.Error:
                pass
        return total, idle, steal, mine

    @staticmethod
    def _share(a, b):
        total = b[0] - a[0]
        if total <= 0:
            return {}
        busy = total - (b[1] - a[1])
        return {
            "busy %": round(100 * busy / total),
            "steal %": round(100 * (b[2] - a[2]) / total),
            # processes that are not this run's (its servers, Redis and workers are)
            "others %": max(0, round(100 * (busy - (b[3] - a[3])) / total)),
        }

    def interval(self):
        now = self._read()
        share, self.last = self._share(self.last, now), now
        self.worst_other = max(self.worst_other, share.get("others %", 0))
        return share

    def whole(self):
        return {**self._share(self.first, self._read()), "worst 5-s others %": self.worst_other}


async def progress_loop(run, watch, phases, total_inputs):
    last = 0.0
    while not run.stop.is_set():
        await asyncio.sleep(0.5)
        done = run.done_socket + sum(p.http.done for p in phases if p.http)
        dead = watch.sample(done)
        if dead:
            run.fail("the server %s exited or vanished" % dead, "after %d inputs" % done)
            return
        now = time.monotonic() - run.started
        if now - last >= 5:
            last = now
            rss = " ".join(
                "%s %.0f MiB" % (name, s[-1][2] / 2**20) for name, s in watch.samples.items() if s
            )
            http_done = sum(p.http.done for p in phases if p.http)
            cpu = run.machine.interval()
            print(
                "[%6.1fs] %d/%d inputs (%d socket, %d HTTP), %.0f/s, canary %d round trips, "
                "%d failures, RSS %s, machine busy %s%% (others %s%%, steal %s%%)"
                % (
                    now,
                    done,
                    total_inputs,
                    run.done_socket,
                    http_done,
                    done / now if now else 0,
                    run.canary["round_trips"],
                    len(run.failures),
                    rss,
                    cpu.get("busy %"),
                    cpu.get("others %"),
                    cpu.get("steal %"),
                ),
                flush=True,
            )


def log_findings(path):
    """Tracebacks and errors in a server's log."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return {"tracebacks": 0, "errors": 0, "excerpts": []}
    excerpts = []
    for match in re.finditer(r"Traceback \(most recent call last\)", text):
        start = text.rfind("\n", 0, max(0, match.start() - 300))
        excerpts.append(text[start + 1 : match.start() + 2500])
        if len(excerpts) >= 3:
            break
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "errors": len(re.findall(r"^\S+ \S+ ERROR ", text, re.M)),
        "warnings": len(re.findall(r"^\S+ \S+ WARNING ", text, re.M)),
        "error lines": sorted(set(re.findall(r"^\S+ \S+ (ERROR .{0,160})", text, re.M)))[:10],
        "warning lines": sorted(
            set(
                re.sub(r"\d+", "N", w)
                for w in re.findall(r"^\S+ \S+ WARNING (.{0,120})", text, re.M)
            )
        )[:10],
        "excerpts": excerpts,
    }


# -- the run -------------------------------------------------------------------------------------------------


def start_servers(workdir, admin_token):
    redis_server = RedisProcess(os.path.join(workdir, "redis"), persist=False)
    redis_server.start()
    servers = {}
    for name, limits in (("limits-off", "off"), ("limits-on", "on")):
        env = clean_environ()
        env.update(
            REDIS_URL=redis_server.url,
            WALL_RATE_LIMITS=limits,
            WALL_ADMIN_TOKEN=admin_token,
            WALL_ASYNC_MODE="eventlet",
        )
        port = free_port()
        servers[name] = AppProcess(port, env, os.path.join(workdir, "%s-%d.log" % (name, port)))
    for server in servers.values():
        server.start(wait=False)
    for server in servers.values():
        server.wait_ready(30)
    return redis_server, servers


def stop_servers(servers):
    """SIGTERM to every server at once; SIGKILL after :data:`STOP_TIMEOUT` s.
    ``{name: {"returncode", "seconds"}}`` (-9: it had to be killed)."""
    started = time.monotonic()
    running = [s for s in servers.values() if s.alive()]
    stop_all(running, timeout=STOP_TIMEOUT)
    return {
        name: {
            "returncode": s.process.returncode,
            "seconds": round(time.monotonic() - started, 1),
        }
        for name, s in servers.items()
        if s in running
    }


def plan(n, http_share, limited_share):
    """``(socket indices per phase, HTTP quota per phase)``."""
    http_total = round(n * http_share)
    socket_total = n - http_total
    socket_first = round(socket_total * (1 - limited_share))
    http_first = round(http_total * (1 - limited_share))
    return (
        [range(0, socket_first), range(socket_first, socket_total)],
        [http_first, http_total - http_first],
    )


async def fuzz(run, config, servers):
    socket_parts, http_parts = plan(run.n, config["http_share"], config["limited_share"])
    loop = asyncio.get_running_loop()

    def interrupted():
        # Ctrl-C: finish the inputs under way, then summarise; a second one stops at once
        run.interrupted = True
        run.stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    loop.add_signal_handler(signal.SIGINT, interrupted)
    watch = Watch(run, servers)
    phases = [
        Phase(
            run,
            name,
            servers[name],
            socket_parts[i],
            http_parts[i],
            dict(config, rate_limits=i == 1),
        )
        for i, name in enumerate(("limits-off", "limits-on"))
    ]
    watcher = asyncio.ensure_future(progress_loop(run, watch, phases, run.n))
    for phase in phases:
        if run.stop.is_set():
            break
        print(
            "phase %s: %d socket inputs, %d HTTP cases on %s"
            % (phase.name, len(phase.indices), phase.http_quota, phase.url),
            flush=True,
        )
        watch.phase_start[phase.name] = run.done_socket + sum(p.http.done for p in phases if p.http)
        watch.phase_inputs[phase.name] = len(phase.indices) + phase.http_quota
        await phase.go()
    watch.sample(run.n)
    run.stop.set()
    await watcher
    return watch, phases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replay", type=int, help="run input INDEX of FUZZ_SEED alone")
    args = parser.parse_args(argv)
    seed = env_int("FUZZ_SEED", random.SystemRandom().randrange(10**9))
    n = env_int("FUZZ_N", 100_000)
    config = {
        "http_share": env_float("FUZZ_HTTP", 0.2),
        "limited_share": env_float("FUZZ_LIMITED", 0.2),
        "workers": env_int("FUZZ_WORKERS", 200),
        "http_processes": env_int("FUZZ_HTTP_PROCESSES", 4),
        "canary_every": env_int("FUZZ_CANARY_EVERY", 250),
        "canary_deadline": env_float("FUZZ_CANARY_DEADLINE", 5.0),
        "admin_token": secrets.token_hex(16),
        "kinds": [k for k in os.environ.get("FUZZ_KINDS", "").split(",") if k.strip()],
    }
    if args.replay is not None:
        return replay(seed, args.replay, config)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.join(ROOT, "test-artifacts", "fuzz")
    workdir = os.path.join(out_dir, stamp)
    os.makedirs(workdir, exist_ok=True)
    print("fuzz: FUZZ_SEED=%d FUZZ_N=%d (logs in %s)" % (seed, n, workdir), flush=True)
    run = Run(seed, n)
    run.kinds_only = ",".join(config["kinds"])
    redis_server, servers = start_servers(workdir, config["admin_token"])
    try:
        watch, phases = asyncio.run(fuzz(run, config, servers))
        alive = {name: s.alive() for name, s in servers.items()}
        for name, ok in alive.items():
            if not ok:
                run.fail("the server %s is not running at the end" % name, "")
        logs = {name: log_findings(s.log_path) for name, s in servers.items()}
        for name, found in logs.items():
            if found["tracebacks"]:
                run.fail(
                    "%d traceback(s) in the log of %s" % (found["tracebacks"], name),
                    found["excerpts"][0][:3000],
                )
        rss = {name: watch.figures(name) for name in servers}
        for name, figures in rss.items():
            mib = 2**20
            if figures and figures["end_mib"] * mib - figures["warm_mib"] * mib > RSS_GROWTH_MAX:
                run.fail(
                    "%s RSS grew %.0f MiB past its warmed-up %.0f MiB"
                    % (name, figures["end_mib"] - figures["warm_mib"], figures["warm_mib"]),
                    "",
                )
            if figures and figures["peak_mib"] * mib - figures["start_mib"] * mib > RSS_PEAK_MAX:
                run.fail(
                    "%s RSS peaked %.0f MiB over its start"
                    % (name, figures["peak_mib"] - figures["start_mib"]),
                    "",
                )
        try:
            redis_memory = redis.Redis.from_url(redis_server.url).info("memory")[
                "used_memory_human"
            ]
        except redis.RedisError:
            redis_memory = None
        shutdown = stop_servers(servers)
        for name, result in shutdown.items():
            if result["returncode"] != 0:
                run.fail(
                    "%s did not exit cleanly on SIGTERM within %d s (exit status %s)"
                    % (name, STOP_TIMEOUT, result["returncode"]),
                    "a graceful drain should close every session and exit",
                )
    finally:
        stop_servers(servers)
        redis_server.stop()
    elapsed = time.monotonic() - run.started
    http = {phase.name: phase.http.summary() for phase in phases if phase.http}
    http_cases = sum(h["cases"] for h in http.values())
    latencies = sorted(run.canary["latencies_ms"])
    if run.interrupted:
        run.fail("interrupted (Ctrl-C) after %d inputs" % (run.done_socket + http_cases), "")
    summary = {
        "passed": not run.failures,
        "seed": seed,
        "n": n,
        "inputs": run.done_socket + http_cases,
        "wall_time_s": round(elapsed, 1),
        "inputs_by_kind": dict(sorted(run.kinds.items()), http=http_cases),
        "outcomes": dict(sorted(run.outcomes.items())),
        "worker seconds by outcome": {k: round(v, 1) for k, v in sorted(run.seconds.items())},
        "acks by event and answer": dict(sorted(run.acks.items())),
        "socket.io http statuses": dict(sorted(run.statuses.items())),
        "http": http,
        "canary": {
            "round_trips": run.canary["round_trips"],
            "rate_limited_retries": run.canary["rate_limited_retries"],
            "latency_ms": {
                "median": latencies[len(latencies) // 2] if latencies else None,
                "p99": latencies[int(len(latencies) * 0.99)] if latencies else None,
                "max": latencies[-1] if latencies else None,
            },
        },
        "rss": rss,
        "rss_bounds_mib": {
            "growth past warm": RSS_GROWTH_MAX / 2**20,
            "peak over start": RSS_PEAK_MAX / 2**20,
        },
        "redis_used_memory": redis_memory,
        "machine cpu": run.machine.whole(),
        "shutdown": shutdown,
        "server_logs": logs,
        "unexpected (not failures)": run.unexpected,
        "config": {k: v for k, v in config.items() if k != "admin_token"},
        "failures": list(run.failures.values()),
    }
    path = os.path.join(out_dir, "%s.json" % stamp)
    with open(path, "w") as f:
        json.dump(summary, f, indent=2, default=str)
    print_summary(summary, path)
    return 0 if summary["passed"] else 1


def print_summary(summary, path):
    print("\n== fuzz summary (seed %s) ==" % summary["seed"])
    print("inputs: %d in %.1f s" % (summary["inputs"], summary["wall_time_s"]))
    print("by kind: " + ", ".join("%s %d" % kv for kv in summary["inputs_by_kind"].items()))
    print("machine CPU: " + ", ".join("%s %s" % kv for kv in summary["machine cpu"].items()))
    c = summary["canary"]
    print(
        "canary: %d round trips, latency median %s ms, max %s ms"
        % (c["round_trips"], c["latency_ms"]["median"], c["latency_ms"]["max"])
    )
    for name, figures in summary["rss"].items():
        if figures:
            print(
                "RSS %s: start %.1f MiB, warm %.1f, peak %.1f, end %.1f; open files %d -> %d"
                % (
                    name,
                    figures["start_mib"],
                    figures["warm_mib"],
                    figures["peak_mib"],
                    figures["end_mib"],
                    figures["open_files_start"],
                    figures["open_files_end"],
                )
            )
    for name, h in summary["http"].items():
        print("HTTP %s: %d cases, statuses %s" % (name, h["cases"], h["statuses"]))
    if summary["unexpected (not failures)"]:
        print("unexpected but allowed:")
        for what, entry in summary["unexpected (not failures)"].items():
            print("  %dx %s" % (entry["count"], what))
    print(
        "%s: %d failure(s); summary in %s"
        % ("PASSED" if summary["passed"] else "FAILED", len(summary["failures"]), path)
    )
    for failure in summary["failures"]:
        print("  - %dx %s" % (failure["count"], failure["what"]))


# -- replay ----------------------------------------------------------------------------------------------


def replay(seed, index, config):
    """Input ``index`` of ``seed`` alone against a fresh server (rate limits off),
    with what came back."""
    import tempfile

    workdir = tempfile.mkdtemp(prefix="fuzz-replay-")
    run = Run(seed, 1)
    redis_server, servers = start_servers(workdir, config["admin_token"])
    server = servers["limits-off"]
    try:

        async def one():
            phase = Phase(run, "replay", server, [index], 0, config)
            worker = Worker(phase, worker_address(0))
            item = inputs.make_input(seed, index, phase.hostport, config["kinds"])
            print(item.describe(limit=4000))
            await worker.execute(item)
            for session in (worker.ws, worker.poll):
                if session is not None:
                    for text in session.messages:
                        print("  received: %r" % text[:2000])
            await worker.drop_sessions()
            canary = Canary(phase, "websocket")
            await canary.start()
            error = await canary.round_trip(config["canary_deadline"])
            await canary.client.close()
            print("outcome: %s; canary: %s" % (run.outcomes, error or "ok"))

        asyncio.run(one())
        print("server alive: %s" % server.alive())
        found = log_findings(server.log_path)
        print("server log: %d traceback(s)" % found["tracebacks"])
        for excerpt in found["excerpts"]:
            print(excerpt)
    finally:
        stop_servers(servers)
        redis_server.stop()
    return 0 if not run.failures else 1


if __name__ == "__main__":
    sys.exit(main())
