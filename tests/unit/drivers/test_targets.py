"""The drivers' target checks: every patch's targets hold in the installed
libraries, and a target that is missing or changed turns its patch off with
one warning instead of patching blind.

A dependency bump that changes anything a patch relies on fails
``test_every_target_holds_in_the_installed_libraries`` at once: read the
new source, adapt the patch if needed, and update the digest.
"""

import logging
import re

import pytest

from wall import drivers
from wall.drivers import Patch, Target, installed_version, replaces

drivers.status()  # loads every driver module, so that PATCHES is complete
ALL = sorted(drivers.PATCHES.values(), key=lambda p: p.name)
ALL_TARGETS = sorted(
    {(t.module, t.path): t for p in ALL for t in p.targets}.values(), key=lambda t: t.name
)


def test_there_is_a_patch_for_every_fast_path_and_hook():
    assert {p.name for p in ALL} >= {
        "socketio.emits",
        "socketio.sessions",
        "socketio.message_queue_liveness",
        "eventlet.direct_writes",
        "eventlet.buffered_reads",
        "eventlet.ping_timers",
        "eventlet.released_buffers",
        "eventlet.message_cap",
        "gevent.message_cap",
        "eventlet.no_tracebacks",
        "engineio.undecodable_messages",
        "engineio.closed_sessions",
        "socketio.reserved_events",
        "engineio.polling_refusals",
        "gevent.direct_writes",
        "gevent.ping_timers",
        "gevent.released_buffers",
        "gevent.inline_reads",
    }


@pytest.mark.parametrize("target", ALL_TARGETS, ids=lambda t: t.name)
def test_every_target_holds_in_the_installed_libraries(target):
    assert target.problem() is None, "%s (installed %s %s)" % (
        target.problem(),
        target.package,
        installed_version(target.package),
    )


@pytest.mark.parametrize("patch", ALL, ids=lambda p: p.name)
def test_every_patch_was_tested_against_the_installed_versions(patch):
    for package, version in patch.tested.items():
        assert installed_version(package) == version, (
            "%s was written against %s %s; %s is installed: check its targets, then "
            "update Patch.tested" % (patch.name, package, version, installed_version(package))
        )


def test_requirements_pin_the_patched_libraries_to_their_minor_versions():
    pins = {}
    with open("requirements.txt") as f:
        for line in f:
            match = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?([^#\s]*)", line)
            if match and match.group(1):
                pins[match.group(1).lower()] = match.group(2)
    for patch in ALL:
        for package, version in patch.tested.items():
            major, minor = version.split(".")[:2]
            assert pins[package] == ">=%s.%s,<%s.%d" % (major, minor, major, int(minor) + 1), (
                package,
                pins[package],
            )


def test_a_missing_target_turns_its_patch_off_with_one_warning(caplog):
    patch = Patch(
        "test.missing",
        "nothing",
        [
            Target("socketio.server", "Server._no_such_method", "python-socketio"),
        ],
        {"python-socketio": "5.18.1"},
    )
    try:
        with caplog.at_level(logging.WARNING, logger="wall.drivers"):
            assert patch.usable() is False
            assert patch.usable() is False
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1, warnings
        assert "test.missing" in warnings[0] and "Server._no_such_method" in warnings[0]
        assert "python-socketio %s" % installed_version("python-socketio") in warnings[0]
        assert patch.active is False
    finally:
        del drivers.PATCHES["test.missing"]


def test_a_changed_target_is_refused():
    changed = Target("socketio.server", "Server._send_packet", "python-socketio", "000000000000")
    assert "changed" in changed.problem()
    unmentioned = Target(
        "socketio.server", "Server._send_packet", "python-socketio", sets=("no_such_attribute",)
    )
    assert "no longer sets self.no_such_attribute" in unmentioned.problem()
    assert "cannot be imported" in Target("no.such.module", "x", "nobody").problem()


def test_a_replaced_function_is_still_checked_against_the_original():
    class Library:
        def method(self):
            return "original"

    original = Library.method

    @replaces(original)
    def patched(self):
        return "patched"

    Library.method = patched
    assert Library().method() == "patched"
    assert patched._wall_original is original
    # and a second replacement still points at the library's own
    assert replaces(patched)(lambda self: None)._wall_original is original
