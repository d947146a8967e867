"""Exports of a wall: every post as CSV (for spreadsheets) or JSON, written lazily."""

import csv
import io
import json
import time

FIELDS = ("id", "time", "username", "message", "status", "pinned")


def iso_time(ms):
    """``1764100000000`` -> ``2025-11-25T19:46:40.000Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


def _cell(text):
    # A cell a spreadsheet would run as a formula is written as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def filename(wall, kind):
    return "wall-%s-%s.%s" % (wall, time.strftime("%Y%m%d-%H%M", time.gmtime()), kind)


def as_csv(posts):
    """The CSV text in chunks: a UTF-8 BOM (so spreadsheets read UTF-8), the header, a row a post."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(FIELDS)
    for n, post in enumerate(posts):
        writer.writerow(
            [
                post["id"],
                iso_time(post["ts"]),
                _cell(post["username"]),
                _cell(post["message"]),
                post["status"],
                "true" if post["pinned"] else "false",
            ]
        )
        if n % 200 == 199:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def as_json(wall, posts):
    """One JSON document ``{"wall", "posts": [...]}``, in chunks."""
    yield '{"wall": %s, "posts": [' % json.dumps(wall)
    for n, post in enumerate(posts):
        yield ("," if n else "") + json.dumps(post, ensure_ascii=False)
    yield "]}"
