"""How many sessions a process admits under an open-file limit, and the
garbage collector it serves with (wall/serve.py)."""

import gc
import warnings

from wall import drivers
from wall.drivers import eventlet, gevent
from wall.serve import FILE_RESERVE, GC_THRESHOLDS, sessions_within, tune_garbage_collector


def test_the_sessions_an_open_file_limit_leaves_room_for():
    assert sessions_within(20_000, 1) == 20_000 - FILE_RESERVE
    assert sessions_within(20_000, 2) == (20_000 - FILE_RESERVE) // 2
    assert sessions_within(FILE_RESERVE, 2) == 1  # never none: the gate still answers


def test_every_web_server_says_what_a_session_costs_in_open_files(monkeypatch):
    # gevent's WebSockets are dup()ed by simple-websocket: two files each,
    # one once the request's own socket is closed at the upgrade
    monkeypatch.setattr(gevent.RELEASED_BUFFERS, "active", False)
    assert gevent.Serving().files_per_session == 2
    monkeypatch.setattr(gevent.RELEASED_BUFFERS, "active", True)
    assert gevent.Serving().files_per_session == 1
    assert eventlet.Serving.files_per_session == 1
    assert drivers.WerkzeugServing.files_per_session == 2


def test_the_collector_is_tuned_for_serving():
    before = gc.get_threshold()
    with warnings.catch_warnings():
        # earlier tests' garbage, finalised here, is not this test's business
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    try:
        frozen = tune_garbage_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > before[0]  # rarer young, hence full, collections
        assert frozen == gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
