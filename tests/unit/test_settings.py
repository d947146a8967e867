"""wall/settings.py: every variable parsed and checked once; the README lists them all."""

import re

import pytest

from wall import create_app, stop_app
from wall.settings import SettingError, Settings

from ..support.helpers import make_config


def test_defaults():
    s = Settings.from_environ({})
    assert (s.host, s.port, s.async_mode, s.redis_url, s.default_wall) == (
        "127.0.0.1",
        5000,
        "eventlet",
        None,
        "main",
    )
    assert (s.history, s.rate_limits, s.max_connections, s.max_connections_per_ip) == (
        10000,
        True,
        5000,
        4000,
    )
    assert s.allowed_origins == [] and s.admin_token is None and s.proxy_fix == 0
    assert s.secret_key and not s.secret_key_set


def test_values_are_parsed():
    s = Settings.from_environ(
        {
            "PORT": "8000",
            "WALL_RATE_LIMITS": "off",
            "WALL_HISTORY": "50",
            "WALL_ALLOWED_ORIGINS": "https://a.example, https://b.example:8443",
            "WALL_PRESENCE_TIMEOUT": "2.5",
            "REDIS_URL": "redis://:pw@host:6380/1",
            "SECRET_KEY": "k",
            "WALL_LOG_LEVEL": "debug",
            "WALL_DEFAULT": " News ",
        }
    )
    assert (s.port, s.rate_limits, s.history, s.presence_timeout) == (8000, False, 50, 2.5)
    assert s.allowed_origins == ["https://a.example", "https://b.example:8443"]
    assert s.redis_url == "redis://:pw@host:6380/1" and s.secret_key_set
    assert s.log_level == "DEBUG" and s.default_wall == "news"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("WALL_ASYNC_MODE", "asyncio"),
        ("WALL_HISTORY", "0"),
        ("WALL_RATE_LIMITS", "maybe"),
        ("WALL_RATE_LIMIT_IP", "lots"),
        ("WALL_PRESENCE_TIMEOUT", "-1"),
        ("REDIS_URL", "http://redis"),
        ("WALL_DEFAULT", "no way"),
        ("WALL_ALLOWED_ORIGINS", "partner.example"),
        ("WALL_LOG_LEVEL", "LOUD"),
        ("WALL_REDIS_FSYNC", "never"),
        ("WALL_MAX_QUEUE", "-5"),
        ("WALL_ENV", "prod"),
    ],
)
def test_a_bad_value_refuses_to_start_naming_the_variable(variable, value):
    with pytest.raises(SettingError, match=re.escape(variable)):
        Settings.from_environ({variable: value})


def test_per_address_connections_never_above_the_process_limit():
    s = Settings.from_environ({"WALL_MAX_CONNECTIONS": "20"})
    assert s.max_connections_per_ip == 20
    assert s.notes == (
        "WALL_MAX_CONNECTIONS_PER_IP=4000 is above WALL_MAX_CONNECTIONS=20; using 20",
    )
    assert Settings.from_environ({}).notes == ()


@pytest.mark.timeout(30)
def test_the_app_warns_once_that_it_lowered_the_per_address_connections(redis_url, caplog):
    app = create_app(make_config(redis_url, MAX_CONNECTIONS=20))
    try:
        said = [
            (r.levelname, r.getMessage())
            for r in caplog.records
            if "WALL_MAX_CONNECTIONS_PER_IP" in r.getMessage()
        ]
        note = "WALL_MAX_CONNECTIONS_PER_IP=4000 is above WALL_MAX_CONNECTIONS=20; using 20"
        assert said == [("WARNING", note)]
    finally:
        stop_app(app)


def test_overrides_by_field_name():
    s = Settings.from_environ({}).replace({"REDIS_URL": "redis://x/0", "rate_limits": False})
    assert s.redis_url == "redis://x/0" and s.rate_limits is False
    with pytest.raises(SettingError, match="NO_SUCH"):
        Settings.from_environ({}).replace({"NO_SUCH": 1})


def test_the_readme_table_lists_exactly_the_settings():
    with open("README.md") as f:
        readme = f.read()
    table = readme[readme.index("## Configuration") :]
    table = table[: table.index("\n## ", 5)]
    listed = re.findall(r"^\| `([A-Z_]+)` \| `?([^|`]*)`? \|", table, re.M)
    names = [name for name, _ in listed]
    assert sorted(names) == sorted(v for v, _ in Settings.variables())
    defaults = dict(Settings.variables())
    for name, shown in listed:
        if defaults[name] and shown not in ("unset", "random per process"):
            assert shown.strip() == defaults[name], name
