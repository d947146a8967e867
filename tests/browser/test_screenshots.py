"""The page at desktop and phone width, saved to test-artifacts/ for people to look at."""

import os

import pytest

from ..support.wallpage import WallPage, seed

pytestmark = pytest.mark.browser

# Plain text and Hebrew only: Debian's Chromium has no colour emoji font.
CONVERSATION = [
    ("mira", "Morning all! Is the standup moved to 10:30 today?"),
    ("jonas", "Yes, 10:30. Room 4 is taken, so we're on the call."),
    (
        "sam",
        "Notes from yesterday:\n- deploy went fine\n- metrics dashboard is at "
        "https://example.org/dashboards/wall/production/overview?range=24h&refresh=30s",
    ),
    (
        "\u05e0\u05d5\u05e2\u05d4",
        "\u05d1\u05d5\u05e7\u05e8 \u05d8\u05d5\u05d1! I'll join from the train.",
    ),
    ("mira", "Thanks Sam!"),
]


@pytest.mark.parametrize(
    "name, viewport, scale",
    [("desktop", {"width": 1280, "height": 800}, 1), ("phone", {"width": 360, "height": 740}, 2)],
)
def test_screenshot(new_context, server, artifacts, name, viewport, scale):
    wall_name = "standup"  # this test's server and Redis are its own
    for username, message in CONVERSATION:
        seed(server, wall_name, [message], username=username)
    other = WallPage.open(new_context(), server, wall_name).wait_live()
    page = WallPage.open(
        new_context(viewport=viewport, device_scale_factor=scale), server, wall_name
    ).wait_live()
    page.wait_for_count(len(CONVERSATION))
    page.expect_online(2)
    page.page.fill("#username", "ana")
    page.page.fill("#message", "Running late, start without me")
    other.post("Who's bringing the coffee?", username="lee")
    page.wait_for_message("Who's bringing the coffee?")
    page.page.wait_for_timeout(2600)  # let the arrival highlight fade

    # Readable at this width: nothing sticks out sideways.
    assert page.page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    path = os.path.join(artifacts, "wall-%s.png" % name)
    page.page.screenshot(path=path)
    assert os.path.getsize(path) > 10_000
