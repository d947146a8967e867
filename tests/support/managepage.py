"""The moderation panel and the /new page in the browser, as the tests see and use them."""

import requests
from playwright.sync_api import expect

QUEUE = "#queue li.mod-item"
HIDDEN = "#hidden li.mod-item"
FEED = "#feed li.post"


def create_wall(server, wall, token=None, **body):
    """Create a wall through the API; return its organiser key."""
    headers = {"Authorization": "Bearer " + token} if token else {}
    reply = requests.post(
        server.url + "/api/walls", json={"wall": wall, **body}, headers=headers, timeout=10
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["organizer_key"]


def change_settings(server, wall, key, **changes):
    reply = requests.patch(
        "%s/api/walls/%s/settings" % (server.url, wall),
        json=changes,
        headers={"Authorization": "Bearer " + key},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


class ManagePage:
    """One tab showing a wall's moderation panel."""

    def __init__(self, page):
        self.page = page

    @classmethod
    def open(cls, context, server, wall, key, query=""):
        page = context.new_page()
        page.goto("%s/w/%s/manage%s#key=%s" % (server.url, wall, query, key))
        return cls(page)

    def wait_live(self, timeout=10_000):
        expect(self.page.locator("#panel")).to_be_visible(timeout=timeout)
        expect(self.page.locator("#status")).to_have_attribute(
            "data-state", "live", timeout=timeout
        )
        return self

    def texts(self, selector):
        return self.page.eval_on_selector_all(
            selector + " .message", "els => els.map(e => e.textContent)"
        )

    def queue(self):
        return self.texts(QUEUE)

    def hidden(self):
        return self.texts(HIDDEN)

    def feed(self):
        return self.texts(FEED)

    def item(self, selector, message):
        return self.page.locator(selector).filter(
            has=self.page.locator(".message", has_text=message)
        )

    def expect_queue(self, messages, timeout=10_000):
        expect(self.page.locator(QUEUE + " .message")).to_have_text(messages, timeout=timeout)

    def expect_hidden(self, messages, timeout=10_000):
        expect(self.page.locator(HIDDEN + " .message")).to_have_text(messages, timeout=timeout)

    def expect_feed(self, messages, timeout=10_000):
        expect(self.page.locator(FEED + " .message")).to_have_text(messages, timeout=timeout)

    def queue_key(self, message, key):
        """Focus a queue item and press a key on it, as a keyboard user would."""
        item = self.item(QUEUE, message)
        item.focus()
        item.press(key)

    def approve(self, message):
        self.item(QUEUE, message).get_by_role("button", name="Approve").click()

    def reject(self, message):
        self.item(QUEUE, message).get_by_role("button", name="Reject").click()

    def restore(self, message):
        self.item(HIDDEN, message).get_by_role("button", name="Restore").click()

    def feed_action(self, message, label):
        self.item(FEED, message).get_by_role("button", name=label, exact=True).click()

    def hide(self, message):
        self.feed_action(message, "Hide")

    def pin(self, message):
        self.feed_action(message, "Pin")

    def delete(self, message):
        self.feed_action(message, "Delete")
        self.feed_action(message, "Delete for good")

    def ban(self, message, address=False):
        self.feed_action(message, "Ban author…")
        post = self.item(FEED, message)
        if address:
            post.get_by_label("The whole address").check()
            expect(post.locator(".ban-warning")).to_be_visible()
        else:
            expect(post.locator(".ban-warning")).to_be_hidden()
        post.get_by_role("button", name="Ban", exact=True).click()
        expect(self.page.locator("#bans li")).not_to_have_count(0)

    def save_settings(self, moderation=None, blocklist=None, action=None, slow=None, title=None):
        page = self.page
        if moderation:
            page.check('#settings-form input[name="moderation"][value="%s"]' % moderation)
        if blocklist is not None:
            page.fill("#blocklist", "\n".join(blocklist))
        if action:
            page.select_option("#blocklist-action", action)
        if slow is not None:
            page.fill("#slow-mode", str(slow))
        if title is not None:
            page.fill("#settings-title-input", title)
        page.click("#settings-save")
        expect(page.locator("#settings-result")).to_have_text(
            "Saved. Every page of the wall shows the change."
        )

    def message(self):
        return self.page.locator("#panel-message")
