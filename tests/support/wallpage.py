"""A wall page in the browser, as the tests see and use it."""

import requests
from playwright.sync_api import expect

# Posts the server has stored; outbox items ("sending…") have .pending.
POSTS = "#feed li.post:not(.pending)"
PENDING = "#feed li.post.pending"
# Posts of ours that wait for an organiser's approval, and pinned posts.
HELD = "#feed li.post.held"
PINNED = "#feed li.post.pinned"

# What Chromium logs by itself when a page's own connection to a stopped or
# blocked server fails; tests that do that on purpose allow these.
NETWORK_ERRORS = r"Failed to load resource: net::ERR_|WebSocket connection to .* failed"


class WallPage:
    """One tab showing a wall."""

    def __init__(self, page):
        self.page = page

    @classmethod
    def open(cls, context, server, wall, query=""):
        page = context.new_page()
        page.goto("%s/w/%s%s" % (server.url, wall, query))
        return cls(page)

    def wait_live(self, timeout=10_000):
        expect(self.page.locator("#status")).to_have_attribute(
            "data-state", "live", timeout=timeout
        )
        return self

    def status(self):
        return " ".join(self.page.locator("#status").inner_text().split())

    def expect_status(self, pattern, timeout=10_000):
        expect(self.page.locator("#status")).to_have_text(pattern, timeout=timeout)

    # Generous: presence is announced at most once a second, through Redis,
    # and CI machines are busy. Timed promises are checked where they apply.
    def expect_online(self, count, timeout=10_000):
        expect(self.page.locator("#online")).to_have_text(str(count), timeout=timeout)

    def post(self, message, username="ann"):
        """Type a post and press Enter, as a person would."""
        self.page.fill("#username", username)
        self.page.fill("#message", message)
        self.page.press("#message", "Enter")

    def messages(self):
        """The stored posts' messages, top (newest) first."""
        return self.page.eval_on_selector_all(
            POSTS + " .message", "els => els.map(e => e.textContent)"
        )

    def ids(self):
        return self.page.eval_on_selector_all(POSTS, "els => els.map(e => e.dataset.id)")

    def pending(self):
        """The outbox items: [(client_id, state text, message)]."""
        return self.page.eval_on_selector_all(
            PENDING,
            """els => els.map(e => [e.dataset.clientId,
                e.querySelector('.post-state').textContent,
                e.querySelector('.message').textContent])""",
        )

    def held(self):
        """Our posts waiting for approval: their messages, top first."""
        return self.page.eval_on_selector_all(
            HELD + " .message", "els => els.map(e => e.textContent)"
        )

    def pinned(self):
        return self.page.eval_on_selector_all(
            PINNED + " .message", "els => els.map(e => e.textContent)"
        )

    def count(self, message):
        return self.messages().count(message)

    def wait_for_message(self, message, timeout=10_000):
        """Wait until a stored post with exactly this message is shown."""
        self.page.wait_for_function(
            """([selector, text]) => Array.from(document.querySelectorAll(selector))
                .some(e => e.textContent === text)""",
            arg=[POSTS + " .message", message],
            timeout=timeout,
        )

    def wait_for_count(self, n, timeout=10_000):
        self.page.wait_for_function(
            "([selector, n]) => document.querySelectorAll(selector).length === n",
            arg=[POSTS, n],
            timeout=timeout,
        )


def seed(server, wall, messages, username="seed"):
    """Store posts through the HTTP API, oldest first; return them."""
    posts = []
    with requests.Session() as http:
        for message in messages:
            reply = http.post(
                "%s/api/walls/%s/posts" % (server.url, wall),
                json={"username": username, "message": message},
                timeout=10,
            )
            assert reply.status_code == 201, reply.text
            posts.append(reply.json()["post"])
    return posts


def stored(rdb, wall):
    """The posts in the wall's Redis Stream (tombstones left out): [(id, fields)]."""
    return [(i, f) for i, f in rdb.xrange("wall:posts:" + wall) if "m" in f]


def id_key(post_id):
    ms, seq = post_id.split("-")
    return int(ms), int(seq)
