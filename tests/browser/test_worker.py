"""The SharedWorker's own duties (issue 4): errors reach the tabs, dead tabs are dropped;
and a tab whose worker cannot start connects by itself."""

import time

import pytest
import requests

from ..support.wallpage import WallPage, seed

pytestmark = pytest.mark.browser

# Attaches one more port to the page's own worker, as a second tab would, and
# sends it a message no tab sends: a 'leave' whose wall cannot be turned into
# a string (structured clone keeps `toString: 0`, which is not callable), so
# the hub's String(msg.wall) throws a TypeError inside the worker's
# port.onmessage. Resolves with what the port received within a few seconds.
#
# The worker is found as the page finds it: by connection.js's own
# workerFor(), imported from the page's versioned URL (the same module the
# page runs), for the page's transport and namespace. The first message a
# hub sends a new client is its state, so 'live' with a session proves that
# this port joined the running worker and did not start a fresh one.
PROVOKE = """
async () => {
  const entry = document.querySelector('script[type="module"]').src;
  const { workerFor } = await import(new URL('./connection.js', entry).href);
  const config = document.getElementById('wall').dataset;
  const worker = workerFor('websocket', config.namespace || '/wall');
  const port = new SharedWorker(worker.url.href, { type: 'module', name: worker.name }).port;
  const received = [];
  let sent = false;
  await new Promise((resolve) => {
    port.onmessage = (event) => {
      const msg = event.data;
      received.push(msg);
      if (msg && msg.type === 'ping') port.postMessage({ type: 'pong' });
      if (!sent) {
        sent = true;
        port.postMessage({ type: 'leave', wall: { toString: 0, valueOf: 0 } });
      }
      if (msg && msg.type === 'error') resolve();
    };
    setTimeout(resolve, 5000);
  });
  return received;
}
"""

EXPECTED = "wall worker: TypeError: Cannot convert object to primitive value"


def test_errors_in_the_worker_reach_every_tabs_console(new_context, server, wall_name, console):
    # The error is the point of this test; anything else still fails it.
    console.allow(EXPECTED)
    context = new_context()
    here = WallPage.open(context, server, wall_name).wait_live()
    there = WallPage.open(context, server, wall_name + "-x").wait_live()
    assert here.page.get_attribute("#wall", "data-connection") == "shared"
    logged = {here.page: [], there.page: []}
    for page, messages in logged.items():

        def on_console(message, messages=messages):
            if message.type == "error":
                messages.append(message.text)

        page.on("console", on_console)

    received = here.page.evaluate(PROVOKE)

    state = received[0]
    assert state["type"] == "state" and state["state"] == "live" and state["session"], received
    errors = [m["message"] for m in received if m.get("type") == "error"]
    assert len(errors) == 1 and errors[0].startswith(EXPECTED), received
    assert "receive" in errors[0], "the stack names the hub's handler: " + errors[0]
    # Sent to every tab of the worker, and each logs it to its console. This
    # is what fails without the forwarding: without the worker's 'error'
    # listener (report) the exception stays in the worker's own console, which
    # neither the page nor Playwright's page.on("console") sees, so no port
    # gets a message; without WorkerLink's console.error the 'error' message
    # reaches the tab but goes to Connection.receive, which ignores it.
    for page, messages in logged.items():
        deadline = time.monotonic() + 5
        while not messages and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert len(messages) == 1 and messages[0].startswith(EXPECTED), (page.url, messages)

    # One bad message is one error: the worker and its connection carry on.
    seed(server, wall_name, ["after the error"])
    here.wait_for_message("after the error", timeout=5_000)
    assert here.status() == "live (WebSocket)"
    assert there.status() == "live (WebSocket)"


# As a browser without module workers would: `type: 'module'` is ignored, so
# the worker runs as a classic script and dies at its first `import`.
CLASSIC_WORKERS_ONLY = """
(() => {
  const Shared = window.SharedWorker;
  window.SharedWorker = function (url, options) {
    return new Shared(url, Object.assign({}, options, { type: 'classic' }));
  };
})();
"""


