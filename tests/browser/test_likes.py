"""Likes on the wall page (the button, its count, aria-pressed, other browsers),
the Newest | Popular tabs, and Share (the link, Copy, the QR code)."""

import pytest
from playwright.sync_api import expect

from ..support.presentpage import decode_qr
from ..support.servers import WallClient
from ..support.wallpage import POSTS, WallPage, seed

pytestmark = pytest.mark.browser

POPULAR = "#popular li.post"


def like_button(page, message, feed="#feed"):
    return page.page.locator(feed + " li.post", has_text=message).locator(".like-button")


def expect_likes(page, message, count, pressed=None, feed="#feed", timeout=5_000):
    button = like_button(page, message, feed)
    expect(button.locator(".like-count")).to_have_text(str(count), timeout=timeout)
    if pressed is not None:
        expect(button).to_have_attribute("aria-pressed", "true" if pressed else "false")


def popular_messages(page):
    return page.page.eval_on_selector_all(
        POPULAR + " .message", "els => els.map(e => e.textContent)"
    )


@pytest.mark.parametrize("query", ["", "?transport=polling"], ids=["websocket", "polling"])
def test_a_like_counts_in_every_browser(new_context, start_server, wall_name, query):
    one, two = start_server(), start_server()  # the two browsers on two processes
    seed(one, wall_name, ["worth a like"])
    ann = WallPage.open(new_context(), one, wall_name, query).wait_live()
    bob = WallPage.open(new_context(), two, wall_name, query).wait_live()
    for page in (ann, bob):
        page.wait_for_message("worth a like")
        expect_likes(page, "worth a like", 0, pressed=False)

    like_button(ann, "worth a like").click()
    expect_likes(ann, "worth a like", 1, pressed=True, timeout=1_000)  # at once
    # Within two seconds of the click on every page (docs/protocol.md); the
    # waits here allow three, for a busy 2-core machine.
    expect_likes(bob, "worth a like", 1, pressed=False, timeout=3_000)

    like_button(bob, "worth a like").click()
    for page in (ann, bob):
        expect_likes(page, "worth a like", 2, timeout=3_000)
    expect(like_button(bob, "worth a like")).to_have_attribute("aria-pressed", "true")

    # Unliking takes one back; liking is one per browser, however often.
    like_button(ann, "worth a like").click()
    expect_likes(ann, "worth a like", 1, pressed=False)
    expect_likes(bob, "worth a like", 1, pressed=True, timeout=3_000)
    like_button(bob, "worth a like").click()
    like_button(bob, "worth a like").click()
    for page in (ann, bob):
        expect_likes(page, "worth a like", 1, timeout=3_000)
    expect(like_button(bob, "worth a like")).to_have_attribute("aria-pressed", "true")

    # The page remembers its likes across a reload (the server tells them
    # only in acks), and other tabs of the browser follow.
    bob.page.reload()
    WallPage(bob.page).wait_live()
    expect_likes(bob, "worth a like", 1, pressed=True)
    second_tab = WallPage.open(bob.page.context, two, wall_name, query).wait_live()
    expect_likes(second_tab, "worth a like", 1, pressed=True)
    like_button(second_tab, "worth a like").click()
    expect_likes(bob, "worth a like", 0, pressed=False, timeout=3_000)


def test_the_popular_tab_lists_by_likes_then_newest(new_context, server, wall_name):
    posts = seed(server, wall_name, ["one", "two", "three", "four"])
    by = {p["message"]: p["id"] for p in posts}
    fans = [WallClient(server).connect() for _ in range(4)]
    try:

        def like(message, n):
            for fan in fans[:n]:
                assert fan.call("like", {"wall": wall_name, "id": by[message]})["ok"]

        like("two", 3)
        like("four", 1)
        like("one", 1)
        page = WallPage.open(new_context(), server, wall_name).wait_live()
        page.wait_for_count(4)
        assert page.messages() == ["four", "three", "two", "one"]
        expect(page.page.locator("#tab-newest")).to_have_attribute("aria-selected", "true")
        expect(page.page.locator("#panel-popular")).to_be_hidden()

        page.page.click("#tab-popular")
        expect(page.page.locator("#tab-popular")).to_have_attribute("aria-selected", "true")
        expect(page.page.locator("#panel-newest")).to_be_hidden()
        expect(page.page.locator(POPULAR)).to_have_count(4)
        assert popular_messages(page) == ["two", "four", "one", "three"]

        # Live: the order follows the likes, and a new post comes in by its count.
        like("three", 4)
        page.page.wait_for_function(
            "sel => document.querySelector(sel + ' .message').textContent === 'three'",
            arg=POPULAR,
            timeout=5_000,
        )
        assert popular_messages(page) == ["three", "two", "four", "one"]
        expect_likes(page, "three", 4, feed="#popular")
        page.post("brand new")
        expect(page.page.locator(POPULAR)).to_have_count(5)
        assert popular_messages(page) == ["three", "two", "four", "one", "brand new"]
        # Our own like there moves it up, in both lists.
        like_button(page, "brand new", "#popular").click()
        expect_likes(page, "brand new", 1, pressed=True, feed="#popular")
        expect_likes(page, "brand new", 1, pressed=True)
        assert popular_messages(page) == ["three", "two", "brand new", "four", "one"]

        # The keyboard: arrows move between the tabs.
        page.page.focus("#tab-popular")
        page.page.keyboard.press("ArrowLeft")
        expect(page.page.locator("#tab-newest")).to_be_focused()
        expect(page.page.locator("#panel-newest")).to_be_visible()
        assert page.messages()[0] == "brand new"
    finally:
        for fan in fans:
            fan.close()


def test_share_shows_the_link_copies_it_and_its_qr_code(new_context, server, wall_name):
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = WallPage.open(context, server, wall_name).wait_live()
    url = "%s/w/%s" % (server.url, wall_name)
    expect(page.page.locator("#share")).to_be_hidden()

    page.page.click("#share-open")
    dialog = page.page.locator("#share")
    expect(dialog).to_be_visible()
    expect(page.page.locator("#share-url")).to_have_text(url)
    page.page.click("#share-copy")
    expect(page.page.locator("#share-status")).to_have_text("Copied to the clipboard.")
    assert page.page.evaluate("navigator.clipboard.readText()") == url
    qr = page.page.locator("#share-qr")
    page.page.wait_for_function("() => document.getElementById('share-qr').naturalWidth > 0")
    assert decode_qr(qr.screenshot()) == url
    expect(page.page.locator(".share-present")).to_have_attribute(
        "href", "/w/%s/present" % wall_name
    )

    page.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.page.click("#share-open")
    page.page.click(".share-close button")
    expect(dialog).to_be_hidden()
    assert page.page.locator(POSTS).count() == 0
