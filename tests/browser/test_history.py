"""History: kept across reloads, paged back without gaps or doubles, deletions."""

import re

import pytest
import requests
from playwright.sync_api import expect

from ..support.wallpage import NETWORK_ERRORS, WallPage, id_key, seed, stored

pytestmark = pytest.mark.browser


def test_reload_keeps_history(new_context, server, wall_name):
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    for text in ("one", "two", "three"):
        page.post(text)
        page.wait_for_message(text)
    before = page.ids()
    page.page.reload()
    WallPage(page.page).wait_live()
    page.wait_for_count(3)
    assert page.messages() == ["three", "two", "one"]
    assert page.ids() == before


def test_load_older_pages_through_120_posts(new_context, server, wall_name, rdb):
    posts = seed(server, wall_name, ["post %03d" % i for i in range(120)])
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    older = page.page.locator("#older")

    page.wait_for_count(50)
    assert page.messages() == ["post %03d" % i for i in range(119, 69, -1)]
    expect(older).to_be_visible()
    older.click()
    page.wait_for_count(100)
    expect(older).to_be_visible()
    older.click()
    page.wait_for_count(120)
    expect(older).to_be_hidden()

    ids = page.ids()
    assert ids == [p["id"] for p in reversed(posts)]
    assert ids == sorted(ids, key=id_key, reverse=True) and len(set(ids)) == 120
    assert page.messages() == ["post %03d" % i for i in range(119, -1, -1)]
    assert ids == [i for i, _ in reversed(stored(rdb, wall_name))]


def test_deleted_posts_go_and_stay_gone(new_context, console, start_server, wall_name):
    # bob's own connection fails loudly while the server is down.
    console.allow(NETWORK_ERRORS)
    env = {"WALL_ADMIN_TOKEN": "moderator-secret"}
    server = start_server(env=env)
    posts = seed(server, wall_name, ["keep 1", "delete me", "keep 2"])
    ann = WallPage.open(new_context(), server, wall_name).wait_live()
    bob = WallPage.open(new_context(), server, wall_name, "?shared=0").wait_live()
    ann.wait_for_count(3)
    bob.wait_for_count(3)

    reply = requests.delete(
        "%s/api/walls/%s/posts/%s" % (server.url, wall_name, posts[1]["id"]),
        headers={"Authorization": "Bearer moderator-secret"},
        timeout=5,
    )
    assert reply.status_code == 200, reply.text
    for page in (ann, bob):
        page.wait_for_count(2)
        assert page.messages() == ["keep 2", "keep 1"]

    # A reconnect's catch-up does not bring it back.
    server.kill()
    ann.expect_status(re.compile("^offline"))
    server = start_server(port=server.port, env=env)
    ann.wait_live()
    ann.post("after the restart")
    ann.wait_for_message("after the restart")
    assert ann.messages() == ["after the restart", "keep 2", "keep 1"]
