"""Private walls in the browser: the passcode prompt on the wall page and on the
projector, wrong passcodes and their limit, and a new passcode sending the page
back to the prompt; over WebSocket and over long-polling."""

import pytest
from playwright.sync_api import expect

from ..support.managepage import change_settings, create_wall
from ..support.presentpage import PresentPage
from ..support.wallpage import WallPage, seed

pytestmark = pytest.mark.browser

TRANSPORTS = pytest.mark.parametrize(
    "query", ["", "?transport=polling"], ids=["websocket", "polling"]
)
PASSCODE = "open sesame"
# What Chromium logs by itself for the answers to wrong passcodes.
REFUSED = r"Failed to load resource: the server responded with a status of (403|429)"


def private_wall(server, wall, messages=()):
    """A wall with an organiser, its posts, then made private; returns the key."""
    key = create_wall(server, wall)
    seed(server, wall, list(messages))
    change_settings(server, wall, key, visibility="private", passcode=PASSCODE)
    return key


def unlock(page, passcode):
    page.fill("#passcode", passcode)
    page.press("#passcode", "Enter")


@TRANSPORTS
def test_the_passcode_opens_the_wall(new_context, console, start_server, wall_name, query):
    console.allow(REFUSED)
    one, two = start_server(), start_server()
    key = private_wall(one, wall_name, ["for the room only"])
    page = WallPage.open(new_context(), two, wall_name, query).wait_live()
    prompt = page.page.locator("#unlock")
    expect(prompt).to_be_visible()
    expect(page.page.locator("#passcode")).to_be_focused()
    expect(page.page.locator("#wall-body")).to_be_hidden()
    expect(page.page.locator(".unlock-title")).to_have_text("This wall is private")
    expect(page.page.locator("#unlock-hint")).to_contain_text("Enter its passcode")
    assert page.messages() == []

    unlock(page.page, "wrong guess")
    expect(page.page.locator("#unlock-error")).to_have_text("That passcode is wrong.")
    expect(page.page.locator("#passcode")).to_have_attribute("aria-invalid", "true")
    assert page.messages() == []

    unlock(page.page, PASSCODE)
    page.wait_for_message("for the room only")
    expect(prompt).to_be_hidden()
    expect(page.page.locator("#wall-body")).to_be_visible()
    page.wait_live()
    page.post("posted behind the passcode")
    page.wait_for_message("posted behind the passcode")

    # A new passcode: the server takes the page off the wall, it asks again.
    change_settings(one, wall_name, key, passcode="a new one")
    expect(prompt).to_be_visible()
    expect(page.page.locator("#unlock-hint")).to_contain_text("changed who may see")
    expect(page.page.locator("#wall-body")).to_be_hidden()
    unlock(page.page, "a new one")
    expect(prompt).to_be_hidden()
    page.wait_for_message("posted behind the passcode")
    assert page.messages() == ["posted behind the passcode", "for the room only"]

    # Public again: a reload shows it without asking.
    change_settings(one, wall_name, key, visibility="public")
    page.page.reload()
    WallPage(page.page).wait_live()
    page.wait_for_message("for the room only")
    expect(prompt).to_be_hidden()


def test_wrong_passcodes_are_limited(new_context, console, start_server, wall_name):
    console.allow(REFUSED)
    server = start_server(env={"WALL_RATE_LIMITS": "on", "WALL_RATE_LIMIT_PASSCODES": "2/minute"})
    private_wall(server, wall_name, ["secret"])
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    expect(page.page.locator("#unlock")).to_be_visible()
    for guess in ("nope one", "nope two"):
        unlock(page.page, guess)
        expect(page.page.locator("#unlock-error")).to_have_text("That passcode is wrong.")
        page.page.fill("#passcode", "")  # clears the error, so the next one shows anew
        expect(page.page.locator("#unlock-error")).to_have_text("")
    unlock(page.page, "nope three")
    expect(page.page.locator("#unlock-error")).to_contain_text("Too many wrong passcodes")
    assert page.messages() == []


@TRANSPORTS
def test_the_projector_asks_once_then_runs(new_context, server, wall_name, query):
    private_wall(server, wall_name, ["on the big screen"])
    context = new_context(viewport={"width": 1920, "height": 1080})
    screen = PresentPage.open(context, server, wall_name, query).wait_live()
    expect(screen.page.locator("#unlock")).to_be_visible()
    expect(screen.page.locator("#join-private")).to_be_hidden()  # settings come with the grant
    assert screen.messages() == []
    unlock(screen.page, PASSCODE)
    screen.wait_for_messages(["on the big screen"])
    expect(screen.page.locator("#unlock")).to_be_hidden()
    expect(screen.page.locator("#join-private")).to_be_visible()
    screen.assert_no_scrollbars()

    # The grant is a cookie of this browser: the screen comes back by itself.
    screen.page.reload()
    screen.wait_live()
    screen.wait_for_messages(["on the big screen"])
    expect(screen.page.locator("#unlock")).to_be_hidden()
