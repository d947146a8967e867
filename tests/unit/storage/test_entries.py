"""Stream entries this version did not write are skipped, never half-built."""

import logging

import pytest

from wall import storage
from wall.storage.entries import Deletion, EntryLog, Skipped, parse
from wall.storage.posts import PostStore

from ...support.helpers import store_post


@pytest.mark.parametrize(
    "fields",
    [
        {"foo": "bar"},  # fields the wall does not use
        {"u": "only a name"},  # a field missing
        {"m": "only a message"},
        {"u": "ann", "m": "hi", "s": "pending"},  # a newer format
        {"u": "", "m": "empty name"},
        {"u": "ann", "m": "x" * 5000},
        {"u": "ann", "m": "hi", "c": "bad client id!"},
        {"u": "ann\udcff", "m": "not UTF-8"},  # what surrogateescape makes of bad bytes
        {"d": "not-an-id"},
        {"d": "1-0", "u": "tombstone and post"},
    ],
)
def test_entries_it_does_not_understand_are_skipped(fields):
    item = parse("w", "5-0", fields, EntryLog())
    assert isinstance(item, Skipped) and item.id == "5-0"


def test_its_own_entries_parse():
    post = parse("w", "5-1", {"u": "ann", "m": "hi", "c": "c-1"}, EntryLog())
    assert post == {
        "id": "5-1",
        "wall": "w",
        "username": "ann",
        "message": "hi",
        "ts": 5,
        "client_id": "c-1",
        "status": "visible",
        "pinned": False,
        "likes": 0,
        "rev": 0,
    }
    gone = parse("w", "6-0", {"d": "5-1"}, EntryLog())
    assert isinstance(gone, Deletion) and gone.post_id == "5-1"


def test_each_skipped_entry_is_logged_and_counted_once(caplog):
    counted = []
    entries = EntryLog(on_skip=lambda: counted.append(1))
    with caplog.at_level(logging.WARNING, logger="wall.storage.entries"):
        for _ in range(3):
            parse("w", "7-0", {"foo": "bar"}, entries)
        parse("w", "8-0", {"foo": "bar"}, entries)
    assert len(counted) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "wall w: stream entry 7-0 skipped: fields this version does not know: 'foo'",
        "wall w: stream entry 8-0 skipped: fields this version does not know: 'foo'",
    ]


@pytest.fixture
def store(redis_url):
    client = storage.connect(redis_url)
    yield PostStore(client, history=10000)
    client.close()


def test_reads_step_over_foreign_entries(store, rdb):
    first = store_post(store, "w", "ann", "one")[0]
    rdb.xadd("wall:posts:w", {"foo": "bar"})
    rdb.xadd("wall:posts:w", {"u": "only u"})
    rdb.xadd("wall:posts:w", {"u": b"\xff\xfe", "m": b"\xc3"})  # not UTF-8
    second = store_post(store, "w", "bob", "two")[0]
    assert [p["id"] for p in store.latest("w", 50).posts] == [first["id"], second["id"]]
    page = store.after("w", first["id"], 50)
    assert [p["id"] for p in page.posts] == [second["id"]] and page.deleted == []
    assert [p["id"] for p in store.before("w", second["id"], 50).posts] == [first["id"]]
