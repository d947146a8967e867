"""The fuzz run's clients at the byte level, on asyncio: nothing here corrects a mistake.

- :func:`ws_frame`: a WebSocket frame of any shape (unmasked, reserved bits,
  any opcode, a length that lies).
- :class:`RawWebSocket`: an upgrade with any request, then raw bytes out and
  server frames in.
- :class:`WsSession` / :class:`PollingSession`: an engine.io session on
  ``/wall`` over WebSocket or long-polling that sends whatever it is given
  and answers the server's pings, so that one session can carry many inputs.
- :func:`http_request`: one raw HTTP request on its own connection.
- :func:`leak`: traceback text in anything that came back.

Every byte received goes through :func:`leak` (the caller's ``scan``).
"""

import asyncio
import base64
import json
import os
import re
import struct

NS = "/wall"
SEP = b"\x1e"  # engine.io's record separator in polling payloads
SOCKETIO = "/socket.io/?EIO=4&transport="

#: what a traceback or an exception's text looks like when it reaches a client
LEAK = re.compile(
    r"Traceback \(most recent call last\)"
    r'|File "[^"\n]{0,300}", line \d+'
    r"|(?<![A-Za-z])[A-Z][A-Za-z]*(?:Error|Exception): "
)
#: an ``internal`` error answer: a bug on the server (the socket's 500)
INTERNAL = re.compile(r'"error"\s*:\s*"internal"')


def leak(data):
    """The traceback-like text in ``data`` (str or bytes), or None."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8", "replace")
    match = LEAK.search(data) or INTERNAL.search(data)
    return match.group(0) if match else None


_SCRUB = [
    (re.compile(rb"Traceback"), b"traceback"),
    (re.compile(rb'File "'), b"File '"),
    (re.compile(rb"(Error|Exception): "), b"\\1; "),
]


def scrub(data):
    """``data`` without anything :data:`LEAK` would match, so that what the server
    echoes (an unknown event's name, a post) is never taken for a leak."""
    for pattern, repl in _SCRUB:
        data = pattern.sub(repl, data)
    return data


class Closed(Exception):
    """The server closed the connection, the session, or refused it."""


class Unanswered(Closed):
    """A request that must be answered at once (a polling POST) was not."""


# -- WebSocket frames --------------------------------------------------------------------


def mask_bytes(payload, key):
    if not payload:
        return b""
    n = len(payload)
    keyed = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keyed, "little")).to_bytes(
        n, "little"
    )


def ws_frame(
    payload, opcode=1, fin=True, mask=True, key=None, rsv=0, announce=None, length_form=None
):
    """A client frame. ``announce`` states another length than ``payload``'s;
    ``length_form`` forces the 7-bit, 16-bit or 64-bit length field (7, 16, 64)."""
    payload = scrub(bytes(payload))
    n = len(payload) if announce is None else announce
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 15)])
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    bit = 0x80 if mask else 0
    if form == 7:
        head += bytes([bit | (n & 127)])
    elif form == 16:
        head += bytes([bit | 126]) + struct.pack("!H", n & 0xFFFF)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n & 0xFFFFFFFFFFFFFFFF)
    if not mask:
        return head + payload
    key = key if key is not None else os.urandom(4)
    return head + key + mask_bytes(payload, key)


def upgrade_request(path, host, headers=None, method="GET", version="HTTP/1.1"):
    """A WebSocket upgrade request; ``headers`` (a list of pairs) replaces the usual ones."""
    if headers is None:
        headers = standard_ws_headers(host)
    lines = ["%s %s %s" % (method, path, version)]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")


def standard_ws_headers(host, key=None):
    return [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key or base64.b64encode(os.urandom(16)).decode()),
        ("Sec-WebSocket-Version", "13"),
    ]


class ConnectTimeout(TimeoutError):
    """The TCP connection itself took longer than the timeout."""


async def _open(host, port, local_addr, timeout):
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(local_addr, 0) if local_addr else None),
            timeout,
        )
    except TimeoutError:
        raise ConnectTimeout("no TCP connection within %.0f s" % timeout) from None


