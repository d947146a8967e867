"""Versioned static URLs, so a deploy never leaves a browser on an old script."""

import hashlib
import os

from flask import url_for


class StaticUrls:
    """The Jinja global ``static_url(filename)``: ``/static/<filename>?v=<hash>``.

    The hash is of the file's content, cached per (size, mtime).
    """

    def __init__(self, app):
        self.folder = app.static_folder
        self._cache = {}

    def __call__(self, filename):
        path = os.path.join(self.folder, filename)
        stat = os.stat(path)
        stamp = (stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(filename)
        if cached is None or cached[0] != stamp:
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:12]
            cached = self._cache[filename] = (stamp, digest)
        return url_for("static", filename=filename, v=cached[1])
