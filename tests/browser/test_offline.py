"""Nothing lost: a stopped server, reloads, restarts and the rate limit."""

import re

import pytest
import requests
from playwright.sync_api import expect

from ..support.wallpage import NETWORK_ERRORS, PENDING, WallPage, id_key, seed, stored

pytestmark = pytest.mark.browser


def test_post_while_server_is_down_is_delivered_once(new_context, start_server, wall_name, rdb):
    server = start_server()
    ann = WallPage.open(new_context(), server, wall_name).wait_live()
    bob = WallPage.open(new_context(), server, wall_name).wait_live()

    server.kill()
    ann.expect_status(re.compile(r"^offline \(retrying"))
    ann.post("written while the server was down")
    expect(ann.page.locator(PENDING)).to_contain_text("sending…")
    [(client_id, state, message)] = ann.pending()
    assert (state, message) == ("sending…", "written while the server was down")
    ann.page.wait_for_timeout(1000)
    assert ann.pending()[0][1] == "sending…" and stored(rdb, wall_name) == []

    start_server(port=server.port)
    for page in (ann, bob):
        page.wait_live()
        page.wait_for_message("written while the server was down", timeout=10_000)
    # Delivered exactly once everywhere, and stored once, under its client_id.
    ann.page.wait_for_timeout(1500)
    assert ann.pending() == []
    assert ann.messages() == bob.messages() == ["written while the server was down"]
    [(_, fields)] = stored(rdb, wall_name)
    assert fields["c"] == client_id
    assert (
        ann.page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('wall.outbox.'))")
        == []
    )


def test_reload_while_sending_still_delivers(new_context, console, start_server, wall_name, rdb):
    # This tab's own connection, so that Playwright can block it: requests
    # of a SharedWorker are out of its reach.
    console.allow(NETWORK_ERRORS)
    context = new_context()
    server = start_server()
    page = WallPage.open(context, server, wall_name, "?shared=0").wait_live()

    server.kill()
    page.expect_status(re.compile(r"^offline"))
    page.post("survives a reload")
    [(client_id, state, _)] = page.pending()
    assert state == "sending…"

    # The server is back, but this browser can't reach its socket: the
    # reloaded page comes up with the post still waiting.
    context.route(re.compile(r"/socket\.io/"), lambda route: route.abort())
    start_server(port=server.port)
    page.page.reload()
    page.expect_status(re.compile(r"^offline"))
    assert page.pending() == [[client_id, "sending…", "survives a reload"]]
    assert stored(rdb, wall_name) == []

    context.unroute(re.compile(r"/socket\.io/"))
    page.page.click("#retry")  # "Retry now", rather than wait for the backoff
    page.wait_live()
    page.wait_for_message("survives a reload", timeout=10_000)
    page.page.wait_for_timeout(1000)
    assert page.messages() == ["survives a reload"] and page.pending() == []
    [(_, fields)] = stored(rdb, wall_name)
    assert fields["c"] == client_id


def test_rate_limited_post_waits_and_survives_reload(new_context, start_server, wall_name, rdb):
    server = start_server(env={"WALL_RATE_LIMITS": "on", "WALL_RATE_LIMIT_SOCKET": "2/4 seconds"})
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    for text in ("one", "two", "three"):
        page.post(text)
    page.wait_for_message("two")
    # The third is refused for now: it waits, "sending…", for retry_after.
    expect(page.page.locator(PENDING)).to_contain_text("sending…")
    [(client_id, _, message)] = page.pending()
    assert message == "three"

    page.page.reload()
    WallPage(page.page).wait_live()
    expect(page.page.locator(PENDING)).to_contain_text("sending…")
    page.wait_for_message("three", timeout=10_000)
    assert page.messages() == ["three", "two", "one"] and page.pending() == []
    assert [f["m"] for _, f in stored(rdb, wall_name)] == ["one", "two", "three"]
    assert stored(rdb, wall_name)[2][1]["c"] == client_id


def test_server_restart_reconnects_and_catches_up(new_context, start_server, wall_name, rdb):
    server = start_server()
    other = start_server()  # another process on the same Redis
    page = WallPage.open(new_context(), server, wall_name).wait_live()
    page.post("before the restart")
    page.wait_for_message("before the restart")

    server.stop()
    page.expect_status(re.compile(r"^offline \(retrying in \d+ s\)$"))
    # Others go on posting meanwhile: more than one join ack holds (200).
    seed(other, wall_name, ["meanwhile %03d" % i for i in range(230)], username="others")
    start_server(port=server.port)

    page.wait_live(timeout=15_000)
    page.wait_for_count(231, timeout=15_000)
    requests.post(
        "%s/api/walls/%s/posts" % (other.url, wall_name),
        json={"username": "others", "message": "live again"},
        timeout=5,
    ).raise_for_status()
    page.wait_for_message("live again")
    ids = page.ids()
    assert len(ids) == len(set(ids)) == 232
    assert ids == sorted(ids, key=id_key, reverse=True)
    assert ids == [i for i, _ in reversed(stored(rdb, wall_name))]
