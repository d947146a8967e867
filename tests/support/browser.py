"""Fixtures for the browser tests: Debian's Chromium driven by Playwright.

The pages run against real server processes (``python app.py`` under
eventlet, ``start_server`` of tests/support/fixtures.py) on the test Redis. Chromium is
``/usr/bin/chromium`` or ``WALL_CHROMIUM``; it is never downloaded. Without
it the tests skip, unless ``WALL_REQUIRE_BROWSER=1`` (CI) makes that a
failure. Every page's console errors and uncaught exceptions are collected
and fail the test that caused them.
"""

import os
import re
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "test-artifacts")


def find_chromium():
    """The Chromium to drive, or None."""
    configured = os.environ.get("WALL_CHROMIUM")
    candidates = [configured] if configured else ["/usr/bin/chromium", shutil.which("chromium")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _unavailable(reason):
    if os.environ.get("WALL_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (WALL_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


# Package scope, not session: while Playwright's sync API is open, an asyncio
# loop counts as running in the main thread, which breaks later tests that
# call asyncio.run(). It closes when the last browser test is done.
@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the browser tests."""
    path = find_chromium()
    if path is None:
        where = os.environ.get("WALL_CHROMIUM") or "/usr/bin/chromium"
        _unavailable(
            "no Chromium at %s: install Debian's chromium package or set WALL_CHROMIUM" % where
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


class ConsoleLog:
    """Console errors and uncaught exceptions of every page of a test."""

    def __init__(self):
        self.errors = []
        self.allowed = []

    def allow(self, pattern):
        """Expect errors matching ``pattern`` (a test that breaks the network on purpose)."""
        self.allowed.append(re.compile(pattern))

    def watch(self, page):
        def on_console(message):
            if message.type == "error":
                self.errors.append("%s: console.error: %s" % (page.url, message.text))

        def on_pageerror(error):
            self.errors.append("%s: uncaught: %s" % (page.url, error))

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)

    def unexpected(self):
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console():
    return ConsoleLog()


@pytest.fixture
def new_context(browser, console, start_server):
    """A factory of browser contexts (separate profiles), closed afterwards.

    At teardown the test fails if any of their pages logged a console error.
    It depends on ``start_server`` so that the pages close before their
    servers stop: a page still loading would log the refused connection.
    """
    made = []

    def make(**kwargs):
        kwargs.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**kwargs)
        context.set_default_timeout(10_000)
        context.on("page", console.watch)
        made.append(context)
        return context

    yield make
    for context in made:
        try:
            context.close()
        except Exception:  # already closed by the test
            pass
    problems = console.unexpected()
    assert not problems, "errors in the browser console:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def artifacts():
    """The folder for screenshots (gitignored)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
