"""The operator's commands: ``flask --app app wall ...`` against a real Redis."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest
import requests

from ..support.servers import clean_environ

pytestmark = pytest.mark.server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def flask(redis_url, *args):
    env = clean_environ()
    env.update(REDIS_URL=redis_url, WALL_ASYNC_MODE="threading")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "wall", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_create_key_export_list_through_the_same_code_as_the_api(
    redis_url, server, wall_name, tmp_path
):
    link = flask(
        redis_url, "create", wall_name, "--title", "Talk", "--base-url", server.url
    ).strip()
    assert link.startswith("%s/w/%s/manage#key=wk_" % (server.url, wall_name))
    key = link.split("#key=")[1]
    headers = {"Authorization": "Bearer " + key}
    settings = requests.get(
        server.url + "/api/walls/%s/settings" % wall_name, headers=headers, timeout=5
    )
    assert settings.json()["title"] == "Talk"
    for i in range(3):
        requests.post(
            server.url + "/api/walls/%s/posts" % wall_name,
            json={"username": "ann", "message": "m%d" % i},
            timeout=5,
        )
    second = flask(redis_url, "key", wall_name, "--label", "stage").strip()
    assert (
        requests.get(
            server.url + "/api/walls/%s/queue" % wall_name,
            timeout=5,
            headers={"Authorization": "Bearer " + second.split("#key=")[1]},
        ).status_code
        == 200
    )
    rows = list(csv.reader(io.StringIO(flask(redis_url, "export", wall_name).lstrip("\ufeff"))))
    assert rows[0] == ["id", "time", "username", "message", "status", "pinned"]
    assert [r[3] for r in rows[1:]] == ["m0", "m1", "m2"]
    # to a file, as the operator keeps it after the event
    out = tmp_path / "wall.json"
    assert flask(redis_url, "export", wall_name, "--format", "json", "--output", str(out)) == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["wall"] == wall_name
    assert [p["message"] for p in document["posts"]] == ["m0", "m1", "m2"]
    listing = flask(redis_url, "list")
    assert wall_name in listing and "3 posts" in listing and "organiser" in listing
    # a busy wall can be claimed by the operator, here: once
    again = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "wall", "create", wall_name],
        cwd=ROOT,
        env={**clean_environ(), "REDIS_URL": redis_url, "WALL_ASYNC_MODE": "threading"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode != 0 and "already has an organiser" in again.stderr
