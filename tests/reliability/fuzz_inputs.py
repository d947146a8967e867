"""The fuzz run's inputs: seeded generators, one :class:`Input` per index.

``make_input(seed, index)`` is a pure function: input ``index`` of seed
``seed`` is the same whatever ran before it and on whichever worker, so a
failure is reproduced with ``--replay INDEX`` and the same ``FUZZ_SEED``.

Kinds (``KINDS``), each a function of a ``random.Random``:

- ``payload``: well-framed ``42/wall,<ack>[event, ...]`` with JSON payloads of
  every shape for ``join``, ``leave``, ``add to wall`` and unknown events;
- ``socketio``: Socket.IO packets of every type 0-6 and beyond, namespaces
  right, wrong and missing, ack ids bad, huge and negative, binary packets
  with attachments;
- ``engineio``: engine.io packets 0-6 and beyond, text and binary;
- ``frame``: WebSocket framing: fragments, lengths that lie, masks, reserved
  bits and opcodes, control frames, bad UTF-8, oversize messages, bursts;
- ``handshake``: upgrade requests with wrong transports, EIO versions, sids,
  headers and origins, and the polling-to-WebSocket upgrade;
- ``polling``: long-polling requests: payloads with bad separators, base64
  binary, wrong sids, transports, methods, and bodies whose length lies.

``payload``, ``socketio`` and ``engineio`` inputs run over WebSocket or
long-polling, on a session that carries many inputs (``transport`` "ws" or
"polling"); the others each open connections of their own.
"""

import base64
import json
import random
from dataclasses import dataclass, field

from . import fuzz_wire as wire

NS = "/wall"
MAX_MESSAGE = 64 * 1024

#: kind -> share of the socket inputs
KINDS = {
    "payload": 36,
    "socketio": 20,
    "engineio": 8,
    "frame": 17,
    "handshake": 6,
    "polling": 13,
}


@dataclass
class Input:
    index: int
    kind: str
    #: "ws": on a reused WebSocket session; "polling": on a reused polling session;
    #: "ws-fresh": a new upgrade of its own; "http": raw requests of its own
    transport: str
    note: str
    #: ws: [(opcode, bytes)] messages; polling: [(content type, body)] POSTs
    messages: list = field(default_factory=list)
    #: ws / ws-fresh: raw bytes to send instead of ``messages``, in ``chunks`` writes
    raw: bytes = b""
    chunks: int = 0
    #: ws-fresh: the upgrade request (bytes), and what to do before sending ``raw``:
    #: "none" (send at once), "open" (read engine.io's open), "ns" (connect /wall too),
    #: "upgrade" (open a polling session and upgrade it with its sid)
    request: bytes = b""
    before: str = "ns"
    #: http: the requests, each on its own connection
    requests: list = field(default_factory=list)
    #: the ack this input asks for (payload kind), checked for its shape
    ack_id: int = None
    event: object = None
    #: "answer": the ack must come (or an allowed close); "close": the server must
    #: close the session; "any": anything but a leak, a 5xx, a death
    expect: str = "any"
    #: why a close is fine here (too big, too deep, bad UTF-8...), or ""
    may_close: str = ""
    #: seconds to wait for a reaction when nothing is expected
    linger: float = 0.3

    def describe(self, limit=1500):
        """The input, for a failure report: kind, note and its bytes (cut)."""
        parts = ["#%d %s over %s: %s" % (self.index, self.kind, self.transport, self.note)]
        for what, data in (
            ("request", self.request),
            ("raw", self.raw),
        ):
            if data:
                parts.append("%s (%d bytes): %r" % (what, len(data), data[:limit]))
        for opcode, data in self.messages:
            parts.append("message %s (%d bytes): %r" % (opcode, len(data), data[:limit]))
        for data in self.requests:
            parts.append("request (%d bytes): %r" % (len(data), data[:limit]))
        return "\n    ".join(parts)


def rng_for(seed, index):
    return random.Random("%s/%d" % (seed, index))


def make_input(seed, index, host="127.0.0.1:0", kinds=None):
    """Input ``index`` of ``seed``; ``host`` is what Host headers say.

    :param kinds: only these kinds (the same seed then makes other inputs).
    """
    rng = rng_for(seed, index)
    weights = {k: w for k, w in KINDS.items() if not kinds or k in kinds}
    kind = rng.choices(list(weights), weights=list(weights.values()))[0]
    item = GENERATORS[kind](rng, host)
    item.index, item.kind = index, kind
    return item


# -- text and values ----------------------------------------------------------------------

