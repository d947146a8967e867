"""The panel's other tools (keys, audit, export), one browser's shared connection for the
panel and the wall, and screenshots of the panel and /new for people to look at."""

import json
import os
import shutil

import pytest
import requests
from playwright.sync_api import expect

from ..support.browser import ROOT
from ..support.managepage import ManagePage, change_settings, create_wall
from ..support.wallpage import HELD, WallPage, seed

pytestmark = pytest.mark.browser


def test_panel_and_wall_in_one_browser_share_the_connection(new_context, server, wall_name):
    key = create_wall(server, wall_name)
    change_settings(server, wall_name, key, moderation="approve")
    context = new_context()
    panel = ManagePage.open(context, server, wall_name, key).wait_live()
    mine = WallPage.open(context, server, wall_name).wait_live()
    assert panel.page.get_attribute("#manage", "data-connection") == "shared"
    mine.expect_online(1)  # one socket for both tabs

    # The wall tab joined after the panel: the socket stays the organiser's.
    other = WallPage.open(new_context(), server, wall_name).wait_live()
    other.post("from another browser")
    panel.expect_queue(["from another browser"])
    mine.post("from the organiser's own wall tab")
    panel.expect_queue(["from another browser", "from the organiser's own wall tab"])
    expect(mine.page.locator(HELD)).to_have_count(1)  # its own, not the other's
    panel.approve("from another browser")
    mine.wait_for_message("from another browser")
    other.wait_for_message("from another browser")
    assert mine.held() == ["from the organiser's own wall tab"]


def test_keys_audit_and_export(new_context, server, wall_name, tmp_path):
    key = create_wall(server, wall_name)
    seed(server, wall_name, ['with "quotes", commas', "second"])
    panel = ManagePage.open(new_context(accept_downloads=True), server, wall_name, key).wait_live()
    page = panel.page
    expect(page.locator("#keys li")).to_have_count(1)
    page.fill("#key-label", "Bea")
    page.press("#key-label", "Enter")
    expect(page.locator("#key-created-value")).to_have_text(
        __import__("re").compile(r"^wk_[A-Za-z0-9_-]{32}$")
    )
    co_key = page.locator("#key-created-value").inner_text()
    expect(page.locator("#keys li")).to_have_count(2)
    queue = "%s/api/walls/%s/queue" % (server.url, wall_name)
    auth = {"Authorization": "Bearer " + co_key}
    assert requests.get(queue, headers=auth, timeout=5).status_code == 200

    page.locator("#keys li", has_text="Bea").get_by_role("button", name="Revoke").click()
    expect(page.locator("#keys li")).to_have_count(1)
    assert requests.get(queue, headers=auth, timeout=5).status_code == 403

    page.click("#audit-refresh")
    expect(page.locator("#audit li").first).to_contain_text("revoke key")
    expect(page.locator("#audit li").nth(1)).to_contain_text("add key")

    with page.expect_download() as download:
        page.click(".export-link[data-format=csv]")
    csv_path = tmp_path / "export.csv"
    download.value.save_as(csv_path)
    assert download.value.suggested_filename.startswith("wall-%s-" % wall_name)
    text = csv_path.read_text(encoding="utf-8-sig")
    assert text.startswith("id,time,username,message,status,pinned")
    assert '"with ""quotes"", commas"' in text
    with page.expect_download() as download:
        page.click(".export-link[data-format=json]")
    json_path = tmp_path / "export.json"
    download.value.save_as(json_path)
    document = json.loads(json_path.read_text())
    assert [p["message"] for p in document["posts"]] == ['with "quotes", commas', "second"]


QUESTIONS = [
    ("mira", "Will the slides be shared after the talk?"),
    ("jonas", "How does this compare with last year's setup?"),
    ("sam", "Can you say more about the rollout plan for smaller teams?"),
    ("noa", "Thanks, great talk!"),
]


def _panel_scene(new_context, server, viewport, scale):
    wall = "keynote"  # this test's server and Redis are its own
    key = create_wall(
        server, wall, title="Keynote Q&A", description="Ask the speaker anything, one at a time."
    )
    change_settings(server, wall, key, moderation="approve", blocklist=["spam"])
    posts = seed(server, wall, [m for _, m in QUESTIONS[:2]], username="guest")
    for post in posts:
        requests.post(
            "%s/api/walls/%s/posts/%s/approve" % (server.url, wall, post["id"]),
            headers={"Authorization": "Bearer " + key},
            timeout=5,
        ).raise_for_status()
    requests.post(
        "%s/api/walls/%s/posts/%s/pin" % (server.url, wall, posts[0]["id"]),
        headers={"Authorization": "Bearer " + key},
        timeout=5,
    ).raise_for_status()
    for username, message in QUESTIONS[2:]:
        seed(server, wall, [message], username=username)
    change_settings(server, wall, key, slow_mode_s=10)  # after the posts: it applies to them too
    context = new_context(viewport=viewport, device_scale_factor=scale)
    panel = ManagePage.open(context, server, wall, key).wait_live()
    panel.expect_queue([m for _, m in QUESTIONS[2:]])
    panel.expect_feed([m for _, m in QUESTIONS[:2]])
    panel.page.locator("#queue li").first.focus()
    panel.page.wait_for_timeout(2600)  # let the arrival highlight fade
    return panel


@pytest.mark.parametrize(
    "name, viewport, scale",
    [("desktop", {"width": 1280, "height": 900}, 1), ("phone", {"width": 360, "height": 740}, 2)],
)
def test_screenshots(new_context, server, artifacts, name, viewport, scale):
    panel = _panel_scene(new_context, server, viewport, scale)
    page = panel.page
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    path = os.path.join(artifacts, "manage-%s.png" % name)
    page.screenshot(path=path, full_page=True)
    assert os.path.getsize(path) > 10_000

    new = new_context(viewport=viewport, device_scale_factor=scale).new_page()
    new.goto(server.url + "/new")
    new.fill("#wall-name", "town-hall")
    new.fill("#wall-title-input", "Town hall, March")
    new.click("#create")
    expect(new.locator("#organizer-link")).to_contain_text("#key=wk_")
    assert new.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    new_path = os.path.join(artifacts, "new-%s.png" % name)
    new.screenshot(path=new_path, full_page=True)
    assert os.path.getsize(new_path) > 10_000
    if name == "desktop" and os.environ.get("WALL_UPDATE_DOCS_SCREENSHOTS") == "1":
        # The README's pictures: refreshed on request, not by every run.
        page.screenshot(path=os.path.join(ROOT, "docs", "manage.png"))
        shutil.copy(new_path, os.path.join(ROOT, "docs", "new.png"))
