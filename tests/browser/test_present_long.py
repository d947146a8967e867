"""The projector view over a long run: it reconnects and catches up by itself
(server restart, Redis restart, `resync`), never reloads, keeps its DOM and its
model bounded whatever arrives, and follows the likes in ?sort=popular."""

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ..support.managepage import change_settings, create_wall
from ..support.presentpage import PresentPage, delete_post, organizer, visible_ids
from ..support.servers import WallClient
from ..support.wallpage import NETWORK_ERRORS, seed, stored

pytestmark = pytest.mark.browser

SCREEN = {"width": 1920, "height": 1080}
# the restarts at both sizes the room sees (a 4K screen lays out more posts)
SCREENS = pytest.mark.parametrize(
    "screen_size", [SCREEN, {"width": 3840, "height": 2160}], ids=["1080p", "4k"]
)


def post_until_acked(url, wall, message, deadline=30):
    """POST with one client_id until stored, as the page's outbox retries."""
    client_id = uuid.uuid4().hex
    end = time.monotonic() + deadline
    while True:
        try:
            reply = requests.post(
                "%s/api/walls/%s/posts" % (url, wall),
                json={"username": "room", "message": message, "client_id": client_id},
                timeout=5,
            )
            if reply.status_code in (200, 201):
                return reply.json()["post"]
        except requests.RequestException:
            pass
        assert time.monotonic() < end, "never stored: %r" % message
        time.sleep(0.2)


@pytest.mark.timeout(120)
@SCREENS
def test_a_server_restart_catches_up_exactly_without_a_reload(
    new_context, console, start_server, wall_name, screen_size
):
    console.allow(NETWORK_ERRORS)
    server, other = start_server(), start_server()  # two processes, one Redis
    key = create_wall(server, wall_name)
    to_hide, to_delete, stays = seed(server, wall_name, ["to hide", "to delete", "stays"])
    screen = PresentPage.open(new_context(viewport=screen_size), server, wall_name).wait_live()
    screen.wait_for_messages(["stays", "to delete", "to hide"])
    screen.mark()

    server.stop()
    screen.page.wait_for_function(
        "() => document.getElementById('present').dataset.state !== 'live'"
    )
    # Meanwhile, on the other process: moderation, and posts held and approved.
    organizer(other, wall_name, key, "hide", to_hide["id"])
    delete_post(other, wall_name, key, to_delete["id"])
    change_settings(other, wall_name, key, moderation="approve")
    [approved, held] = seed(other, wall_name, ["approved while away", "still held"])
    organizer(other, wall_name, key, "approve", approved["id"])
    change_settings(other, wall_name, key, moderation="open")
    seed(other, wall_name, ["posted while away"])

    start_server(port=server.port)
    screen.wait_live(timeout=20_000)
    screen.wait_for_messages(["posted while away", "approved while away", "stays"], timeout=15_000)
    seed(other, wall_name, ["live again"])
    screen.wait_for_messages(
        ["live again", "posted while away", "approved while away", "stays"], timeout=10_000
    )
    assert screen.ids() == visible_ids(other, wall_name)
    assert held["id"] not in screen.ids()
    assert screen.still_marked(), "the page reloaded"


@pytest.mark.timeout(120)
@SCREENS
def test_a_redis_restart_loses_and_doubles_nothing(
    new_context, own_redis, start_server, wall_name, screen_size
):
    server = start_server(redis=own_redis.url)
    seed(server, wall_name, ["before %d" % i for i in range(3)])
    screen = PresentPage.open(new_context(viewport=screen_size), server, wall_name).wait_live()
    screen.wait_for_messages(["before 2", "before 1", "before 0"])
    screen.mark()

    own_redis.kill()
    reply = requests.post(
        "%s/api/walls/%s/posts" % (server.url, wall_name),
        json={"username": "room", "message": "refused"},
        timeout=10,
    )
    assert reply.status_code == 503, reply.text
    own_redis.restart()
    after = [post_until_acked(server.url, wall_name, "after %d" % i) for i in range(3)]

    want = ["after 2", "after 1", "after 0", "before 2", "before 1", "before 0"]
    screen.wait_for_messages(want, timeout=30_000)
    screen.wait_live()
    ids = screen.ids()
    assert len(ids) == len(set(ids)) == 6
    assert ids == visible_ids(server, wall_name)
    assert ids[0] == after[-1]["id"]
    assert screen.still_marked(), "the page reloaded"