EDGE = [
    "\x00",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x1b",
    "\x1e",  # engine.io's separator, inside a string
    "\x7f",
    "\x85",
    "\x9f",
    "\u00a0",
    "\u00ad",
    "\u034f",
    "\u200b",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u3000",
    "\ufeff",
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "\U0001f600",
    "\U0001f469\u200d\U0001f4bb",
    "\U0001f1eb\U0001f1f7",
    "e\u0301",
    "\u0958",  # NFC keeps it decomposed: 2 code points
    "\u2adc",
    "\u1e9b\u0323",
    "\u0130",  # İ: lower() makes 2 code points
    "\u212a",  # Kelvin sign: lower() is k
    "\ufb03",
    "\uff41",
    "\u0661",  # Arabic-Indic digit: isdigit() but not ASCII
    "\ud800",
    "\udfff",
    "\udbff\udc00",
    "<script>alert(1)</script>",
    "\\",
    '"',
    "'",
    "%s%n%x",
    "{{7*7}}",
    "${jndi:x}",
    "../../etc/passwd",
    "wall:posts:main",
    "$",
    "+",
    "*",
    ">",
    "-",
]
ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:"


def text(rng, max_len=40):
    """A string mixing ASCII, the edge cases above and any code point (surrogates too)."""
    roll = rng.random()
    if roll < 0.15:
        return rng.choice(EDGE)
    if roll < 0.2:
        return rng.choice(EDGE) * rng.randint(1, 200)
    if roll < 0.25:
        return "e" + "\u0301" * rng.randint(1, 2000)  # combining marks
    n = rng.randint(0, max_len)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.7:
            out.append(rng.choice(ASCII))
        elif r < 0.85:
            out.append(rng.choice(EDGE))
        elif r < 0.95:
            out.append(chr(rng.randrange(0x80, 0x3000)))
        else:
            out.append(chr(rng.randrange(0x110000)))
    return "".join(out)


def sized(rng, n):
    """A string of exactly ``n`` code points (ASCII, or sometimes multi-byte)."""
    ch = rng.choice(["x", "x", "\u00e9", "\U0001f600", " ", "\u0301"])
    return ch * n


BOUNDARY_LENGTHS = [0, 1, 31, 32, 33, 40, 41, 63, 64, 65, 999, 1000, 1001, 1024, 1025]


def scalar(rng):
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            1,
            2**31,
            2**53 + 1,
            2**63,
            2**64,
            -(2**64),
            10**30,
            0.5,
            -0.0,
            1e308,
            5e-324,
            float("nan"),
            float("inf"),
            float("-inf"),
            "",
            " ",
            "0",
            "1",
            "true",
            "null",
            "[]",
            "{}",
        ]
    )


