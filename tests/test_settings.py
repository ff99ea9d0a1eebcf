"""Configuration fails loudly and clearly; checked in a fresh interpreter each time."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_settings(show: str = "s.DATABASES['default']['ENGINE'], s.DEBUG, s.TIME_ZONE", **env):
    unset = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DATABASE_REPLICA_URL", "TIME_ZONE", "DEMO_MODE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    clean.update(env)
    code = f"import clinic.settings as s; print({show})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_secret_key_is_required_when_debug_is_off():
    result = _load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_sqlite_is_the_default_and_postgresql_is_chosen_by_database_url():
    assert _load_settings(SECRET_KEY="x").stdout.split()[0] == "django.db.backends.sqlite3"
    pg = _load_settings(SECRET_KEY="x", DATABASE_URL="postgres://u@db.example:5432/clinic")
    assert pg.stdout.split()[0] == "django.db.backends.postgresql"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE must be an IANA zone name"),
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL"),
    ],
)
def test_bad_values_fail_with_a_message_naming_the_variable(env, message):
    result = _load_settings(SECRET_KEY="x", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_time_zone_is_the_clinics():
    assert _load_settings(SECRET_KEY="x", TIME_ZONE="Europe/Dublin").stdout.split()[2] == "Europe/Dublin"


def test_only_demo_mode_exempts_the_demo_accounts_from_the_second_factor():
    from records.management.demo.data import DEMO_ACCOUNTS

    show = "' '.join(s.MFA_EXEMPT_USERNAMES) or '-'"
    assert _load_settings(show, SECRET_KEY="x").stdout.split() == ["-"]
    assert _load_settings(show, SECRET_KEY="x", DEMO_MODE="0").stdout.split() == ["-"]
    demo = _load_settings(show, SECRET_KEY="x", DEMO_MODE="1").stdout.split()
    assert sorted(demo) == sorted(username for username, *_ in DEMO_ACCOUNTS)


def test_a_replica_is_configured_by_its_url_and_never_gets_a_test_database_of_its_own():
    shown = "s.DATABASES['replica']['HOST'], s.DATABASES['replica']['TEST'], s.DATABASE_ROUTERS[-1]"
    result = _load_settings(
        shown,
        SECRET_KEY="x",
        DATABASE_URL="postgres://u@primary.example:5432/clinic",
        DATABASE_REPLICA_URL="postgres://u@replica.example:5432/clinic",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(" ", 1)[0] == "replica.example"
    assert "{'MIRROR': 'default'}" in result.stdout and "ReplicaRouter" in result.stdout
    without = _load_settings("'replica' in s.DATABASES", SECRET_KEY="x", DATABASE_URL="postgres://u@db/clinic")
    assert without.stdout.strip() == "False"


def test_a_replica_needs_a_postgresql_primary():
    result = _load_settings(SECRET_KEY="x", DATABASE_REPLICA_URL="postgres://u@replica.example:5432/clinic")
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL needs DATABASE_URL to name PostgreSQL too" in result.stderr


def test_caches_that_hold_shared_state_are_the_databases():
    shown = "s.CACHES['default']['BACKEND'], s.CACHES['ratelimit']['BACKEND'], s.SESSION_ENGINE"
    backends = _load_settings(shown, SECRET_KEY="x").stdout.split()
    assert backends == [
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.db.DatabaseCache",
        "django.contrib.sessions.backends.db",
    ]
