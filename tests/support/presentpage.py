"""The projector view (/w/<wall>/present) in the browser, as the tests see and use it,
and the organiser's API calls the tests around it need."""

import io

import requests
from playwright.sync_api import expect

# The cards on screen: the posts flow, and the pinned posts' spotlight.
CARDS = "#present-posts li.present-post"
SPOTLIGHT = "#spotlight li.present-post"


class PresentPage:
    """One tab showing a wall on the big screen."""

    def __init__(self, page):
        self.page = page

    @classmethod
    def open(cls, context, server, wall, query=""):
        page = context.new_page()
        page.goto("%s/w/%s/present%s" % (server.url, wall, query))
        return cls(page)

    def wait_live(self, timeout=10_000):
        expect(self.page.locator("#present")).to_have_attribute(
            "data-state", "live", timeout=timeout
        )
        return self

    def ids(self, selector=CARDS):
        return self.page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.id)")

    def messages(self, selector=CARDS):
        return self.page.eval_on_selector_all(
            selector + " .present-message", "els => els.map(e => e.textContent)"
        )

    def likes(self):
        """The like counts the cards show, top first (0 where none is shown)."""
        return self.page.eval_on_selector_all(
            CARDS,
            """els => els.map(e => {
                const c = e.querySelector('.present-likes');
                return c ? Number(c.textContent.replace(/[^0-9]/g, '')) : 0;
            })""",
        )

    def wait_for_message(self, message, timeout=10_000, selector=CARDS):
        self.page.wait_for_function(
            """([selector, text]) => Array.from(document.querySelectorAll(selector))
                .some(e => e.textContent === text)""",
            arg=[selector + " .present-message", message],
            timeout=timeout,
        )

    def wait_for_messages(self, messages, timeout=10_000, selector=CARDS):
        """Wait until the cards show exactly these messages, top first."""
        self.page.wait_for_function(
            """([selector, want]) => {
                const got = Array.from(document.querySelectorAll(selector), e => e.textContent);
                return JSON.stringify(got) === JSON.stringify(want);
            }""",
            arg=[selector + " .present-message", messages],
            timeout=timeout,
        )

    def expect_online(self, count, timeout=10_000):
        expect(self.page.locator("#present-online")).to_have_text(str(count), timeout=timeout)

    def scroll_box(self):
        return self.page.evaluate(
            """() => ({
                scrollHeight: document.documentElement.scrollHeight,
                scrollWidth: document.documentElement.scrollWidth,
                innerHeight: innerHeight,
                innerWidth: innerWidth,
            })"""
        )

    def assert_no_scrollbars(self):
        box = self.scroll_box()
        assert box["scrollHeight"] <= box["innerHeight"], box
        assert box["scrollWidth"] <= box["innerWidth"], box

    def font_size(self, selector=CARDS + " .present-message"):
        """The computed font size in CSS px of the first element matching ``selector``."""
        return self.page.eval_on_selector(selector, "e => parseFloat(getComputedStyle(e).fontSize)")

    def elements(self):
        return self.page.evaluate("document.getElementsByTagName('*').length")

    def held(self):
        """How many posts the page's model holds (present-view.js says so on #present)."""
        return int(self.page.get_attribute("#present", "data-held"))

    def mark(self):
        """Leave a mark on the window: gone if the page ever reloads."""
        self.page.evaluate("window.__notReloaded = true")

    def still_marked(self):
        return self.page.evaluate("window.__notReloaded === true")


def decode_qr(png):
    """The text of the one QR code in a PNG screenshot (zxing-cpp)."""
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    texts = [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(texts) == 1, "expected one QR code, found %r" % [r.text for r in found]
    return texts[0]


def organizer(server, wall, key, action, post_id):
    """An organiser's action on a post (approve, hide, restore, pin, unpin)."""
    reply = requests.post(
        "%s/api/walls/%s/posts/%s/%s" % (server.url, wall, post_id, action),
        headers={"Authorization": "Bearer " + key},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["post"]


def delete_post(server, wall, key, post_id):
    reply = requests.delete(
        "%s/api/walls/%s/posts/%s" % (server.url, wall, post_id),
        headers={"Authorization": "Bearer " + key},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text


def visible_ids(server, wall, key=None):
    """The ids of the wall's newest visible posts (up to 200), newest first."""
    headers = {"Authorization": "Bearer " + key} if key else {}
    reply = requests.get(
        "%s/api/walls/%s/posts?limit=200" % (server.url, wall), headers=headers, timeout=10
    )
    reply.raise_for_status()
    return [p["id"] for p in reversed(reply.json()["posts"])]
