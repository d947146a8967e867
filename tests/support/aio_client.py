"""A small asyncio Socket.IO client on aiohttp, for many clients in one test.

python-socketio's client needs a thread or two per connection; this one runs
thousands of connections in one event loop, binds each to a source address
(so nginx's ``hash $remote_addr`` spreads them over app processes), sends
``cookies`` (a browser's ``wall_client``, got from a page) if given, and
reconnects and re-joins with ``after`` like the browser page does. It speaks
engine.io 4 / Socket.IO 5 on the ``/wall`` namespace, over WebSocket or
long-polling.

For long runs with many clients (tests/reliability/), ``keep=False`` keeps
nothing per post, and a subclass sees everything through hooks called in
wire order, synchronously, as each packet is read: :meth:`on_post`,
:meth:`on_event`, ``call(..., on_reply=)``, :meth:`on_session` and
:meth:`on_disconnect`. ``watch_pings=True`` drops a connection whose
server fell silent for longer than its ping interval plus ping timeout,
as socket.io-client does.
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
    def __init__(
        self,
        base_url,
        transport="websocket",
        local_addr=None,
        reconnect=False,
        keep=True,
        watch_pings=False,
        cookies=None,
    ):
        self.base_url = base_url.rstrip("/")
        #: name -> value, sent with every request (the browser's cookies)
        self.cookies = cookies or {}
        self.transport = transport
        self.local_addr = local_addr
        self.reconnect = reconnect
        self.keep = keep  # False: no per-post lists below (long runs; use the hooks)
        self.watch_pings = watch_pings
        self.newest = {}  # wall -> newest post id shown on that wall
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
        self._replies = {}  # ack id -> on_reply hook
        self._late = {}  # ack id -> on_late_reply hook of a call that timed out
        self._silence = None  # seconds without a packet after which the server is gone

    # -- hooks for subclasses: called synchronously, in wire order -------------

    def on_post(self, post):
        """A ``new post`` was read (before any later packet is)."""

    def on_event(self, name, payload):
        """Any other server event was read (``online``, ``resync``, ...)."""

    def on_session(self, reconnected):
        """A session is open and connected to ``/wall``; ``reconnected`` after a drop.

        By default a reconnection re-joins every wall with ``after``.
        """
        if reconnected:
            # From a task of its own: the reader must go back to reading,
            # or the join's ack would never be seen.
            asyncio.ensure_future(self._rejoin())

    def on_disconnect(self, reason):
        """The connection was lost (pending calls fail with :class:`Disconnected`)."""

    # -- public --------------------------------------------------------------

    async def connect(self, timeout=15):
        connector = aiohttp.TCPConnector(
            limit=0, local_addr=(self.local_addr, 0) if self.local_addr else None
        )
        # a plain header, sent as is on every request (WebSocket and polling
        # alike): aiohttp's cookie jar keeps none from an IP address
        cookie = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        self._session = aiohttp.ClientSession(
            connector=connector, headers={"Cookie": cookie} if cookie else None
        )
        try:
            await asyncio.wait_for(self._open(), timeout)
        except BaseException:
            await self._session.close()
            raise
        self._task = asyncio.ensure_future(self._run())
        self.on_session(False)
        return self

    async def call(self, event, data, timeout=10, on_reply=None, on_late_reply=None):
        """Send ``event`` and return its ack's payload.

        :param on_reply: called with the payload as the ack is read, before
            any packet after it (the return comes later, from the event loop).
        :param on_late_reply: called, the same way, with the payload of an
            ack that arrives on the same connection after the call timed out
            (socket.io-client drops such an ack; the server did act on it).
        :raises Disconnected: the connection is or went down; TimeoutError.
        """
        if not self.connected:
            raise Disconnected(event)
        ack_id = self.last_ack_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        if on_reply is not None:
            self._replies[ack_id] = on_reply
        try:
            await self._send("42%s,%d%s" % (NS, ack_id, json.dumps([event, data])))
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            if on_late_reply is not None and self.connected:
                self._late[ack_id] = on_late_reply
            raise
        finally:
            self._acks.pop(ack_id, None)
            self._replies.pop(ack_id, None)

    async def join(self, wall, after=None):
        data = {"wall": wall} if after is None else {"wall": wall, "after": after}
        reply = await self.call("join", data, on_reply=lambda r: self._joined(wall, r))
        assert reply["ok"], reply
        self.walls.add(wall)
        return reply

    async def http_get(self, path, timeout=10):
        """GET ``path`` from this client's address; return ``(status, JSON or None)``."""
        async with self._session.get(
            self.base_url + path, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            body = await resp.read()
            try:
                return resp.status, json.loads(body)
            except ValueError:
                return resp.status, None

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
            self._opened(opening)
            await self._ws.send_str("40" + NS + ",")
            while not self._ready.done():
                self._packet(await self._ws.receive_str())
        else:
            async with self._session.get(self._url("polling")) as resp:
                self._check(resp)
                body = await resp.text()
            self._opened(body.split(SEP)[0])
            await self._send("40" + NS + ",")
            while not self._ready.done():
                await self._poll_once()
        self.connected = True

    def _opened(self, packet):
        opening = json.loads(packet[1:])
        self._sid = opening["sid"]
        if self.watch_pings:
            # socket.io-client's rule: no ping within interval + timeout, the server is gone
            self._silence = (opening["pingInterval"] + opening["pingTimeout"]) / 1000.0

    async def _read_some(self):
        if self._ws is not None:
            msg = await self._ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise Disconnected(str(msg.type))
            self._packet(msg.data)
        else:
            await self._poll_once()

    async def _run(self):
        while True:
            try:
                while True:
                    if self._silence is None:
                        await self._read_some()
                    else:
                        try:
                            async with asyncio.timeout(self._silence):
                                await self._read_some()
                        except TimeoutError:
                            raise Disconnected("the server fell silent")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                self._late.clear()  # their acks went with the connection
                for future in self._acks.values():
                    if not future.done():
                        future.set_exception(Disconnected("connection lost"))
                self.on_disconnect(exc)
                if self._ws is not None and not self._ws.closed:
                    try:  # fell silent: nobody else will close it
                        await asyncio.wait_for(self._ws.close(), 2)
                    except Exception:
                        pass
                if not self.reconnect:
                    return
            await self._reconnect()

    def reconnect_delay(self, failures):
        """Seconds to wait before reconnect attempt ``failures + 1``."""
        return min(0.2 * 2**failures, 2.0)

    async def _reconnect(self):
        failures = 0
        while self.reconnect:
            await asyncio.sleep(self.reconnect_delay(failures))
            try:
                await asyncio.wait_for(self._open(), 10)
            except Exception:
                failures += 1
                continue
            self.reconnects += 1
            self.on_session(True)
            return

    async def _rejoin(self):
        # Each wall from the newest post shown on it (one client may watch several).
        try:
            for wall in list(self.walls):
                await self.join(wall, self.newest.get(wall))
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
            try:
                if self._ws is not None:
                    await self._ws.send_str(packet)
                else:
                    async with self._session.post(self._url("polling"), data=packet) as resp:
                        self._check(resp)
                        await resp.read()
            except (aiohttp.ClientError, ConnectionError) as exc:
                # a send over a connection that just dropped (a worker killed
                # mid-POST) is a lost connection, as a browser sees it
                raise Disconnected("send failed: %s" % exc) from exc

    def _check(self, resp):
        if resp.status != 200:
            self.http_errors.append(resp.status)
            raise Disconnected("HTTP %d" % resp.status)

    def _packet(self, packet):
        if not packet:
            return
        kind = packet[0]
        if kind == "2":  # ping: answer at once, as engine.io requires
            asyncio.ensure_future(self._send("3")).add_done_callback(_ignore_failure)
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
                if self.keep:
                    self.arrivals.append(("post", payload["id"]))
                    self.live.append(payload["id"])
                self._merge([payload])
                self.on_post(payload)
            else:
                if self.keep:
                    self.events.append((name, payload))
                self.on_event(name, payload)
        elif kind == "3":
            digits = len(rest) - len(rest.lstrip("0123456789"))
            ack_id = int(rest[:digits])
            if self.keep:
                self.arrivals.append(("ack", ack_id))
            future = self._acks.get(ack_id)
            if future is not None and not future.done():
                payload = json.loads(rest[digits:])[0]
                hook = self._replies.pop(ack_id, None)
                if hook is not None:
                    hook(payload)
                future.set_result(payload)
            elif ack_id in self._late:
                self._late.pop(ack_id)(json.loads(rest[digits:])[0])

    def _joined(self, wall, reply):
        if reply.get("ok"):
            self._merge(reply["posts"])

    def _merge(self, posts):
        for post in posts:
            wall, newest = post.get("wall"), self.newest.get(post.get("wall"))
            if newest is None or _id_key(post["id"]) > _id_key(newest):
                self.newest[wall] = post["id"]
        if not self.keep:
            return
        # Merge by id, as the page does: a re-join may overlap live posts.
        known = {p["id"] for p in self.posts}
        for post in posts:
            if post["id"] not in known:
                self.posts.append(post)
                known.add(post["id"])
        self.posts.sort(key=lambda p: _id_key(p["id"]))


async def open_websockets(url, n, batch=250, timeout=30):
    """``n`` connected WebSocket clients, each from an address of its own
    (127.0.x.y, so that no per-address limit applies), ``batch`` at a time."""
    clients = []
    for start in range(0, n, batch):
        group = [
            AioWallClient(url, "websocket", "127.0.%d.%d" % (1 + i // 250, 1 + i % 250))
            for i in range(start, min(n, start + batch))
        ]
        await asyncio.gather(*(c.connect(timeout=timeout) for c in group))
        clients += group
    return clients


def _id_key(post_id):
    return tuple(int(x) for x in post_id.split("-"))


def _ignore_failure(task):
    if not task.cancelled():
        task.exception()  # retrieved: a pong lost with its connection is no news
