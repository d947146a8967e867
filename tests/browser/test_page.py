"""What the page shows and how it is used: text as text, the form, the switcher."""

import pytest
from playwright.sync_api import expect

from ..support.wallpage import POSTS, WallPage, seed, stored

pytestmark = pytest.mark.browser

XSS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    '"><svg onload="window.__xss=3"><a href="javascript:window.__xss=4">x</a>',
]
NAME = "<img src=y onerror=__xss=5>"  # within the 32-character limit


def test_html_in_posts_stays_text(new_context, server, wall_name):
    ann = WallPage.open(new_context(), server, wall_name).wait_live()
    bob = WallPage.open(new_context(), server, wall_name).wait_live()
    for payload in XSS:
        ann.post(payload, username=NAME)
    bob.wait_for_message(XSS[-1])
    ann.wait_for_message(XSS[-1])

    for page in (ann, bob):
        assert page.messages() == XSS[::-1]
        names = page.page.eval_on_selector_all(
            POSTS + " .username", "els => els.map(e => e.textContent)"
        )
        assert names == [NAME] * 3
        # The DOM itself: no element was made from the text. (A CSP would
        # stop the handlers too, hiding an innerHTML bug from a __xss check.)
        made = page.page.evaluate(
            """() => ({
                // (besides the like button and the Delete of one's own
                // posts, which are ours)
                feed: document.querySelectorAll('#feed *:not(li):not(header):not(strong):not(time):not(p)'
                    + ':not(div.post-footer):not(div.own-actions):not(div.own-actions > button[data-action])'
                    + ':not(button.like-button):not(button.like-button > span)').length,
                // (besides the Share dialog's QR code, which is ours)
                img: document.querySelectorAll('img:not(#share-qr), svg').length,
                // Our own scripts are all under /static/v/<version>/js/.
                scripts: Array.from(document.scripts).filter(s => !(s.src.startsWith(location.origin + '/static/v/')
                    && s.src.includes('/js/'))).length,
                links: document.querySelectorAll('#feed a').length,
                xss: window.__xss,
            })"""
        )
        assert made == {"feed": 0, "img": 0, "scripts": 0, "links": 0, "xss": None}

    # Reloaded from the server's history, it is still text.
    bob.page.reload()
    bob.wait_for_message(XSS[0])
    assert bob.messages() == XSS[::-1]
    assert (
        bob.page.evaluate(
            "document.querySelectorAll('img:not(#share-qr), svg, #feed script').length"
        )
        == 0
    )


def test_each_post_is_isolated_and_keeps_its_lines(new_context, server, wall_name):
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    rtl = "\u05e9\u05dc\u05d5\u05dd \u202eevil override"
    page.post(rtl, username="\u05d3\u05e0\u05d4")
    page.wait_for_message(rtl)
    page.page.fill("#message", "first line")
    page.page.press("#message", "Shift+Enter")
    page.page.type("#message", "second line")
    page.page.press("#message", "Enter")
    page.wait_for_message("first line\nsecond line")
    long_word = "x" * 400
    page.post(long_word)
    page.wait_for_message(long_word)

    styles = page.page.eval_on_selector_all(
        POSTS,
        """els => els.map(li => {
            const m = li.querySelector('.message'), u = li.querySelector('.username');
            return [m.dir, u.dir, getComputedStyle(m).unicodeBidi, getComputedStyle(u).unicodeBidi,
                    getComputedStyle(li).unicodeBidi, getComputedStyle(m).whiteSpace];
        })""",
    )
    assert styles == [["auto", "auto", "isolate", "isolate", "isolate", "pre-wrap"]] * 3
    # The line break is kept and shown; the long word wraps inside the column.
    line = page.page.locator(POSTS, has_text="first line").locator(".message")
    assert line.evaluate("e => e.getClientRects()[0].height") > 30
    assert page.page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    # Exact time on hover, relative time on screen.
    time_el = page.page.locator(POSTS + " time").first
    assert time_el.inner_text() == "just now"
    assert time_el.get_attribute("title") and time_el.get_attribute("datetime")


