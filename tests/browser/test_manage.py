"""Running a live event in the browser: the moderation panel and what every page shows of it."""

import re

import pytest
import requests
from playwright.sync_api import expect

from ..support.managepage import ManagePage, change_settings, create_wall
from ..support.wallpage import HELD, NETWORK_ERRORS, PENDING, POSTS, WallPage, seed

pytestmark = pytest.mark.browser

TRANSPORTS = pytest.mark.parametrize(
    "query", ["", "?transport=polling"], ids=["websocket", "polling"]
)


@TRANSPORTS
def test_an_approved_post_appears_in_a_second_browser(new_context, start_server, wall_name, query):
    server, other = start_server(), start_server()  # pages on two processes of one Redis
    key = create_wall(server, wall_name)
    change_settings(server, wall_name, key, moderation="approve")
    panel = ManagePage.open(new_context(), server, wall_name, key, query).wait_live()
    author = WallPage.open(new_context(), other, wall_name, query).wait_live()
    watcher = WallPage.open(new_context(), server, wall_name, query).wait_live()
    expect(author.page.locator("#wall-rules")).to_contain_text("once an organiser approves")

    author.post("a question for the panel")
    expect(author.page.locator(HELD)).to_contain_text("waiting for approval")
    panel.expect_queue(["a question for the panel"])
    expect(panel.page.locator("#queue-count")).to_have_text("1")
    watcher.page.wait_for_timeout(300)
    assert watcher.messages() == []

    # By keyboard: the queue item has focus, `a` approves it.
    panel.queue_key("a question for the panel", "a")
    panel.expect_queue([])
    watcher.wait_for_message("a question for the panel")
    expect(author.page.locator(HELD)).to_have_count(0)
    author.wait_for_message("a question for the panel")
    panel.expect_feed(["a question for the panel"])
    expect(panel.message()).to_contain_text("Approved")


@TRANSPORTS
def test_hide_and_delete_leave_every_page_even_one_that_was_offline(
    new_context, console, start_server, wall_name, query
):
    console.allow(NETWORK_ERRORS)
    one, two = start_server(), start_server()  # two processes on one Redis
    key = create_wall(one, wall_name)
    seed(one, wall_name, ["stays", "to hide", "to delete"])
    panel = ManagePage.open(new_context(), one, wall_name, key, query).wait_live()
    live = WallPage.open(new_context(), two, wall_name, query).wait_live()
    # Its own connection, so that going offline takes it down (a shared
    # worker's requests are out of Playwright's reach).
    away_context = new_context()
    sep = "&" if query else "?"
    away = WallPage.open(away_context, two, wall_name, query + sep + "shared=0").wait_live()
    away.wait_for_count(3)
    away_context.set_offline(True)
    away.expect_status(re.compile(r"^offline"))

    panel.expect_feed(["to delete", "to hide", "stays"])
    panel.hide("to hide")
    panel.delete("to delete")
    panel.expect_feed(["stays"])
    panel.expect_hidden(["to hide"])
    live.page.wait_for_function("sel => document.querySelectorAll(sel).length === 1", arg=POSTS)
    assert live.messages() == ["stays"]

    away_context.set_offline(False)
    away.wait_live(timeout=15_000)
    away.wait_for_count(1)
    assert away.messages() == ["stays"]

    # Restored, it comes back everywhere, live.
    panel.restore("to hide")
    panel.expect_hidden([])
    live.wait_for_message("to hide")
    away.wait_for_message("to hide")
    assert live.messages() == away.messages() == ["to hide", "stays"]


@TRANSPORTS
def test_a_pin_shows_first_on_every_page(new_context, start_server, wall_name, query):
    server, other = start_server(), start_server()
    key = create_wall(server, wall_name)
    seed(server, wall_name, ["the old one"] + ["filler %02d" % i for i in range(55)])
    panel = ManagePage.open(new_context(), server, wall_name, key, query).wait_live()
    watcher = WallPage.open(new_context(), other, wall_name, query).wait_live()
    watcher.wait_for_count(50)
    panel.page.click("#older")  # the old post is behind "Load older"
    panel.pin("the old one")
    expect(watcher.page.locator(POSTS).first).to_have_class(re.compile(r"\bpinned\b"))
    assert watcher.messages()[0] == "the old one" and watcher.pinned() == ["the old one"]
    expect(watcher.page.locator(POSTS).first.locator(".post-badge")).to_have_text("Pinned")

    # A page opened now gets it from the join ack, though it is older than its 50.
    late = WallPage.open(new_context(), server, wall_name, query).wait_live()
    late.wait_for_count(51)
    assert late.messages()[0] == "the old one" and late.pinned() == ["the old one"]

    panel.feed_action("the old one", "Unpin")
    expect(watcher.page.locator(POSTS).first).not_to_have_class(re.compile(r"\bpinned\b"))
    assert watcher.messages()[0] == "filler 54"