class RawWebSocket:
    """One TCP connection after an upgrade request of the caller's making.

    :param scan: called with every chunk of bytes received.
    """

    def __init__(self, reader, writer, scan):
        self.reader = reader
        self.writer = writer
        self.scan = scan
        self.status = None
        self.head = ""
        self.body = b""
        self._buf = b""
        self.closed = False

    @classmethod
    async def connect(cls, host, port, request, scan, local_addr=None, timeout=5.0):
        """Send ``request``; read the reply head. ``status`` is None if none came."""
        reader, writer = await _open(host, port, local_addr, timeout)
        ws = cls(reader, writer, scan)
        writer.write(scrub(request))
        try:
            await asyncio.wait_for(ws._read_head(), timeout)
        except (TimeoutError, ConnectionError, Closed):
            pass
        return ws

    async def _read_head(self):
        while b"\r\n\r\n" not in self._buf:
            chunk = await self.reader.read(65536)
            if not chunk:
                raise Closed("no reply head")
            self.scan(chunk)
            self._buf += chunk
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        self.head = head.decode("latin-1")
        parts = self.head.split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        if self.status != 101:
            length = re.search(r"(?im)^content-length:\s*(\d+)", self.head)
            want = int(length.group(1)) if length else None
            while want is None or len(self._buf) < want:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                self.scan(chunk)
                self._buf += chunk
            self.body, self._buf = self._buf, b""

    async def send(self, data, chunks=None):
        """Write ``data``, in ``chunks`` pieces with a yield between them if asked."""
        if self.closed:
            raise Closed("closed")
        try:
            if not chunks:
                self.writer.write(data)
            else:
                step = max(1, len(data) // chunks)
                for i in range(0, len(data), step):
                    self.writer.write(data[i : i + step])
                    await self.writer.drain()
                    await asyncio.sleep(0.001)
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            self.closed = True
            raise Closed(str(exc)) from None

    async def _need(self, n):
        while len(self._buf) < n:
            chunk = await self.reader.read(65536)
            if not chunk:
                self.closed = True
                raise Closed("EOF")
            self.scan(chunk)
            self._buf += chunk

    async def recv(self):
        """The next whole server message: ``(opcode, payload)``; pings answered."""
        parts, first = [], None
        while True:
            try:
                await self._need(2)
                b0, b1 = self._buf[0], self._buf[1]
                n, at = b1 & 127, 2
                if n == 126:
                    await self._need(4)
                    n, at = struct.unpack("!H", self._buf[2:4])[0], 4
                elif n == 127:
                    await self._need(10)
                    n, at = struct.unpack("!Q", self._buf[2:10])[0], 10
                if b1 & 0x80:
                    at += 4  # a server must not mask; tolerate it anyway
                await self._need(at + n)
            except (ConnectionError, OSError) as exc:
                self.closed = True
                raise Closed(str(exc)) from None
            payload, self._buf = self._buf[at : at + n], self._buf[at + n :]
            opcode = b0 & 15
            if opcode == 8:
                self.closed = True
                raise Closed("close frame %r" % payload[:2])
            if opcode == 9:
                await self.send(ws_frame(payload, opcode=10))
                continue
            if opcode == 10:
                continue
            if first is None:
                first = opcode
            parts.append(payload)
            if b0 & 0x80:
                return first, b"".join(parts)

    def close(self):
        self.closed = True
        try:
            self.writer.close()
        except Exception:
            pass


# -- engine.io sessions ------------------------------------------------------------------


def probe_packet(ack_id):
    return "42%s,%d%s" % (NS, ack_id, json.dumps(["fuzz probe"]))


ACK = re.compile(r"^43(/[^,]*,)?(\d+)")


class WsSession:
    """An engine.io session on ``/wall`` over a raw WebSocket.

    ``messages`` collects every text message received, for the input that
    is running; pings are answered as they arrive.
    """

    def __init__(self, ws):
        self.ws = ws
        self.sid = None
        self.messages = []

    @classmethod
    async def open(cls, host, port, scan, local_addr=None, namespace=True, timeout=5.0):
        request = upgrade_request(SOCKETIO + "websocket", "%s:%d" % (host, port))
        ws = await RawWebSocket.connect(host, port, request, scan, local_addr, timeout)
        if ws.status != 101:
            ws.close()
            raise Closed("upgrade answered %s" % ws.status)
        session = cls(ws)
        try:
            opening = await asyncio.wait_for(session.next_message(), timeout)
        except TimeoutError:
            ws.close()
            raise TimeoutError("no engine.io open packet within %.0f s of the 101" % timeout)
        session.sid = json.loads(opening[1:])["sid"]
        if namespace:
            await session.send_text("40%s," % NS)
            try:
                await asyncio.wait_for(session.until(lambda m: m.startswith("40" + NS)), timeout)
            except TimeoutError:
                ws.close()
                raise TimeoutError("no answer to 40/wall, within %.0f s" % timeout)
        session.messages = []
        return session

    @property
    def closed(self):
        return self.ws.closed

    async def send_text(self, text):
        await self.ws.send(ws_frame(text.encode()))

    async def next_message(self):
        while True:
            opcode, payload = await self.ws.recv()
            if opcode != 1:
                continue
            text = payload.decode("utf-8", "replace")
            if text == "2":
                await self.send_text("3")
                continue
            if text.startswith("1"):
                self.ws.closed = True
                raise Closed("engine.io close packet")
            if text.startswith("44" + NS):
                self.messages.append(text)
                raise Closed("namespace refused: %s" % text[:200])
            self.messages.append(text)
            return text

    async def until(self, predicate):
        while True:
            text = await self.next_message()
            if predicate(text):
                return text

    def close(self):
        self.ws.close()


def ack_of(text):
    """The ack id of an ack message (``43/wall,7[...]``), or None."""
    match = ACK.match(text)
    return int(match.group(2)) if match else None


class HttpReply:
    def __init__(self, status, head, body):
        self.status = status
        self.head = head
        self.body = body

    def __repr__(self):
        return "<HTTP %s %r>" % (self.status, self.body[:200])


async def http_request(host, port, request, scan, local_addr=None, timeout=5.0, linger=None):
    """Send ``request`` (bytes) on a new connection; the reply, or None if none came
    within ``linger`` (or ``timeout``) seconds."""
    reader, writer = await _open(host, port, local_addr, timeout)
    try:
        writer.write(scrub(request))
        await writer.drain()
        return await asyncio.wait_for(_read_reply(reader, scan), linger or timeout)
    except (TimeoutError, ConnectionError, OSError):
        return None
    finally:
        writer.close()


async def _read_reply(reader, scan):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = await reader.read(65536)
        if not chunk:
            if not buf:
                return None
            break
        scan(chunk)
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    head = head.decode("latin-1")
    parts = head.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    length = re.search(r"(?im)^content-length:\s*(\d+)", head)
    chunked = re.search(r"(?im)^transfer-encoding:\s*chunked", head)
    if length:
        want = int(length.group(1))
        while len(body) < want:
            chunk = await reader.read(65536)
            if not chunk:
                break
            scan(chunk)
            body += chunk
    elif chunked:
        while not body.endswith(b"0\r\n\r\n"):
            chunk = await reader.read(65536)
            if not chunk:
                break
            scan(chunk)
            body += chunk
    elif not head.startswith("HTTP/1.1 1") and status not in (204, 304):
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            scan(chunk)
            body += chunk
    return HttpReply(status, head, body)


def http(method, path, host, body=b"", headers=(), version="HTTP/1.1", content_length=True):
    """Request bytes; ``Connection: close`` unless ``headers`` says otherwise."""
    lines = ["%s %s %s" % (method, path, version), "Host: %s" % host]
    names = {k.lower() for k, _ in headers}
    if "connection" not in names:
        lines.append("Connection: close")
    if content_length and body and "content-length" not in names:
        lines.append("Content-Length: %d" % len(body))
    lines += ["%s: %s" % (k, v) for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass") + body


class PollingSession:
    """An engine.io session on ``/wall`` over long-polling, one raw request each time."""

    def __init__(self, host, port, scan, local_addr):
        self.host, self.port = host, port
        self.hostport = "%s:%d" % (host, port)
        self.scan = scan
        self.local_addr = local_addr
        self.sid = None
        self.closed = False
        self.messages = []
        self.statuses = []

    @classmethod
    async def open(cls, host, port, scan, local_addr=None, timeout=5.0):
        session = cls(host, port, scan, local_addr)
        reply = await session.request("GET", SOCKETIO + "polling", timeout=timeout)
        if reply is None or reply.status != 200:
            raise Closed("polling handshake answered %r" % (reply,))
        session.sid = json.loads(reply.body.split(SEP)[0][1:])["sid"]
        await session.post(("40%s," % NS).encode())
        await session.poll_until(lambda m: m.startswith("40" + NS), timeout)
        session.messages = []
        return session

    @property
    def url(self):
        return SOCKETIO + "polling&sid=" + self.sid

    async def request(self, method, path, body=b"", headers=(), timeout=5.0):
        reply = await http_request(
            self.host,
            self.port,
            http(method, path, self.hostport, body, headers),
            self.scan,
            self.local_addr,
            timeout,
        )
        if reply is not None:
            self.statuses.append(reply.status)
        return reply

    async def post(self, body, content_type="text/plain;charset=UTF-8", timeout=5.0):
        headers = [("Content-Type", content_type)] if content_type else []
        reply = await self.request("POST", self.url, body, headers, timeout)
        if reply is None:
            raise Unanswered("POST %r" % body[:60])
        if reply.status != 200:
            self.closed = True
            raise Closed("POST answered %d" % reply.status)
        return reply

    async def poll(self, timeout):
        reply = await self.request("GET", self.url, timeout=timeout)
        if reply is None:
            return []
        if reply.status != 200:
            self.closed = True
            raise Closed("GET answered %d" % reply.status)
        texts = [p.decode("utf-8", "replace") for p in reply.body.split(SEP) if p]
        out = []
        for text in texts:
            if text == "2":
                await self.post(b"3")
                continue
            if text == "6":
                continue
            if text.startswith("1"):
                self.closed = True
                raise Closed("engine.io close packet")
            self.messages.append(text)
            out.append(text)
        return out

    async def poll_until(self, predicate, timeout):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return None
            for text in await self.poll(left):
                if predicate(text):
                    return text

    async def close(self):
        if not self.closed and self.sid:
            self.closed = True
            try:
                await self.request("POST", self.url, b"1", timeout=2.0)
            except Exception:
                pass