def test_the_form(new_context, server, wall_name, rdb):
    context = new_context()
    page = WallPage.open(context, server, wall_name).wait_live()
    form = page.page
    counter = form.locator("#counter")
    send = form.locator("#post-form button[type=submit]")

    # Code points after NFC, as the server counts: e + combining acute is
    # one "é", an emoji is one, surrounding blanks don't count.
    form.fill("#message", "  e\u0301\U0001f600  ")
    expect(counter).to_have_text("2 / 1000")

    # 1000 emoji (2000 UTF-16 units) is exactly the limit and is accepted.
    form.fill("#username", "cara")
    form.fill("#message", "\U0001f600" * 1000)
    expect(counter).to_have_text("1000 / 1000")
    expect(send).to_be_enabled()
    form.press("#message", "Enter")
    page.wait_for_message("\U0001f600" * 1000)
    assert form.input_value("#message") == ""

    # One more and the page refuses to send it: nothing reaches the server.
    form.fill("#message", "a" * 1001)
    expect(counter).to_have_text("1001 / 1000")
    expect(send).to_be_disabled()
    assert form.get_attribute("#message", "aria-invalid") == "true"
    form.press("#message", "Enter")
    form.wait_for_timeout(300)
    assert page.pending() == [] and len(stored(rdb, wall_name)) == 1
    assert form.input_value("#message") == "a" * 1001

    # The server's refusal shows next to the form, with the text kept.
    form.fill("#username", "\u202eevil")
    form.fill("#message", "refused for its name")
    form.press("#message", "Enter")
    expect(form.locator("#form-error")).to_contain_text("Not posted")
    expect(form.locator("#message")).to_have_value("refused for its name")
    assert len(stored(rdb, wall_name)) == 1

    # The name is remembered for the next visit.
    form.fill("#username", "dana")
    form.fill("#message", "remember me")
    form.press("#message", "Enter")
    page.wait_for_message("remember me")
    form.reload()
    expect(form.locator("#username")).to_have_value("dana")


def test_keyboard_only(new_context, server, wall_name):
    seed(server, wall_name, ["post %d" % i for i in range(55)])
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    page.wait_for_count(50)
    keys = page.page.keyboard
    page.page.focus("#username")
    keys.type("eve")
    keys.press("Tab")
    keys.type("typed without a mouse")
    keys.press("Enter")
    page.wait_for_message("typed without a mouse")
    # Tab reaches the tabs, each post's like button (Space likes it), and
    # "Load older", where Enter pages back.
    passed = []
    for _ in range(120):
        keys.press("Tab")
        here = page.page.evaluate("document.activeElement.id || document.activeElement.className")
        passed.append(here)
        if here == "older":
            break
    assert page.page.evaluate("document.activeElement.id") == "older"
    assert "tab-newest" in passed and "tab-popular" not in passed  # one stop for the tabs
    assert passed.count("like-button") == 51  # the 50 loaded and ours
    page.page.focus("#feed li.post .like-button")
    keys.press("Space")
    expect(page.page.locator("#feed li.post .like-button").first).to_have_attribute(
        "aria-pressed", "true"
    )
    page.page.focus("#older")
    keys.press("Enter")
    page.wait_for_count(56)
    # The button is gone, so focus moved on to the first post it brought.
    assert page.page.evaluate("document.activeElement.matches('li.post')")
    # The switcher opens with Enter and goes to a wall by name.
    page.page.focus("#switcher summary")
    keys.press("Enter")
    expect(page.page.locator("#switch-name")).to_be_focused()
    keys.type("  Other-Wall ")
    keys.press("Enter")
    page.page.wait_for_url("**/w/other-wall")
    WallPage(page.page).wait_live()


def test_wall_switcher_lists_walls(new_context, server, wall_name):
    seed(server, wall_name + "-a", ["a1", "a2"])
    seed(server, wall_name + "-b", ["b1"])
    page = WallPage.open(new_context(), server, wall_name + "-a").wait_live()
    page.page.click("#switcher summary")
    links = page.page.locator("#wall-list a")
    expect(links).to_have_count(2)
    # Most recently active first.
    assert links.all_inner_texts() == ["#%s-b" % wall_name, "#%s-a" % wall_name]
    assert page.page.locator("#wall-list li").last.inner_text().endswith("2 posts · 1 online")
    assert links.last.get_attribute("aria-current") == "page"

    page.page.fill("#switch-name", "not a wall!")
    page.page.press("#switch-name", "Enter")
    expect(page.page.locator("#switch-error")).to_contain_text("1 to 40")
    links.first.click()
    page.page.wait_for_url("**/w/%s-b" % wall_name)
    WallPage(page.page).wait_for_message("b1")


def test_live_posts_are_announced_history_is_not(new_context, server, wall_name):
    seed(server, wall_name, ["old news 1", "old news 2"])
    ann = WallPage.open(new_context(), server, wall_name).wait_live()
    ann.wait_for_message("old news 2")
    region = ann.page.locator("#announcer")
    assert region.get_attribute("aria-live") == "polite"
    ann.page.wait_for_timeout(1200)
    assert region.inner_text() == ""

    bob = WallPage.open(new_context(), server, wall_name).wait_live()
    bob.post("fresh", username="bob")
    expect(region).to_have_text("bob: fresh")
    # Your own posts are not read back to you.
    ann.post("mine")
    ann.wait_for_message("mine")
    ann.page.wait_for_timeout(1200)
    expect(region).to_have_text("bob: fresh")
