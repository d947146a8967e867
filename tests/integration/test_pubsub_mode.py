"""WALL_DELIVERY=pubsub, the at-most-once path kept only to measure the stream's cost."""

import pytest

from ..helpers import wait_for

pytestmark = pytest.mark.server


def test_pubsub_mode_delivers_across_processes(start_server, make_client, wall_name):
    env = {"WALL_DELIVERY": "pubsub"}
    one, two = start_server(env=env), start_server(env=env)
    a, b = make_client(one), make_client(two, "polling")
    a.join(wall_name)
    b.join(wall_name)
    post = a.post(wall_name, "over pub/sub")["post"]
    wait_for(lambda: a.ids() == [post["id"]] and b.ids() == [post["id"]])