def test_a_worker_that_cannot_start_leaves_the_tab_a_connection_of_its_own(
    new_context, server, wall_name
):
    context = new_context()
    context.add_init_script(CLASSIC_WORKERS_ONLY)
    page = context.new_page()
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto("%s/w/%s" % (server.url, wall_name))
    tab = WallPage(page).wait_live()
    assert page.get_attribute("#wall", "data-connection") == "own"
    assert any(
        "the shared worker failed to start; connecting from this tab instead" in w for w in warnings
    ), warnings
    # The tab's own hub starts on long-polling and upgrades.
    tab.expect_status("live (WebSocket)")
    tab.post("sent without the worker")
    tab.wait_for_message("sent without the worker")
    seed(server, wall_name, ["and received"])
    tab.wait_for_message("and received", timeout=5_000)


def online(server):
    """{wall: online} of the walls that have posts."""
    walls = requests.get(server.url + "/api/walls", timeout=5).json()["walls"]
    return {w["name"]: w["online"] for w in walls}


def wait_online(server, wall, count, timeout):
    """Poll /api/walls until ``wall`` has ``count`` online; return the seconds it took."""
    started = time.monotonic()
    while online(server).get(wall) != count:
        assert time.monotonic() - started < timeout, "%s: online %s, not %s after %ss" % (
            wall,
            online(server).get(wall),
            count,
            timeout,
        )
        time.sleep(0.5)
    return time.monotonic() - started


# Records every data-state the status header shows from now on.
RECORD_STATES = """
() => {
  const status = document.getElementById('status');
  window.testStates = [status.dataset.state];
  new MutationObserver(() => window.testStates.push(status.dataset.state))
    .observe(status, { attributes: true, attributeFilter: ['data-state'] });
}
"""


@pytest.mark.heavy  # a long run: make test-heavy (.ci/run)
@pytest.mark.timeout(120)
def test_a_crashed_tab_does_not_keep_its_wall_joined(new_context, server, wall_name):
    wall_a, wall_b = wall_name + "-a", wall_name + "-b"
    # /api/walls lists only walls with posts.
    seed(server, wall_a, ["a0"])
    seed(server, wall_b, ["b0"])
    context = new_context()
    tab_a = WallPage.open(context, server, wall_a).wait_live()
    tab_b = WallPage.open(context, server, wall_b).wait_live()
    for tab in (tab_a, tab_b):
        assert tab.page.get_attribute("#wall", "data-connection") == "shared"
        tab.expect_online(1)
    wait_online(server, wall_b, 1, timeout=10)
    tab_a.page.evaluate(RECORD_STATES)

    # Tab B's renderer dies: no pagehide, so no 'bye' to the worker.
    crashed = []
    tab_b.page.on("crash", lambda page: crashed.append(page))
    cdp = context.new_cdp_session(tab_b.page)
    started = time.monotonic()
    try:
        cdp.send("Page.crash", timeout=2_000)
    except Exception:  # it never answers: the renderer is gone
        pass
    assert crashed, "tab B did not crash"

    # The worker pings every 10 s and drops, at a ping, a tab silent for more
    # than 35 s: at most 45 s after tab B last spoke (here its join, just
    # before the crash; ~40 s in practice), and presence tells within a second.
    wait_online(server, wall_b, 0, timeout=55 - (time.monotonic() - started))
    print("wall b left %.1f s after the crash" % (time.monotonic() - started))

    # Tab A never noticed: same worker, same connection, still on its wall.
    assert online(server)[wall_a] == 1
    seed(server, wall_a, ["after the crash"])
    tab_a.wait_for_message("after the crash", timeout=5_000)
    assert tab_a.page.evaluate("window.testStates") == ["live"], "tab A lost its connection"
    assert tab_a.status() == "live (WebSocket)"
