"""The page at desktop and phone width, and the projector view at 1080p, saved to
test-artifacts/ for people to look at; with WALL_UPDATE_DOCS_SCREENSHOTS=1 also
to docs/, where the README shows them."""

import os
import shutil

import pytest

from ..support.browser import ROOT
from ..support.managepage import create_wall
from ..support.presentpage import PresentPage, organizer
from ..support.servers import WallClient
from ..support.wallpage import WallPage, seed

UPDATE_DOCS = os.environ.get("WALL_UPDATE_DOCS_SCREENSHOTS") == "1"

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
    if UPDATE_DOCS:
        # The README's pictures: refreshed on request, not by every run.
        shutil.copy(
            path, os.path.join(ROOT, "docs", "wall.png" if name == "desktop" else "wall-phone.png")
        )


QUESTIONS = [
    ("mira", "Will the slides be shared after the talk?", 4),
    ("jonas", "How does this compare to running it on one big server?", 3),
    ("sam", "Great talk, thank you!", 1),
    ("lee", "Can you say more about how two processes stay in order when Redis restarts?", 2),
    ("ana", "Is there a recording for those who joined late?", 0),
    ("kim", "What was the hardest bug you hit along the way?", 0),
    ("bo", "Which Redis version does it need?", 1),
]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_projector_screenshot(new_context, server, artifacts, theme):
    wall = "keynote"  # this test's server and Redis are its own
    key = create_wall(server, wall, title="Q&A: Building a live wall")
    posts = [seed(server, wall, [m], username=u)[0] for u, m, _ in QUESTIONS]
    fans = [WallClient(server).connect() for _ in range(4)]
    try:
        for post, (_, _, likes) in zip(posts, QUESTIONS):
            for fan in fans[:likes]:
                assert fan.call("like", {"wall": wall, "id": post["id"]})["ok"]
    finally:
        for fan in fans:
            fan.close()
    organizer(server, wall, key, "pin", posts[5]["id"])
    query = "?theme=dark" if theme == "dark" else ""
    screen = PresentPage.open(
        new_context(viewport={"width": 1920, "height": 1080}, reduced_motion="reduce"),
        server,
        wall,
        query,
    ).wait_live()
    screen.page.wait_for_function(
        "n => document.querySelectorAll('.present-post').length === n", arg=len(QUESTIONS)
    )
    screen.expect_online(1)
    screen.page.wait_for_function("() => document.getElementById('join-qr').naturalWidth > 0")
    screen.assert_no_scrollbars()
    path = os.path.join(artifacts, "present-%s.png" % theme)
    screen.page.screenshot(path=path)
    assert os.path.getsize(path) > 10_000
    if UPDATE_DOCS and theme == "light":
        shutil.copy(path, os.path.join(ROOT, "docs", "present.png"))