def test_the_word_filter_holds_a_post_for_the_queue(new_context, server, wall_name):
    key = create_wall(server, wall_name)
    panel = ManagePage.open(new_context(), server, wall_name, key).wait_live()
    panel.save_settings(blocklist=["spam", "buy now"], action="hold")
    author = WallPage.open(new_context(), server, wall_name).wait_live()
    author.post("this is SPAM")
    author.post("hello")
    author.wait_for_message("hello")
    panel.expect_queue(["this is SPAM"])
    panel.expect_feed(["hello"])
    assert author.held() == ["this is SPAM"]

    # After a reload it still waits, where it was.
    author.page.reload()
    WallPage(author.page).wait_live()
    author.wait_for_message("hello")
    expect(author.page.locator(HELD)).to_have_count(1)
    assert author.held() == ["this is SPAM"]

    # Rejected by keyboard: gone from the author's page, restorable in the panel.
    panel.queue_key("this is SPAM", "r")
    panel.expect_hidden(["this is SPAM"])
    expect(author.page.locator(HELD)).to_have_count(0)
    author.page.reload()
    WallPage(author.page).wait_live()
    author.wait_for_message("hello")
    author.page.wait_for_timeout(500)
    assert author.held() == [] and author.messages() == ["hello"]


def test_slow_mode_shows_its_wait(new_context, server, wall_name):
    key = create_wall(server, wall_name)
    panel = ManagePage.open(new_context(), server, wall_name, key).wait_live()
    panel.save_settings(slow=30)
    author = WallPage.open(new_context(), server, wall_name).wait_live()
    expect(author.page.locator("#wall-rules")).to_contain_text("Slow mode: one post every 30 s.")
    author.post("first")
    author.wait_for_message("first")
    author.post("second")
    expect(author.page.locator("#form-notice")).to_have_text(
        re.compile(r"^Slow mode \(one post every 30 s\): your post goes out in (2\d|30) s\.$")
    )
    expect(author.page.locator(PENDING)).to_contain_text("sending…")


def test_a_banned_author_cannot_post(new_context, server, wall_name):
    key = create_wall(server, wall_name)
    panel = ManagePage.open(new_context(), server, wall_name, key).wait_live()
    author = WallPage.open(new_context(), server, wall_name).wait_live()
    other = WallPage.open(new_context(), server, wall_name).wait_live()
    author.post("something rude")
    panel.expect_feed(["something rude"])
    # The address choice warns first; the default bans the browser only.
    panel.feed_action("something rude", "Ban author…")
    post = panel.item("#feed li.post", "something rude")
    expect(post.locator(".ban-warning")).to_be_hidden()
    post.get_by_label("The whole address").check()
    expect(post.locator(".ban-warning")).to_have_text(re.compile("conference Wi-Fi, a whole hall"))
    post.get_by_label("Their browser (recommended)").check()
    post.get_by_role("button", name="Ban", exact=True).click()
    expect(panel.page.locator("#bans li")).to_have_count(1)
    expect(panel.page.locator("#bans li")).to_contain_text("A browser")

    author.post("let me back in")
    expect(author.page.locator("#form-error")).to_contain_text(
        "Not posted: you are banned from posting on this wall."
    )
    other.post("someone else may")  # same address, another browser
    author.wait_for_message("someone else may")

    panel.page.locator("#bans li").get_by_role("button", name="Lift").click()
    expect(panel.page.locator("#bans li")).to_have_count(0)


def test_a_closed_wall_says_so_and_disables_the_form(new_context, server, wall_name):
    key = create_wall(server, wall_name, title="Keynote Q&A", description="Ask away")
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    expect(page.page.locator("#wall-title")).to_have_text("Keynote Q&A")
    expect(page.page.locator("#wall-description")).to_have_text("Ask away")
    panel = ManagePage.open(new_context(), server, wall_name, key).wait_live()
    panel.save_settings(moderation="closed", title="Keynote Q&A (over)")
    expect(page.page.locator("#closed")).to_be_visible()
    expect(page.page.locator("#message")).to_be_disabled()
    expect(page.page.locator("#wall-title")).to_have_text("Keynote Q&A (over)")
    panel.save_settings(moderation="open")
    expect(page.page.locator("#closed")).to_be_hidden()
    expect(page.page.locator("#message")).to_be_enabled()


def test_an_author_deletes_a_post_of_theirs(new_context, server, wall_name):
    author = WallPage.open(new_context(), server, wall_name).wait_live()
    other = WallPage.open(new_context(), server, wall_name).wait_live()
    author.post("oops, wrong wall")
    other.wait_for_message("oops, wrong wall")
    # Only the author sees Delete.
    expect(other.page.locator(POSTS + " button[data-action=delete]")).to_have_count(0)
    mine = author.page.locator(POSTS).filter(has_text="oops, wrong wall")
    mine.get_by_role("button", name="Delete").click()
    mine.get_by_role("button", name="Yes, delete it").click()
    other.page.wait_for_function("sel => !document.querySelector(sel)", arg=POSTS)
    expect(author.page.locator(POSTS)).to_have_count(0)
    stored = author.page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('wall.mine.'))"
    )
    assert stored == []