def value(rng, depth=0):
    """Any JSON value (NaN and Infinity included: Python's parser takes them)."""
    r = rng.random()
    if depth > 3 or r < 0.35:
        return scalar(rng)
    if r < 0.6:
        return text(rng)
    if r < 0.8:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {text(rng, 8): value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def wall_name(rng):
    r = rng.random()
    if r < 0.55:
        return "fz-%d" % rng.randrange(40)  # a few walls, so joins meet posts
    if r < 0.65:
        return rng.choice(["main", "MAIN", " main ", "Fz-1", "fz-1\n", "\tfz-2 "])
    if r < 0.8:
        return rng.choice(
            [
                "",
                "-",
                "--",
                "a" * 40,
                "a" * 41,
                "\u212a",
                "\u0130",
                "\uff41",
                "fz-1\x00",
                "../x",
                "*",
                "$",
                "wall:posts:main",
                "a b",
                "A" * 40,
                "\u0661",
                "fz_1",
            ]
        )
    return text(rng, 45)


def post_id(rng):
    return rng.choice(
        [
            "0-0",
            "0-1",
            "1-0",
            "1764100000000-0",
            "18446744073709551615-18446744073709551615",
            "18446744073709551616-0",
            "99999999999999999999-0",
            "-1-0",
            "1-",
            "-",
            "+",
            "$",
            ">",
            "*",
            "01-01",
            " 1-0",
            "1-0\n",
            "\u0661-\u0660",
            "1e3-0",
            "1-0-0",
            "",
            "%d-%d" % (rng.randrange(2**44), rng.randrange(100)),
        ]
    )


def dumps(obj, rng):
    """JSON text of ``obj``; surrogates escaped or (rarely) left raw."""
    return json.dumps(obj, ensure_ascii=rng.random() < 0.5, allow_nan=True)


def encode(textual):
    """UTF-8, lone surrogates kept as bytes (which makes the UTF-8 invalid)."""
    return textual.encode("utf-8", "surrogatepass")


def has_surrogates(textual):
    return any("\ud800" <= ch <= "\udfff" for ch in textual)


# -- payload: JSON for every event -----------------------------------------------------------

EVENTS = ["join"] * 3 + ["leave"] + ["add to wall"] * 4
OTHER_EVENTS = [
    "",
    "connect",
    "disconnect",
    "new post",
    "online",
    "resync",
    "echo",
    "__proto__",
    "constructor",
    "Join",
    "join ",
    "add_to_wall",
    "message",
    "x" * 10_000,
    "\u0000",
    "\ud800",
    "\u202ejoin",
]


def valid_payload(event, rng):
    if event == "join":
        data = {"wall": wall_name(rng)}
        if rng.random() < 0.4:
            data["after"] = post_id(rng)
        return data
    if event == "leave":
        return {"wall": wall_name(rng)}
    data = {
        "wall": wall_name(rng),
        "username": rng.choice(["fuzz", "ann", text(rng, 34)]),
        "message": rng.choice(["hello", text(rng, 120)]),
    }
    if rng.random() < 0.4:
        data["client_id"] = rng.choice(
            ["fz-%d" % rng.randrange(10**9), "", "x" * 64, "x" * 65, "a b", "\u00e9", "id\n"]
        )
    return data


FIELDS = ["wall", "username", "message", "client_id", "after", "limit", "before"]


def mutate(data, rng):
    """Wrong types, missing and extra fields, huge and odd strings, numbers for strings."""
    note = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        r = rng.random()
        key = rng.choice(list(data) or FIELDS)
        if r < 0.15 and data:
            data.pop(key, None)
            note.append("no %s" % key)
        elif r < 0.35:
            data[key] = scalar(rng)
            note.append("%s=%r" % (key, data[key]))
        elif r < 0.45:
            data[key] = value(rng)
            note.append("%s=any" % key)
        elif r < 0.55:
            data[key] = sized(rng, rng.choice(BOUNDARY_LENGTHS))
            note.append("%s of %d" % (key, len(data[key])))
        elif r < 0.62:
            data[key] = sized(rng, rng.choice([20_000, 60_000, 70_000]))
            note.append("%s huge" % key)
        elif r < 0.75:
            data[key] = text(rng, 60)
            note.append("%s=text" % key)
        elif r < 0.85:
            extra = rng.choice(["__proto__", "constructor", "", "x" * 300, "ok", "id", "ts"])
            data[extra] = value(rng)
            note.append("extra %r" % extra[:20])
        else:
            data[key] = rng.choice([42, 4.2, -7, True, ["fz-1"], {"wall": "fz-1"}])
            note.append("%s=%r" % (key, data[key]))
    return data, note


def deep(rng):
    depth = rng.choice([50, 500, 900, 1000, 1100, 5000, 20_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    inner = "1" if opener == '{"a":' else ""
    return opener * depth + inner + closer * depth, depth


def post_burst(rng):
    """Good posts in a row on one session, the last asking for its ack: past the
    socket rate limit (5 per 10 s) when it is on, so ``rate_limited`` is answered."""
    n = rng.randint(6, 12)
    wall = "fz-%d" % rng.randrange(40)
    ack = rng.randrange(1, 1000)
    packets = []
    for i in range(n):
        data = {"wall": wall, "username": "burst", "message": "post %d of %d" % (i + 1, n)}
        packets.append(
            encode("42%s,%s%s" % (NS, ack if i == n - 1 else "", json.dumps(["add to wall", data])))
        )
    transport = "ws" if rng.random() < 0.6 else "polling"
    if transport == "ws":
        messages = [(1, p) for p in packets]
    else:
        messages = [("text/plain;charset=UTF-8", b"\x1e".join(packets))]
    return Input(
        0,
        "payload",
        transport,
        "%d good posts in a row" % n,
        messages=messages,
        ack_id=ack,
        event="add to wall",
        expect="answer",
    )


def payload(rng, host):
    if rng.random() < 0.03:
        return post_burst(rng)
    r = rng.random()
    event = rng.choice(EVENTS) if r < 0.85 else rng.choice(OTHER_EVENTS)
    note = [repr(event[:30])]
    data, changes = mutate(valid_payload(event, rng), rng)
    note += changes
    args = [data]
    deep_json = None
    shape = rng.random()
    if shape < 0.06:
        args = []
        note.append("no payload")
    elif shape < 0.14:
        args = [value(rng)]
        note.append("payload not an object")
    elif shape < 0.18:
        args = [data, value(rng), value(rng)]
        note.append("more args")
    elif shape < 0.22:
        deep_json, depth = deep(rng)
        note.append("nesting %d" % depth)
    name = event
    if rng.random() < 0.04:
        name = rng.choice([42, None, 1.5, True, ["join"], {"e": "join"}])
        note.append("event %r" % (name,))
    ack = rng.choice([rng.randrange(1, 1000), rng.randrange(1, 2**31)])
    body = dumps([name, *args], rng)
    if deep_json is not None:
        body = body[:-1] + "," + deep_json + "]"
    packet = "42%s,%d%s" % (NS, ack, body)
    data_bytes = wire.scrub(encode(packet))
    may_close = ""
    if len(data_bytes) > MAX_MESSAGE:
        may_close = "over 64 KiB"
    elif deep_json is not None and len(deep_json) > 1800:
        may_close = "nested past the JSON parser's limit"
    elif has_surrogates(packet) and not packet.isascii():
        may_close = "lone surrogate: not UTF-8"
    elif not isinstance(name, (str, int, float, bool, type(None))):
        may_close = "an event name that is not a string"
    transport = "ws" if rng.random() < 0.6 else "polling"
    item = Input(
        0,
        "payload",
        transport,
        ", ".join(note),
        messages=[(1, data_bytes) if transport == "ws" else (_ctype(rng), data_bytes)],
        ack_id=ack,
        event=name,
        expect="answer",
        may_close=may_close,
    )
    return item


def _ctype(rng):
    return rng.choice(
        [
            "text/plain;charset=UTF-8",
            "text/plain;charset=UTF-8",
            "application/octet-stream",
            "application/json",
            "",
            "text/plain; charset=latin-1",
            "multipart/form-data; boundary=x",
        ]
    )


# -- Socket.IO packets ---------------------------------------------------------------------------

NAMESPACES = [
    "",
    "/wall,",
    "/wall,",
    "/wall,",
    "/wall",
    "/",
    "/,",
    "/other,",
    "/speed,",
    "/WALL,",
    "/wall/,",
    "wall,",
    "/wall?x=1,",
    "/wall\u0000,",
    "/\u00e9,",
    "/" + "w" * 5000 + ",",
    "//wall,",
    "/wall,/wall,",
]
ACK_IDS = [
    "",
    "",
    "1",
    "0",
    "007",
    "-1",
    "1e5",
    "12a",
    "9" * 20,
    "9" * 200,
    "18446744073709551616",
    " 1",
    "1.5",
]


def socketio_packet(rng):
    """``(packet text, note)``: one Socket.IO packet of any type, right or wrong."""
    kind = rng.choice(list("0123456") * 3 + ["7", "9", "x", "", "-", "00", " "])
    attach = ""
    if kind in ("5", "6") or rng.random() < 0.05:
        attach = rng.choice(["1-", "0-", "2-", "-", "-1-", "9999999999-", "1", "a-", "1--"])
    ns = rng.choice(NAMESPACES)
    ack = rng.choice(ACK_IDS) if rng.random() < 0.5 else str(rng.randrange(1, 10**6))
    r = rng.random()
    if kind == "0":
        data = rng.choice(["", "{}", '{"token":"x"}', "[1]", '"x"', "null", dumps(value(rng), rng)])
    elif r < 0.4:
        event = rng.choice(EVENTS + OTHER_EVENTS[:8])
        data = dumps([event, valid_payload(event, rng) if event in EVENTS else value(rng)], rng)
    elif r < 0.55:
        data = dumps(
            [rng.choice(EVENTS), {"_placeholder": True, "num": rng.choice([0, 1, -1, 99])}], rng
        )
    elif r < 0.7:
        data = dumps(value(rng), rng)
    elif r < 0.8:
        good = dumps(["join", {"wall": "fz-1"}], rng)
        data = good[: rng.randrange(len(good))]  # truncated
    elif r < 0.85:
        data = deep(rng)[0]
    elif r < 0.9:
        data = dumps(["add to wall", {"wall": "fz-1"}], rng) + rng.choice(["]", "x", "}", ",1"])
    else:
        data = text(rng, 80)
    packet = kind + attach + ns + ack + data
    return packet, "socketio %r attach %r ns %r ack %r" % (kind, attach, ns[:12], ack[:12])


def socketio(rng, host):
    packet, note = socketio_packet(rng)
    messages = [packet]
    if rng.random() < 0.2:  # a few packets in a row
        messages += [socketio_packet(rng)[0] for _ in range(rng.randint(1, 4))]
    payloads = [encode("4" + p) for p in messages]
    attachments = []
    if packet[:1] in ("5", "6") or rng.random() < 0.05:
        attachments = [
            rng.randbytes(rng.choice([0, 1, 100, 5000])) for _ in range(rng.randint(1, 3))
        ]
        note += ", %d attachments" % len(attachments)
    transport = "ws" if rng.random() < 0.7 else "polling"
    if transport == "ws":
        msgs = [(1, wire.scrub(p)) for p in payloads] + [(2, a) for a in attachments]
    else:
        sep = _separator(rng)
        parts = [wire.scrub(p) for p in payloads] + [
            b"b" + base64.b64encode(a) for a in attachments
        ]
        msgs = [(_ctype(rng), sep.join(parts))]
    return Input(0, "socketio", transport, note, messages=msgs, may_close="bad packet")


def _separator(rng):
    return rng.choice([b"\x1e"] * 6 + [b"\x1e\x1e", b"", b"\n", b"\x1f", b",", b"\x1e\x00"])


# -- engine.io packets ----------------------------------------------------------------------------


def engineio(rng, host):
    r = rng.random()
    kind = rng.choice(list("0123456") + ["7", "9", "", "x", "b", "\u00e9"])
    data = rng.choice(["", "", "probe", "40/wall,", text(rng, 30), dumps(value(rng), rng)])
    note = "engine.io %r + %r" % (kind, data[:20])
    transport = "ws" if rng.random() < 0.6 else "polling"
    if transport == "ws":
        if r < 0.15:
            msgs = [(2, bytes([rng.randrange(10)]) + rng.randbytes(rng.randint(0, 50)))]
            note = "binary engine.io message"
        else:
            msgs = [(1, wire.scrub(encode(kind + data)))]
            msgs += [
                (1, wire.scrub(encode(rng.choice("0123456") + text(rng, 10))))
                for _ in range(rng.choice([0, 0, 1, 3]))
            ]
    else:
        packets = [encode(kind + data)] + [
            encode(rng.choice("0123456") + text(rng, 10)) for _ in range(rng.choice([0, 0, 1, 3]))
        ]
        if r < 0.15:
            packets.append(
                b"b" + rng.choice([base64.b64encode(rng.randbytes(20)), b"!!!", b"", b"===="])
            )
            note += " + base64 binary"
        msgs = [(_ctype(rng), wire.scrub(_separator(rng).join(packets)))]
    return Input(0, "engineio", transport, note, messages=msgs, may_close="bad packet")


# -- WebSocket framing ----------------------------------------------------------------------------


def _content(rng):
    """A message to frame: ``(bytes, ack id, event)`` of a good event, or junk (no ack)."""
    if rng.random() < 0.6:
        ack = rng.randrange(1, 10**6)
        event = rng.choice(EVENTS)
        packet = "42%s,%d%s" % (NS, ack, json.dumps([event, valid_payload(event, rng)]))
        return encode(packet), ack, event
    return encode("4" + socketio_packet(rng)[0]), None, None


BAD_UTF8 = [
    b"\xff",
    b"\xc0\xaf",  # overlong '/'
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",  # a surrogate
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xf8\x88\x80\x80\x80",
    b"\xe2\x82",  # truncated
    b"\x80",
    b"\xc3",
]


def frame(rng, host):
    content, ack, event = _content(rng)
    key = rng.choice([None, None, b"\0\0\0\0", b"\xff\xff\xff\xff"])
    kind = rng.randrange(20)
    request = wire.upgrade_request(wire.SOCKETIO + "websocket", host)

    def fresh(raw, note, before="ns", expect="any", linger=0.3, chunks=0):
        return Input(
            0,
            "frame",
            "ws-fresh",
            note,
            raw=raw,
            request=request,
            before=before,
            expect=expect,
            linger=linger,
            chunks=chunks,
            may_close="bad framing",
        )

    def reused(raw, note, chunks=0):
        return Input(
            0,
            "frame",
            "ws",
            note,
            raw=raw,
            chunks=chunks,
            ack_id=ack,
            event=event,
            expect="answer" if ack else "any",
            may_close="" if ack else "bad packet",
        )

    if kind == 0:
        return fresh(wire.ws_frame(content, mask=False), "unmasked frame")
    if kind == 1:
        return fresh(wire.ws_frame(content, rsv=rng.randint(1, 7), key=key), "reserved bits")
    if kind == 2:
        op = rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
        return fresh(wire.ws_frame(content, opcode=op), "reserved opcode %d" % op)
    if kind == 3:
        return fresh(wire.ws_frame(content, opcode=0), "continuation without a start")
    if kind in (4, 5, 6):  # a good message in fragments, control frames between
        pieces = _split(content, rng.randint(2, 20), rng)
        raw = b""
        for i, piece in enumerate(pieces):
            raw += wire.ws_frame(
                piece, opcode=1 if i == 0 else 0, fin=i == len(pieces) - 1, key=key
            )
            if rng.random() < 0.2:
                raw += wire.ws_frame(rng.randbytes(rng.randint(0, 125)), opcode=rng.choice([9, 10]))
        return reused(raw, "%d fragments" % len(pieces), chunks=rng.choice([0, 0, 3, 17]))
    if kind == 7:  # a data frame in the middle of a fragmented message
        pieces = _split(content, 2, rng)
        raw = (
            wire.ws_frame(pieces[0], fin=False)
            + wire.ws_frame(b"42", opcode=1)
            + wire.ws_frame(pieces[1], opcode=0)
        )
        return fresh(raw, "text frame inside a fragmented message")
    if kind == 8:  # fragments past the 64 KiB cap
        size = rng.choice([16_000, 40_000])
        n = rng.randint(5, 12)
        raw = wire.ws_frame(b'42/wall,["add to wall","', fin=False)
        raw += b"".join(wire.ws_frame(b"x" * size, opcode=0, fin=False) for _ in range(n))
        return fresh(raw, "fragments of %d bytes in all" % (size * n), expect="close", linger=2.0)
    if kind == 9:  # one frame past the cap
        size = rng.choice([65_537, 70_000, 300_000])
        return fresh(
            wire.ws_frame(b"4" + b"x" * (size - 1)),
            "one frame of %d bytes" % size,
            expect="close",
            linger=2.0,
        )
    if kind == 10:  # announces more than it sends
        announce = rng.choice([200, 5000, 65_536, 2**32, 2**63 - 1, 2**64 - 1])
        sent = content[: rng.randrange(len(content) + 1)]
        raw = wire.ws_frame(sent, announce=announce)
        if rng.random() < 0.5:
            raw += wire.ws_frame(content)  # swallowed as the rest of the first
        return fresh(raw, "announces %d, sends %d" % (announce, len(sent)), linger=0.3)
    if kind == 11:  # length fields the long way round
        form = rng.choice([16, 64])
        return reused(
            wire.ws_frame(content, length_form=form, key=key),
            "%d-bit length for %d bytes" % (form, len(content)),
        )
    if kind == 12:  # control frames: too long, fragmented
        if rng.random() < 0.5:
            raw = wire.ws_frame(b"p" * rng.choice([126, 1000]), opcode=9)
            return fresh(raw, "ping over 125 bytes")
        return fresh(wire.ws_frame(b"p", opcode=9, fin=False), "fragmented ping")
    if kind == 13:  # close frames
        code = rng.choice(
            [None, 1000, 1001, 0, 999, 1004, 1005, 1006, 1015, 2999, 4999, 5000, 65535]
        )
        body = (
            b""
            if code is None
            else code.to_bytes(2, "big") + rng.choice([b"", b"bye", b"\xff\xfe", b"r" * 200])
        )
        if rng.random() < 0.1:
            body = b"\x03"
        return fresh(wire.ws_frame(body, opcode=8), "close frame %r" % body[:8])
    if kind == 14:  # bad UTF-8 in a text frame
        bad = rng.choice(BAD_UTF8)
        at = rng.randrange(len(content) + 1)
        return fresh(wire.ws_frame(content[:at] + bad + content[at:]), "bad UTF-8 %r" % bad)
    if kind == 15:  # binary frame
        return fresh(wire.ws_frame(content, opcode=2), "binary frame of text")
    if kind == 16:  # random bytes, before or after the session opens
        before = rng.choice(["none", "open", "ns"])
        return fresh(
            rng.randbytes(rng.randint(1, 4096)), "random bytes (%s)" % before, before=before
        )
    if kind == 17:  # a burst of small good messages, in odd write sizes
        n = rng.randint(2, 60)
        raw = b"".join(wire.ws_frame(encode(probe_text(rng)), key=key) for _ in range(n))
        raw += wire.ws_frame(content, key=key)
        return reused(raw, "burst of %d messages" % (n + 1), chunks=rng.choice([0, 7, 31]))
    if kind == 18:  # empty frames and empty fragments
        raw = wire.ws_frame(b"", opcode=1, fin=False) + wire.ws_frame(b"", opcode=0, fin=False)
        raw += wire.ws_frame(content, opcode=0)
        return reused(raw, "empty fragments first")
    # kind 19: a good frame sent a few bytes at a time
    return reused(wire.ws_frame(content, key=key), "one frame in pieces", chunks=rng.randint(2, 12))


def probe_text(rng):
    return "42%s,%s" % (NS, json.dumps(["fuzz burst", rng.randrange(1000)]))


def _split(data, n, rng):
    if len(data) < 2:
        return [data] * 1
    cuts = sorted(rng.sample(range(1, len(data)), min(n - 1, len(data) - 1)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


# -- handshakes and upgrades ------------------------------------------------------------------------

TRANSPORTS = [
    "websocket",
    "polling",
    "WebSocket",
    "websocket ",
    "webtransport",
    "flashsocket",
    "",
    "xhr-polling",
    "websocket\x00",
    "\u00e9",
]
EIOS = ["4", "3", "5", "", "x", "04", "\uff14", "-4", "4.0"]


def _query(rng, transport=None):
    parts = []
    if rng.random() < 0.9:
        parts.append("EIO=" + rng.choice(EIOS) if rng.random() < 0.4 else "EIO=4")
    if rng.random() < 0.95:
        parts.append("transport=" + (transport or rng.choice(TRANSPORTS)))
    if rng.random() < 0.3:
        parts.append(
            "sid=" + rng.choice(["", "x", "AAAAAAAAAAAAAAAAAAAA", "%00", "a" * 5000, text(rng, 20)])
        )
    if rng.random() < 0.2:
        parts.append(
            rng.choice(["t=Nx3b", "b64=1", "j=0", "EIO=4", "%zz", "a=%", "&&", "x=" + "y" * 9000])
        )
    rng.shuffle(parts)
    return "/socket.io/?" + "&".join(parts)


def handshake(rng, host):
    r = rng.random()
    if r < 0.15:  # a polling session upgraded to WebSocket, with a right or odd dance
        steps = rng.choice(
            [
                ["2probe", "5"],
                ["2probe", "x"],
                ["5"],
                ["2", "5"],
                ["2probe", "2probe", "5"],
                ["3probe", "5"],
                ["2probe"],
            ]
        )
        raw = b"".join(wire.ws_frame(encode(s)) for s in steps)
        content, _, _ = _content(rng)
        raw += wire.ws_frame(content)
        return Input(
            0,
            "handshake",
            "ws-fresh",
            "upgrade from polling: %r" % steps,
            raw=raw,
            before="upgrade",
            linger=0.5,
            may_close="bad upgrade",
        )
    path = _query(rng, "websocket" if rng.random() < 0.5 else None)
    if rng.random() < 0.1:
        path = rng.choice(
            [
                "/socket.io",
                "/socket.io/x",
                "/socket.io//",
                "/Socket.io/",
                "/socket.io/?",
                "/ws/echo",
                "/ws/echo?x",
            ]
        )
    headers = wire.standard_ws_headers(host)
    note = [path[:80]]
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        m = rng.randrange(9)
        if m == 0:
            name = rng.choice(
                ["Sec-WebSocket-Key", "Upgrade", "Connection", "Sec-WebSocket-Version", "Host"]
            )
            headers = [(k, v) for k, v in headers if k != name]
            note.append("no " + name)
        elif m == 1:
            headers = [
                (
                    k,
                    rng.choice(["", "x", "AAAA", "=" * 24, "a" * 500])
                    if k == "Sec-WebSocket-Key"
                    else v,
                )
                for k, v in headers
            ]
            note.append("bad key")
        elif m == 2:
            headers = [
                (
                    k,
                    rng.choice(["8", "0", "14", "abc", "13, 8", ""])
                    if k == "Sec-WebSocket-Version"
                    else v,
                )
                for k, v in headers
            ]
            note.append("version")
        elif m == 3:
            origin = rng.choice(
                [
                    "http://evil.example",
                    "null",
                    "http://" + host,
                    "x",
                    "http://127.0.0.1:1",
                    "\u00e9",
                ]
            )
            headers.append(("Origin", origin))
            note.append("origin " + origin[:30])
        elif m == 4:
            headers.append(
                (
                    "Sec-WebSocket-Extensions",
                    rng.choice(
                        [
                            "permessage-deflate",
                            "permessage-deflate; client_max_window_bits=1",
                            "x-webkit-deflate-frame",
                            ";;;",
                        ]
                    ),
                )
            )
            note.append("extensions")
        elif m == 5:
            headers.append(("X-Big", "h" * rng.choice([4000, 9000, 70_000])))
            note.append("big header")
        elif m == 6:
            headers = [
                (k, rng.choice(["WebSocket", "h2c", "websocket, h2c", ""]) if k == "Upgrade" else v)
                for k, v in headers
            ]
            note.append("upgrade word")
        elif m == 7:
            headers.append(("Sec-WebSocket-Protocol", text(rng, 20)))
            note.append("protocol")
        else:
            headers.append((text(rng, 10) or "X", text(rng, 20)))
            note.append("odd header")
    method = "GET" if rng.random() < 0.9 else rng.choice(["POST", "PUT", "get", "OPTIONS"])
    version = (
        "HTTP/1.1" if rng.random() < 0.95 else rng.choice(["HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x"])
    )
    request = wire.upgrade_request(path, host, headers, method, version)
    content = _content(rng)[0]
    return Input(
        0,
        "handshake",
        "ws-fresh",
        ", ".join(note),
        raw=wire.ws_frame(content),
        request=request,
        before="open",
        linger=0.3,
        may_close="bad handshake",
    )


# -- long-polling requests ----------------------------------------------------------------------------


def polling(rng, host):
    r = rng.random()
    sid = rng.choice(
        ["{sid}", "{sid}", "{other}", "nosuchsid", "", "a" * 300, "%00", text(rng, 12)]
    )
    note = []
    requests = []
    body_packets = [encode("4" + socketio_packet(rng)[0]) for _ in range(rng.randint(1, 4))]
    body = _separator(rng).join(body_packets)
    if r < 0.3:  # a POST to some sid, odd separators and types
        path = (
            wire.SOCKETIO
            + rng.choice(["polling", "polling", "websocket", "", "xhr"])
            + "&sid="
            + sid
        )
        ctype = _ctype(rng)
        requests.append(
            wire.http("POST", path, host, body, [("Content-Type", ctype)] if ctype else [])
        )
        note.append("POST sid %s" % sid[:20])
    elif r < 0.45:  # a GET (or two at once) on some sid
        path = wire.SOCKETIO + "polling&sid=" + sid
        requests += [wire.http("GET", path, host)] * rng.choice([1, 2])
        note.append("GET sid %s x%d" % (sid[:20], len(requests)))
    elif r < 0.6:  # handshakes with odd queries and methods
        method = rng.choice(
            ["GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO"]
        )
        headers = []
        if rng.random() < 0.4:
            headers.append(
                ("Origin", rng.choice(["http://evil.example", "null", "http://" + host]))
            )
        if method == "OPTIONS":
            headers.append(("Access-Control-Request-Method", rng.choice(["GET", "POST", "DELETE"])))
        requests.append(
            wire.http(
                method, _query(rng), host, body if method in ("POST", "PUT") else b"", headers
            )
        )
        note.append("%s handshake" % method)
    elif r < 0.75:  # bodies whose length lies, chunked bodies that lie
        path = wire.SOCKETIO + "polling&sid=" + sid
        lie = rng.randrange(5)
        if lie == 0:
            head = wire.http(
                "POST",
                path,
                host,
                b"",
                [("Content-Length", str(len(body) + rng.choice([1, 100, 10**6])))],
            )
            requests.append(head + body)
            note.append("Content-Length says more")
        elif lie == 1:
            requests.append(
                wire.http(
                    "POST",
                    path,
                    host,
                    body,
                    [("Content-Length", str(max(0, len(body) - rng.randint(1, 5))))],
                )
            )
            note.append("Content-Length says less")
        elif lie == 2:
            requests.append(
                wire.http(
                    "POST",
                    path,
                    host,
                    body,
                    [
                        (
                            "Content-Length",
                            rng.choice(["-1", "x", "1, 2", "99999999999999999999", ""]),
                        )
                    ],
                )
            )
            note.append("Content-Length not a number")
        elif lie == 3:
            chunked = (
                b"%x\r\n" % (len(body) + rng.choice([0, 5]))
                + body
                + b"\r\n"
                + rng.choice([b"0\r\n\r\n", b"zz\r\n", b""])
            )
            requests.append(
                wire.http(
                    "POST",
                    path,
                    host,
                    chunked,
                    [("Transfer-Encoding", "chunked")],
                    content_length=False,
                )
            )
            note.append("chunked")
        else:
            requests.append(
                wire.http(
                    "POST",
                    path,
                    host,
                    b"x" * rng.choice([65_537, 200_000]),
                    [("Content-Type", "text/plain")],
                )
            )
            note.append("body over 64 KiB")
    elif r < 0.85:  # request lines and paths that are wrong
        line = rng.choice(
            [
                "GET /socket.io/?EIO=4&transport=polling HTTP/1.1",
                "GET  /socket.io/?EIO=4&transport=polling HTTP/1.1",
                "GET /socket.io/?EIO=4&transport=polling",
                "GET http://%s/socket.io/?EIO=4&transport=polling HTTP/1.1" % host,
                "get /socket.io/?EIO=4&transport=polling HTTP/1.1",
                "GET /socket.io/?EIO=4&transport=polling HTTP/9.9",
                "GET /socket.io/%%?EIO=4 HTTP/1.1",
                "GET /socket.io/?EIO=4&transport=polling\x00 HTTP/1.1",
                "GET /socket.io/?EIO=4&transport=%s HTTP/1.1" % ("p" * 20000),
                "\r\nGET /socket.io/?EIO=4&transport=polling HTTP/1.1",
            ]
        )
        requests.append(
            encode(line) + b"\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n"
        )
        note.append("request line %r" % line[:50])
    else:  # a good session's POST with a payload of odd packets
        path = wire.SOCKETIO + "polling&sid={sid}"
        parts = [
            b"4" + p for p in (b"2/wall," + encode(dumps(["join", {"wall": wall_name(rng)}], rng)),)
        ]
        parts += body_packets
        if rng.random() < 0.3:
            parts.append(b"b" + rng.choice([base64.b64encode(rng.randbytes(30)), b"@@", b""]))
        requests.append(wire.http("POST", path, host, _separator(rng).join(parts)))
        note.append("payload of %d packets" % len(parts))
    return Input(0, "polling", "http", ", ".join(note), requests=requests, linger=0.5)


GENERATORS = {
    "payload": payload,
    "socketio": socketio,
    "engineio": engineio,
    "frame": frame,
    "handshake": handshake,
    "polling": polling,
}
