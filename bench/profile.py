"""py-spy on a running wall server, and where its CPU time went.

``python -m bench --only profile`` fans out to 1,000 subscribers while py-spy
samples the wall (not installed by requirements: ``.venv/bin/pip install
py-spy``). Writes ``<stamp>-profile.txt`` (collapsed stacks: open it in
speedscope, or feed it to flamegraph.pl) and ``<stamp>-profile.md``.
"""

import collections
import os
import re
import shutil
import subprocess
import sys

from bench.infra import BenchError

RATE = 250  # samples per second

# Where a frame's file lives -> a name for the table (first match wins).
AREAS = [
    ("eventlet (hub, green sockets, queues, timers)", r"(^|/)eventlet/(?!websocket)"),
    ("eventlet WebSocket frames (incl. permessage-deflate)", r"(^|/)eventlet/websocket"),
    ("gevent", r"(^|/)gevent/"),
    ("engine.io (packets, sockets, queues)", r"(^|/)engineio/"),
    ("socket.io (emit, rooms, packets)", r"(^|/)socketio/"),
    ("flask-socketio", r"(^|/)flask_socketio/"),
    ("json", r"(^|/)json/"),
    ("redis-py", r"(^|/)redis/"),
    ("wall (this project)", r"(^|/)wall/"),
    ("stdlib", r"^[a-z_]+\.py$|(^|/)(lib/)?python3\.\d+/"),
]
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::(?P<line>\d+))?\)$")


def pyspy():
    for path in (os.path.join(os.path.dirname(sys.executable), "py-spy"), shutil.which("py-spy")):
        if path and os.access(path, os.X_OK):
            return path
    raise BenchError("py-spy is not installed: .venv/bin/pip install py-spy")


def start(pid, seconds, base):
    out = base + ".txt"
    log = open(base + ".log", "wb")
    proc = subprocess.Popen(
        [
            pyspy(),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            str(RATE),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            out,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return {"proc": proc, "out": out, "base": base, "log": log}


def finish(spy):
    try:
        spy["proc"].wait(120)
    except subprocess.TimeoutExpired:
        spy["proc"].kill()
        spy["proc"].wait()
    spy["log"].close()
    if not os.path.exists(spy["out"]):
        raise BenchError("py-spy wrote nothing (see %s.log)" % spy["base"])
    summary = summarize(spy["out"])
    with open(spy["base"] + ".md", "w") as f:
        f.write(markdown(summary))
    summary["files"] = [os.path.basename(spy["out"]), os.path.basename(spy["base"] + ".md")]
    return summary


def _parse(path):
    stacks = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            try:
                n = int(count)
            except ValueError:
                continue
            frames = [fr for fr in stack.split(";") if fr]
            # py-spy's first frame names the process/thread
            if frames and not _FRAME.match(frames[0]):
                frames = frames[1:]
            stacks.append((frames, n))
    return stacks


def _short(frame, line=False):
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    if line and m.group("line"):
        path += ":" + m.group("line")
    return "%s (%s)" % (m.group("func"), path)


def _area(frame):
    m = _FRAME.match(frame)
    path = m.group("file") if m else frame
    for name, pattern in AREAS:
        if re.search(pattern, path):
            return name
    return "other (%s)" % os.path.basename(path)


def summarize(path, top=20):
    stacks = _parse(path)
    total = sum(n for _, n in stacks) or 1
    self_time = collections.Counter()
    self_lines = collections.Counter()
    inclusive = collections.Counter()
    areas = collections.Counter()
    for frames, n in stacks:
        if not frames:
            continue
        self_time[_short(frames[-1])] += n
        self_lines[_short(frames[-1], line=True)] += n
        areas[_area(frames[-1])] += n
        for fr in set(_short(f) for f in frames):
            inclusive[fr] += n

    def table(counter):
        return [{"frame": k, "samples": v, "share": v / total} for k, v in counter.most_common(top)]

    return {
        "samples": total,
        "rate": RATE,
        "self": table(self_time),
        "lines": table(self_lines),
        "inclusive": table(inclusive),
        "areas": table(areas),
    }


def markdown(summary):
    out = [
        "# Profile of the wall server (py-spy, %d samples at %d Hz, idle excluded)"
        % (summary["samples"], summary["rate"]),
        "",
    ]
    for title, key in (
        ("Self time by area (leaf frame's package)", "areas"),
        ("Self time by function", "self"),
        ("Self time by line (C calls count on the line that makes them)", "lines"),
        ("Inclusive time by function (on the stack)", "inclusive"),
    ):
        out += ["## " + title, "", "| share | function |", "| ---: | --- |"]
        out += ["| %.1f%% | `%s` |" % (100 * r["share"], r["frame"]) for r in summary[key]]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(summarize(sys.argv[1])))