def test_the_panel_asks_for_a_key_and_refuses_a_wrong_one(new_context, console, server, wall_name):
    # Chromium logs the refused request by itself.
    console.allow(r"status of 403 \(FORBIDDEN\)")
    key = create_wall(server, wall_name)
    page = new_context().new_page()
    page.goto("%s/w/%s/manage" % (server.url, wall_name))
    expect(page.locator("#key-section")).to_be_visible()
    page.fill("#key-input", "wk_" + "x" * 32)
    page.press("#key-input", "Enter")
    expect(page.locator("#key-error")).to_contain_text("not (or no longer) an organiser key")
    page.fill("#key-input", "%s/w/%s/manage#key=%s" % (server.url, wall_name, key))
    page.press("#key-input", "Enter")
    ManagePage(page).wait_live()
    assert page.evaluate("sessionStorage.getItem('wall.manage.key.' + %r)" % wall_name) == key


def test_new_creates_a_wall_and_its_link_opens_the_panel(new_context, console, server, wall_name):
    console.allow(r"status of 409 \(CONFLICT\)")
    context = new_context()
    page = context.new_page()
    page.goto(server.url + "/new")
    page.fill("#wall-name", "Bad Name!")
    page.click("#create")
    expect(page.locator("#create-error")).to_contain_text("letters a-z")
    page.fill("#wall-name", wall_name.upper())  # folded, as the server does
    page.fill("#wall-title-input", "Town hall")
    page.click("#create")
    link = page.locator("#organizer-link")
    expect(link).to_have_text(re.compile(r"^http://.*/w/%s/manage#key=wk_" % wall_name))
    expect(page.locator("#created .warning")).to_contain_text("shown only once")
    url = link.inner_text()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-link")
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == url

    page.click("#open-manage")
    panel = ManagePage(page).wait_live()
    # The key left the address bar; the tab keeps it.
    assert "#" not in page.url and page.url.endswith("/w/%s/manage" % wall_name)
    assert page.evaluate("sessionStorage.getItem('wall.manage.key.' + %r)" % wall_name)
    expect(panel.page.locator("#wall-title")).to_have_text("Town hall")
    page.reload()
    ManagePage(page).wait_live()

    # The name is taken now: said next to the form.
    again = context.new_page()
    again.goto(server.url + "/new")
    again.fill("#wall-name", wall_name)
    again.click("#create")
    expect(again.locator("#create-error")).to_contain_text("already has an organiser")


@pytest.mark.parametrize(
    "query", ["", "?transport=polling", "?shared=0"], ids=["websocket", "polling", "own"]
)
def test_the_panel_stays_live_through_a_restart_and_refreshes_its_lists(
    new_context, console, start_server, wall_name, query
):
    console.allow(NETWORK_ERRORS)
    one = start_server()
    two = start_server()
    key = create_wall(one, wall_name)
    change_settings(one, wall_name, key, moderation="approve")
    panel = ManagePage.open(new_context(), one, wall_name, key, query).wait_live()
    requests.post(
        "%s/api/walls/%s/posts" % (two.url, wall_name),
        json={"username": "bo", "message": "before"},
        timeout=5,
    ).raise_for_status()
    panel.expect_queue(["before"])

    one.stop()
    panel.page.wait_for_selector("#status[data-state=offline]")
    # Meanwhile, on the other process: a new pending post, and one approved.
    requests.post(
        "%s/api/walls/%s/posts" % (two.url, wall_name),
        json={"username": "bo", "message": "while away"},
        timeout=5,
    ).raise_for_status()
    start_server(port=one.port)
    panel.wait_live(timeout=20_000)
    panel.expect_queue(["before", "while away"])
    panel.approve("before")
    panel.expect_queue(["while away"])
    panel.expect_feed(["before"])


def test_a_held_post_approved_while_its_author_was_away(new_context, server, wall_name):
    key = create_wall(server, wall_name)
    change_settings(server, wall_name, key, moderation="approve")
    context = new_context()
    author = WallPage.open(context, server, wall_name).wait_live()
    author.post("approved while I was away")
    expect(author.page.locator(HELD)).to_have_count(1)
    author.page.close()
    [post] = requests.get(
        "%s/api/walls/%s/queue" % (server.url, wall_name),
        headers={"Authorization": "Bearer " + key},
        timeout=5,
    ).json()["posts"]
    requests.post(
        "%s/api/walls/%s/posts/%s/approve" % (server.url, wall_name, post["id"]),
        headers={"Authorization": "Bearer " + key},
        timeout=5,
    ).raise_for_status()
    back = WallPage.open(context, server, wall_name).wait_live()
    back.wait_for_message("approved while I was away")
    expect(back.page.locator(HELD)).to_have_count(0)
    # Still the author's, within its 15 minutes: Delete is there.
    expect(back.page.locator(POSTS + " button[data-action=delete]")).to_have_count(1)
