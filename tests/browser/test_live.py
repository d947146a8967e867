"""Live posts and presence between real browsers, and one connection per browser."""

import time

import pytest
import requests
from playwright.sync_api import expect

from ..support.wallpage import WallPage

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "query, label",
    [("", "live (WebSocket)"), ("?transport=polling", "live (long-polling)")],
    ids=["websocket", "polling"],
)
def test_two_browsers_see_each_other(new_context, server, wall_name, query, label):
    ann = WallPage.open(new_context(), server, wall_name, query).wait_live()
    bob = WallPage.open(new_context(), server, wall_name, query).wait_live()
    for page in (ann, bob):
        page.expect_status(label)
        page.expect_online(2)

    ann.post("hello from ann", username="ann")
    started = time.monotonic()
    bob.wait_for_message("hello from ann", timeout=2_000)
    assert time.monotonic() - started < 2.0

    bob.post("hello back", username="bob")
    ann.wait_for_message("hello back", timeout=2_000)
    assert ann.messages() == bob.messages() == ["hello back", "hello from ann"]
    assert ann.ids() == bob.ids()

    bob.page.context.close()
    ann.expect_online(1)
    # Long-polling stays long-polling: the page never upgraded behind our back.
    assert ann.status() == label


def test_one_connection_for_the_tabs_of_a_browser(new_context, server, wall_name):
    context = new_context()
    first = WallPage.open(context, server, wall_name).wait_live()
    second = WallPage.open(context, server, wall_name).wait_live()
    assert first.page.get_attribute("#wall", "data-connection") == "shared"

    # One socket for both tabs: the server counts one.
    first.expect_online(1)
    second.expect_online(1)
    first.post("from the first tab")
    second.wait_for_message("from the first tab", timeout=2_000)
    second.post("from the second tab")
    first.wait_for_message("from the second tab", timeout=2_000)
    walls = requests.get(server.url + "/api/walls", timeout=5).json()["walls"]
    assert [w["online"] for w in walls if w["name"] == wall_name] == [1]

    # Closing one tab keeps the connection for the other.
    second.page.close()
    first.post("still here")
    first.wait_for_message("still here")
    stranger = WallPage.open(new_context(), server, wall_name).wait_live()
    stranger.post("from another browser")
    first.wait_for_message("from another browser", timeout=2_000)
    first.expect_online(2)

    # The last tab of the browser goes: so does its connection.
    first.page.close()
    stranger.expect_online(1)


def test_each_tab_connects_on_its_own_with_shared_0(new_context, server, wall_name):
    context = new_context()
    first = WallPage.open(context, server, wall_name, "?shared=0").wait_live()
    second = WallPage.open(context, server, wall_name, "?shared=0").wait_live()
    assert first.page.get_attribute("#wall", "data-connection") == "own"
    first.expect_online(2)
    second.expect_online(2)
    second.post("two sockets, one wall")
    first.wait_for_message("two sockets, one wall", timeout=2_000)


def test_worker_routes_each_wall_to_its_tabs(new_context, server, wall_name):
    context = new_context()
    other_wall = wall_name + "-x"
    here = WallPage.open(context, server, wall_name).wait_live()
    there = WallPage.open(context, server, other_wall).wait_live()
    # A long-polling tab never shares the WebSocket tabs' worker.
    polling = WallPage.open(context, server, wall_name, "?transport=polling").wait_live()
    polling.expect_status("live (long-polling)")
    here.expect_status("live (WebSocket)")
    here.expect_online(2)
    there.expect_online(1)

    there.post("only for the other wall")
    here.post("only for this wall")
    polling.wait_for_message("only for this wall", timeout=2_000)
    there.wait_for_message("only for the other wall", timeout=2_000)
    here.wait_for_message("only for this wall")
    assert here.messages() == ["only for this wall"]
    assert there.messages() == ["only for the other wall"]

    # The worker leaves a wall no tab shows any more.
    there.page.goto("%s/w/%s" % (server.url, wall_name))
    WallPage(there.page).wait_live()
    expect(there.page.locator("#online")).to_have_text("2")

    def online(name):
        walls = requests.get(server.url + "/api/walls", timeout=5).json()["walls"]
        return {w["name"]: w["online"] for w in walls}.get(name)

    deadline = time.monotonic() + 5
    while online(other_wall) != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert online(other_wall) == 0
