"""Versioned static URLs, so a deploy never leaves a browser on an old script.

Every URL carries one version, a hash of the whole static tree:
``/static/v/<version>/js/wall.js``. Because the version is a path segment,
an ES module's relative imports (``import ... from './feed.js'``) and a
module worker's resolve under the same version, so one changed file gives
every file of the tree a new URL and nothing stale can be mixed in. These
URLs are cached for a year (nginx serves them itself, deploy/nginx.conf).
"""

import hashlib
import os
import time

from flask import send_from_directory, url_for

YEAR = 365 * 24 * 3600


class StaticUrls:
    """The Jinja global ``static_url(filename)``: ``/static/v/<version>/<filename>``.

    The version is a hash of every file's path and content, recomputed only
    when a file's size or mtime changed (so editing a file in development
    shows at a page load a second later). The tree is looked at once per
    ``recheck_s`` at most: walking it took 7 ms, and a page asks three or
    four times, which made a page cost 25 ms and a hall of 2,000 arriving
    take most of a minute on one process.
    """

    def __init__(self, folder, recheck_s=1.0):
        self.folder = folder
        self.recheck_s = recheck_s
        self._stamp = None
        self._version = None
        self._checked_at = None

    def version(self):
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < self.recheck_s:
            return self._version
        self._checked_at = now
        files = []
        for base, dirs, names in os.walk(self.folder):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(base, name)
                stat = os.stat(path)
                files.append((os.path.relpath(path, self.folder), stat.st_size, stat.st_mtime_ns))
        if files != self._stamp:
            digest = hashlib.sha256()
            for rel, _, _ in files:
                digest.update(rel.encode() + b"\0")
                with open(os.path.join(self.folder, rel), "rb") as f:
                    digest.update(f.read())
            self._stamp, self._version = files, digest.hexdigest()[:12]
        return self._version

    def __call__(self, filename):
        return url_for("versioned_static", version=self.version(), filename=filename)


def init_app(app):
    """Serve ``/static/v/<version>/<path>`` and give templates ``static_url()``."""
    urls = StaticUrls(app.static_folder)

    def versioned_static(version, filename):
        # Any version serves the current file: a page from before a deploy
        # still loads, and gets the new tree on its next load.
        return send_from_directory(app.static_folder, filename, max_age=YEAR)

    app.add_url_rule("/static/v/<version>/<path:filename>", "versioned_static", versioned_static)
    app.jinja_env.globals["static_url"] = urls
