"""wall/protocol.py mirrors docs/protocol.md: the names clients rely on."""

import re

from wall import protocol
from wall.errors import WallError

with open("docs/protocol.md") as f:
    DOC = f.read()


def test_every_event_of_the_doc_is_a_protocol_name_and_back():
    client = set(re.findall(r"^### client → `([^`]+)`", DOC, re.M))
    server = set(re.findall(r"^### server → `([^`]+)`", DOC, re.M))
    assert client == set(protocol.CLIENT_EVENTS)
    assert server == set(protocol.SERVER_EVENTS)


def test_every_error_code_of_the_doc_is_a_protocol_name_and_back():
    errors = DOC[DOC.index("## Errors") :]
    errors = errors[: errors.index("\n## ", 3)]
    codes = set(re.findall(r"^\| `([a-z_]+)` \|", errors, re.M))
    assert codes == set(protocol.ERROR_CODES)


def test_every_error_class_carries_a_documented_code_and_status():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    errors = DOC[DOC.index("## Errors") :]
    for cls in subclasses(WallError):
        assert cls.code in protocol.ERROR_CODES
        row = re.search(r"^\| `%s` \| ([^|]+) \|" % cls.code, errors, re.M)
        assert row, cls.code
        if cls.code != protocol.UNKNOWN_EVENT:
            assert str(cls.status) in row.group(1), (cls.code, row.group(1))


def test_the_namespaces_limits_and_health_statuses_are_in_the_doc():
    assert "namespace `%s`" % protocol.NAMESPACE in DOC
    assert "namespace `%s`" % protocol.SPEED_NAMESPACE in DOC
    assert "newest %d" % protocol.JOIN_POSTS in DOC
    assert "up to %d visible posts" % protocol.CATCH_UP_POSTS in DOC
    assert "more than %d entries behind" % protocol.RESYNC_BEHIND in DOC
    for status in (
        protocol.HEALTH_OK,
        protocol.HEALTH_UNAVAILABLE,
        protocol.HEALTH_DRAINING,
        protocol.HEALTH_DEGRADED,
    ):
        assert '"status": "%s"' % status in DOC
