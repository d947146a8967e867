"""The /speed page as a visitor runs it: headless Chromium, N round trips per method.

The page (templates/speed.html, static/js/speed.js) times N echoes each of
Socket.IO over WebSocket, Socket.IO over long-polling, a plain WebSocket and
fetch against the server it came from, one after another, and shows each
method's median, p95, round trips per second and bytes per round trip. Here
Playwright drives Debian's Chromium through the page's own form (no browser
is downloaded) and reads the results table, as issue 18 measured it by hand.

    .venv/bin/python -m bench --only speedpage --servers wall,wall-gevent
"""

import statistics

from tests.support.browser import CHROMIUM_ARGS, find_chromium

from .infra import BenchError

METHODS = ("sio-ws", "sio-polling", "ws", "fetch")
COLUMNS = ("total", "median", "p95", "rps", "bytes")

_READ_TABLE = """rows => Object.fromEntries(rows.map(row => [row.dataset.method,
    Object.fromEntries(Array.from(row.querySelectorAll('td[data-value]'),
        td => [td.classList[1], Number(td.dataset.value)]))]))"""


def run_one(url, rounds, runs, timeout_s=300.0):
    """``runs`` runs of ``rounds`` round trips per method on ``url``/speed.

    :return: ``{"runs": [{method: {column: value}}], "median_ms": {method:
        median of the runs' medians}, "rps": {...}, "bytes": {...}, "ratios": {...}}``
    """
    path = find_chromium()
    if path is None:
        raise BenchError("no Chromium: install Debian's chromium package or set WALL_CHROMIUM")
    from playwright.sync_api import expect, sync_playwright

    results = []
    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_context().new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url + "/speed")
            expect(page.locator("#speed")).to_have_attribute("data-ready", "true")
            for number in range(1, runs + 1):
                page.fill("#rounds", str(rounds))
                page.click("#run")
                expect(page.locator("#run-status")).to_contain_text(
                    "Run %d done" % number, timeout=timeout_s * 1000
                )
                table = page.eval_on_selector_all("#results-body tr", _READ_TABLE)
                if sorted(table) != sorted(METHODS) or any(
                    set(row) != set(COLUMNS) for row in table.values()
                ):
                    raise BenchError("the /speed page's results table changed: %r" % table)
                results.append(table)
        finally:
            browser.close()
    if errors:
        raise BenchError("the /speed page failed: %s" % "; ".join(errors[:3]))
    return summary(results, rounds)


def summary(results, rounds):
    """The runs' medians per method and the ratios issue 18 asks about."""

    def med(method, column):
        return statistics.median(run[method][column] for run in results)

    median_ms = {m: med(m, "median") for m in METHODS}
    return {
        "rounds": rounds,
        "runs": results,
        "median_ms": median_ms,
        "rps": {m: med(m, "rps") for m in METHODS},
        "bytes": {m: med(m, "bytes") for m in METHODS},
        "ratios": {
            # target: at most 1.2 (within 1.2x of the plain WebSocket's round trip)
            "sio_ws_over_ws": median_ms["sio-ws"] / median_ms["ws"],
            # target: at least 5 (Socket.IO seen 5x faster than AJAX)
            "fetch_over_sio_ws": median_ms["fetch"] / median_ms["sio-ws"],
        },
    }