@pytest.mark.timeout(150)
def test_resync_shows_the_newest_afresh_without_a_reload(new_context, start_server, wall_name, rdb):
    # As tests/browser/test_resync.py, on the projector: process 2 frozen
    # while retention trims past it, so it sends `resync` when it thaws.
    env = {"WALL_HISTORY": "50"}
    one, two = start_server(env=env), start_server(env=env)
    seed(one, wall_name, ["seen"])
    screen = PresentPage.open(new_context(viewport=SCREEN), two, wall_name, "?shared=0").wait_live()
    screen.wait_for_messages(["seen"])
    screen.mark()

    os.kill(two.process.pid, signal.SIGSTOP)
    try:
        with requests.Session() as http:
            for i in range(300):
                http.post(
                    "%s/api/walls/%s/posts" % (one.url, wall_name),
                    json={"username": "bob", "message": "flood %03d" % i},
                    timeout=5,
                ).raise_for_status()
    finally:
        os.kill(two.process.pid, signal.SIGCONT)
    kept = [i for i, _ in reversed(stored(rdb, wall_name))]
    assert len(kept) < 300, "retention did not trim; the test proves nothing"

    screen.page.wait_for_function(
        """newest => {
            const first = document.querySelector('#present-posts li');
            return first && first.dataset.id === newest;
        }""",
        arg=kept[0],
        timeout=20_000,
    )
    ids = screen.ids()
    assert ids == kept[: len(ids)] and len(ids) > 3
    assert "seen" not in screen.messages()
    assert screen.still_marked(), "the page reloaded"


@pytest.mark.heavy  # thousands of posts: make test-heavy (.ci/run)
@pytest.mark.timeout(240)
def test_the_dom_and_memory_stay_bounded_after_thousands_of_posts(new_context, server, wall_name):
    # The tab's own connection (?shared=0), so that the socket and its hub
    # are in the heap measured here too, not in a shared worker.
    screen = PresentPage.open(new_context(viewport=SCREEN), server, wall_name, "?shared=0")
    screen.wait_live()
    screen.mark()
    cdp = screen.page.context.new_cdp_session(screen.page)
    url = "%s/api/walls/%s/posts" % (server.url, wall_name)
    # Long messages, so that a model or DOM that kept every post would show
    # in the heap: 1,500 of them are well over a megabyte.
    filler = " and then some more words, as people in a hall write" * 16

    def send(batch):
        with requests.Session() as http:
            for i in batch:
                reply = http.post(
                    url,
                    json={"username": "u%d" % (i % 50), "message": "post %04d%s" % (i, filler)},
                    timeout=10,
                )
                assert reply.status_code == 201, reply.text

    def flood(first, n):
        """n posts from 6 senders at once (oldest first within each), all shown."""
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(send, [range(first + k, first + n, 6) for k in range(6)]))
        newest = visible_ids(server, wall_name)[0]
        screen.page.wait_for_function(
            """newest => {
                const first = document.querySelector('#present-posts li');
                return first && first.dataset.id === newest;
            }""",
            arg=newest,
            timeout=60_000,
        )
        assert screen.elements() < 4000
        assert screen.held() <= 250  # the model: MODEL_MAX plus its trimming slack
        screen.assert_no_scrollbars()
        cdp.send("HeapProfiler.collectGarbage")
        return cdp.send("Runtime.getHeapUsage")["usedSize"]

    first = flood(0, 1500)
    second = flood(1500, 1500)
    # Flat: the second 1,500 posts leave the heap where the first did
    # (with room for the allocator's noise, far under what they weigh).
    assert second - first < 512 * 1024, (first, second)
    ids = screen.ids()
    assert ids == visible_ids(server, wall_name)[: len(ids)]
    assert screen.still_marked()


@pytest.mark.timeout(120)
def test_popular_orders_by_likes_live(new_context, server, wall_name):
    posts = seed(server, wall_name, ["a", "b", "c", "d"])
    by = {p["message"]: p["id"] for p in posts}
    fans = [WallClient(server).connect() for _ in range(6)]
    try:

        def like(message, n):
            for fan in fans[:n]:
                reply = fan.call("like", {"wall": wall_name, "id": by[message]})
                assert reply["ok"] and reply["liked"], reply

        like("c", 3)
        like("a", 2)
        like("d", 1)
        screen = PresentPage.open(
            new_context(viewport=SCREEN), server, wall_name, "?sort=popular"
        ).wait_live()
        screen.wait_for_messages(["c", "a", "d", "b"])
        assert screen.likes() == [3, 2, 1, 0]
        assert screen.page.is_visible("#present-sort")

        # Live: b overtakes everyone; a new post goes where its count puts it.
        like("b", 5)
        screen.wait_for_messages(["b", "c", "a", "d"], timeout=5_000)
        assert screen.likes() == [5, 3, 2, 1]
        seed(server, wall_name, ["e"])
        screen.wait_for_messages(["b", "c", "a", "d", "e"])
        reply = fans[0].call("unlike", {"wall": wall_name, "id": by["b"]})
        assert reply["likes"] == 4
        screen.page.wait_for_function(
            "() => document.querySelector('#present-posts .present-likes').textContent.endsWith(' 4')",
            timeout=5_000,
        )
        # The same order as the server's.
        popular = requests.get(
            "%s/api/walls/%s/posts?sort=popular" % (server.url, wall_name), timeout=5
        ).json()["posts"]
        assert screen.ids() == [p["id"] for p in popular]
        assert screen.likes() == [p["likes"] for p in popular]
    finally:
        for fan in fans:
            fan.close()
