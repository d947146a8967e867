"""A small asyncio Socket.IO client on aiohttp, for many clients in one test.

python-socketio's client needs a thread or two per connection; this one runs
thousands of connections in one event loop, binds each to a source address
(so nginx's ``hash $remote_addr`` spreads them over app processes), and
reconnects and re-joins with ``after`` like the browser page does. It speaks
engine.io 4 / Socket.IO 5 on the ``/wall`` namespace, over WebSocket or
long-polling.
"""

import asyncio
import itertools
import json

import aiohttp

NS = "/wall"
SEP = "\x1e"  # engine.io's record separator in polling payloads


class Disconnected(Exception):
    pass


class AioWallClient:
    def __init__(self, base_url, transport="websocket", local_addr=None, reconnect=False):
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.local_addr = local_addr
        self.reconnect = reconnect
        self.posts = []  # merged by id, in id order: what a page would show
        self.live = []  # ids exactly as ``new post`` delivered them
        self.events = []  # (name, payload) of every other server event
        self.arrivals = []  # ("ack", ack id) and ("post", post id), in wire order
        self.http_errors = []  # unexpected HTTP statuses seen on polling requests
        self.reconnects = 0
        self.walls = set()
        self.connected = False
        self._acks = {}
        self._ids = itertools.count(1)
        self._session = None
        self._ws = None
        self._sid = None
        self._send_lock = asyncio.Lock()
        self._task = None
        self._ready = None

    # -- public --------------------------------------------------------------

    async def connect(self, timeout=15):
        connector = aiohttp.TCPConnector(
            limit=0, local_addr=(self.local_addr, 0) if self.local_addr else None
        )
        self._session = aiohttp.ClientSession(connector=connector)
        try:
            await asyncio.wait_for(self._open(), timeout)
        except BaseException:
            await self._session.close()
            raise
        self._task = asyncio.ensure_future(self._run())
        return self

    async def call(self, event, data, timeout=10):
        if not self.connected:
            raise Disconnected(event)
        ack_id = self.last_ack_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self._send("42%s,%d%s" % (NS, ack_id, json.dumps([event, data])))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._acks.pop(ack_id, None)

    async def join(self, wall, after=None):
        data = {"wall": wall} if after is None else {"wall": wall, "after": after}
        reply = await self.call("join", data)
        assert reply["ok"], reply
        self.walls.add(wall)
        self._merge(reply["posts"])
        return reply

    async def post(self, wall, message, client_id=None):
        data = {"wall": wall, "username": "aio", "message": message}
        if client_id:
            data["client_id"] = client_id
        return await self.call("add to wall", data)

    def ids(self):
        return [p["id"] for p in self.posts]

    async def close(self):
        """Leave politely, as socket.io-client does: the server forgets us at once."""
        self.reconnect = False
        if self._task:
            self._task.cancel()
        if self.connected:
            try:
                await asyncio.wait_for(self._send("41" + NS + ","), 2)
                if self._ws is None:
                    await asyncio.wait_for(self._send("1"), 2)
            except Exception:
                pass
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        self.connected = False

    # -- engine.io -------------------------------------------------------------

    def _url(self, transport):
        url = "%s/socket.io/?EIO=4&transport=%s" % (self.base_url, transport)
        if self._sid and transport == "polling":
            url += "&sid=" + self._sid
        return url

    async def _open(self):
        self._sid, self._ws = None, None
        self._ready = asyncio.get_running_loop().create_future()
        if self.transport == "websocket":
            self._ws = await self._session.ws_connect(
                self._url("websocket").replace("http", "ws", 1), autoping=False
            )
            opening = await self._ws.receive_str()
            self._sid = json.loads(opening[1:])["sid"]
            await self._ws.send_str("40" + NS + ",")
            while not self._ready.done():
                self._packet(await self._ws.receive_str())
        else:
            async with self._session.get(self._url("polling")) as resp:
                self._check(resp)
                body = await resp.text()
            self._sid = json.loads(body.split(SEP)[0][1:])["sid"]
            await self._send("40" + NS + ",")
            while not self._ready.done():
                await self._poll_once()
        self.connected = True

    async def _run(self):
        while True:
            try:
                while True:
                    if self._ws is not None:
                        msg = await self._ws.receive()
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            raise Disconnected(str(msg.type))
                        self._packet(msg.data)
                    else:
                        await self._poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.connected = False
                for future in self._acks.values():
                    if not future.done():
                        future.set_exception(Disconnected("connection lost"))
                if not self.reconnect:
                    return
            await self._reconnect()

    async def _reconnect(self):
        delay = 0.2
        while self.reconnect:
            await asyncio.sleep(delay)
            try:
                await asyncio.wait_for(self._open(), 10)
            except Exception:
                delay = min(delay * 2, 2.0)
                continue
            self.reconnects += 1
            # Re-join from a task of its own: this one must go back to
            # reading, or the join's ack would never be seen.
            asyncio.ensure_future(self._rejoin())
            return

    async def _rejoin(self):
        after = self.posts[-1]["id"] if self.posts else None
        try:
            for wall in list(self.walls):
                await self.join(wall, after)
        except Exception:
            pass  # the connection dropped again; the next reconnect re-joins

    async def _poll_once(self):
        async with self._session.get(self._url("polling")) as resp:
            self._check(resp)
            body = await resp.text()
        for packet in body.split(SEP):
            self._packet(packet)

    async def _send(self, packet):
        async with self._send_lock:
            if self._ws is not None:
                await self._ws.send_str(packet)
            else:
                async with self._session.post(self._url("polling"), data=packet) as resp:
                    self._check(resp)
                    await resp.read()

    def _check(self, resp):
        if resp.status != 200:
            self.http_errors.append(resp.status)
            raise Disconnected("HTTP %d" % resp.status)

    def _packet(self, packet):
        if not packet:
            return
        kind = packet[0]
        if kind == "2":  # ping: answer at once, as engine.io requires
            asyncio.ensure_future(self._send("3"))
        elif kind == "1":
            raise Disconnected("closed by the server")
        elif kind == "4":
            self._socketio(packet[1:])

    def _socketio(self, packet):
        kind, rest = packet[0], packet[1:]
        if rest.startswith(NS + ","):
            rest = rest[len(NS) + 1 :]
        elif rest.startswith(NS):
            rest = rest[len(NS) :]
        if kind == "0":
            if not self._ready.done():
                self._ready.set_result(True)
        elif kind == "4":
            if not self._ready.done():
                self._ready.set_exception(Disconnected("refused: " + rest))
        elif kind == "2":
            name, *args = json.loads(rest)
            payload = args[0] if args else None
            if name == "new post":
                self.arrivals.append(("post", payload["id"]))
                self.live.append(payload["id"])
                self._merge([payload])
            else:
                self.events.append((name, payload))
        elif kind == "3":
            digits = len(rest) - len(rest.lstrip("0123456789"))
            self.arrivals.append(("ack", int(rest[:digits])))
            future = self._acks.get(int(rest[:digits]))
            if future is not None and not future.done():
                future.set_result(json.loads(rest[digits:])[0])

    def _merge(self, posts):
        # Merge by id, as the page does: a re-join may overlap live posts.
        known = {p["id"] for p in self.posts}
        for post in posts:
            if post["id"] not in known:
                self.posts.append(post)
                known.add(post["id"])
        self.posts.sort(key=lambda p: tuple(int(x) for x in p["id"].split("-")))
