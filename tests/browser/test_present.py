"""The projector view (/w/<wall>/present) in Chromium at 1080p and 4K: live posts,
type sized for the back of a room, no scrollbars, the spotlight, the themes,
motion, and the join panel's QR code."""

import time

import pytest
from playwright.sync_api import expect

from ..support.managepage import create_wall
from ..support.presentpage import CARDS, SPOTLIGHT, PresentPage, decode_qr, organizer
from ..support.wallpage import WallPage, seed

pytestmark = pytest.mark.browser

SCREENS = pytest.mark.parametrize(
    "viewport, min_font",
    [({"width": 1920, "height": 1080}, 28), ({"width": 3840, "height": 2160}, 56)],
    ids=["1080p", "4k"],
)


@SCREENS
def test_a_post_from_another_browser_shows_within_a_second(
    new_context, server, wall_name, viewport, min_font
):
    seed(server, wall_name, ["already here"])
    screen = PresentPage.open(new_context(viewport=viewport), server, wall_name).wait_live()
    screen.wait_for_messages(["already here"])
    phone = WallPage.open(new_context(), server, wall_name).wait_live()
    screen.expect_online(2)

    phone.post("from a phone in the room", username="ann")
    started = time.monotonic()
    # The promise is one second; the budget allows two on a busy 2-core
    # machine, as test_live does (the typing is inside it as well).
    screen.wait_for_message("from a phone in the room", timeout=2_000)
    assert time.monotonic() - started < 2.0
    assert screen.messages() == ["from a phone in the room", "already here"]

    # Read from the back of the room, at 1080p and larger at 4K, and no
    # scrollbars either way.
    assert screen.font_size() >= min_font
    screen.assert_no_scrollbars()
    # The join panel: the address in large type, the QR code, the count.
    expect(screen.page.locator("#join-url")).to_have_text(
        server.url.split("://")[1] + "/w/" + wall_name
    )
    assert screen.font_size("#join-url") >= min_font
    assert screen.page.eval_on_selector("#join-qr", "img => img.complete && img.naturalWidth") > 0
    # Nothing to type into on the big screen (the passcode form stays hidden).
    assert screen.page.locator("input:visible, textarea:visible, button:visible").count() == 0


def test_only_what_fits_is_rendered_and_the_oldest_drop(new_context, server, wall_name):
    long = "A question that goes on for a while, as questions in a hall do. " * 6
    seed(server, wall_name, ["%02d %s" % (i, long) for i in range(30)])
    screen = PresentPage.open(
        new_context(viewport={"width": 1920, "height": 1080}), server, wall_name
    ).wait_live()
    screen.page.wait_for_function("() => document.querySelectorAll('#present-posts li').length > 0")
    screen.assert_no_scrollbars()
    shown = screen.messages()
    assert 2 <= len(shown) < 30
    # The newest, in order, each whole card inside the list's box.
    assert [m[:2] for m in shown] == ["%02d" % i for i in range(29, 29 - len(shown), -1)]
    inside = screen.page.eval_on_selector(
        "#present-posts",
        """list => {
            const box = list.getBoundingClientRect();
            return Array.from(list.children).every(li => {
                const r = li.getBoundingClientRect();
                return r.bottom <= box.bottom + 1 && r.right <= box.right + 1;
            });
        }""",
    )
    assert inside


def test_pinned_posts_are_spotlighted(new_context, server, wall_name):
    key = create_wall(server, wall_name, title="Ask the speaker")
    first, second, third = seed(server, wall_name, ["first", "second", "third"])
    screen = PresentPage.open(
        new_context(viewport={"width": 1920, "height": 1080}), server, wall_name
    ).wait_live()
    expect(screen.page.locator("#present-title")).to_have_text("Ask the speaker")
    screen.wait_for_messages(["third", "second", "first"])

    organizer(server, wall_name, key, "pin", first["id"])
    screen.wait_for_messages(["first"], selector=SPOTLIGHT)
    screen.wait_for_messages(["third", "second"])
    # Larger than the other posts, and marked.
    assert screen.font_size(SPOTLIGHT + " .present-message") > screen.font_size()
    expect(screen.page.locator(SPOTLIGHT + " .present-badge")).to_have_text("Pinned")

    # Two fit side by side, the newest pinned; a third leads the flow, marked.
    organizer(server, wall_name, key, "pin", second["id"])
    organizer(server, wall_name, key, "pin", third["id"])
    screen.wait_for_messages(["third", "second"], selector=SPOTLIGHT)
    screen.wait_for_messages(["first"])
    expect(screen.page.locator(CARDS + " .present-badge")).to_have_text("Pinned")

    for post in (first, second, third):
        organizer(server, wall_name, key, "unpin", post["id"])
    screen.wait_for_messages([], selector=SPOTLIGHT)
    screen.wait_for_messages(["third", "second", "first"])
    assert screen.ids() == [third["id"], second["id"], first["id"]]
    assert screen.page.locator(".present-badge").count() == 0


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_light_and_dark(new_context, server, wall_name, theme):
    query = "?theme=dark" if theme == "dark" else ""
    screen = PresentPage.open(
        new_context(viewport={"width": 1920, "height": 1080}), server, wall_name, query
    ).wait_live()
    assert screen.page.get_attribute("html", "data-theme") == theme
    background, text = screen.page.eval_on_selector(
        "#present",
        """el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]
            .map(c => c.match(/\\d+/g).slice(0, 3).reduce((a, b) => a + Number(b), 0) / 3)""",
    )
    if theme == "dark":
        assert background < 40 and text > 200
    else:
        assert background > 200 and text < 40


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_new_posts_come_in_with_an_animation_unless_reduced(new_context, server, wall_name, motion):
    seed(server, wall_name, ["history"])
    context = new_context(viewport={"width": 1920, "height": 1080}, reduced_motion=motion)
    screen = PresentPage.open(context, server, wall_name).wait_live()
    screen.wait_for_messages(["history"])
    # What animation each card added from now on starts with.
    screen.page.evaluate(
        """() => {
            window.__animations = [];
            new MutationObserver((records) => records.forEach(r => r.addedNodes.forEach(n => {
                window.__animations.push([n.className, getComputedStyle(n).animationName]);
            }))).observe(document.getElementById('present-posts'), {childList: true});
        }"""
    )
    seed(server, wall_name, ["live one"])
    screen.wait_for_messages(["live one", "history"])
    added = screen.page.evaluate("window.__animations")
    assert [name for name, _ in added] == ["present-post arrived"]
    expected = "none" if motion == "reduce" else "present-in"
    assert [animation for _, animation in added] == [expected]


def test_the_qr_code_decodes_to_the_wall_address(new_context, server, wall_name):
    screen = PresentPage.open(
        new_context(viewport={"width": 1920, "height": 1080}), server, wall_name
    ).wait_live()
    expect(screen.page.locator("#join-qr")).to_be_visible()
    assert decode_qr(screen.page.locator("#join-qr").screenshot()) == "%s/w/%s" % (
        server.url,
        wall_name,
    )


def test_the_qr_code_through_nginx_is_the_address_people_use(new_context, make_cluster, wall_name):
    cluster = make_cluster(n=1)
    screen = PresentPage.open(
        new_context(viewport={"width": 1920, "height": 1080}), cluster, wall_name
    ).wait_live()
    expect(screen.page.locator("#join-qr")).to_be_visible()
    expected = "%s/w/%s" % (cluster.url, wall_name)
    assert decode_qr(screen.page.locator("#join-qr").screenshot()) == expected
    expect(screen.page.locator("#join-url")).to_have_text(expected.split("://")[1])
