"""Test-harness helpers that act as the database owner would, and the switch to the application role.

The append-only and locking triggers refuse DELETE and TRUNCATE, which is also
how Django empties tables between transactional tests. The harness, like an
owner running maintenance, suspends every trigger for the length of a block.
"""

import os
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

# With TEST_APP_ROLE set (PostgreSQL only), the tests of what the clinic's server does (APP_ROLE_TESTS)
# act as that application role, with the deployment's grants (deploy/postgres/grants.sql), as the
# server does; the rest of the run acts as the test runner's own account: tests/conftest.py.
APP_ROLE = os.environ.get("TEST_APP_ROLE", "")
GRANTS = Path(settings.BASE_DIR) / "deploy" / "postgres" / "grants.sql"
# Everything that writes through the actions, the database's guards, and the background tasks (the
# queue and cache tables the web processes and the worker write).
APP_ROLE_TESTS = (
    "tests/actions/",
    "tests/test_database_guards.py",
    "tests/test_background_tasks.py",
    "tests/views/test_health.py",
)
_ROLE_MARK = "_clinic_acts_as_app_role"  # on a raw connection that was made to act as the role
_acting = False  # whether the current test acts as the application role


def act_as_app_role(db_connection) -> None:
    """Make `db_connection` act as the application role (a SET ROLE for the rest of its session)."""
    from psycopg import sql

    with db_connection.cursor() as cursor:
        cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))
    setattr(db_connection.connection, _ROLE_MARK, True)


def _reset_role(db_connection) -> None:
    with db_connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    setattr(db_connection.connection, _ROLE_MARK, False)


def role_for_the_test(sender, connection, **kwargs) -> None:
    """connection_created: a connection (new, or taken from the pool, where it keeps its session's
    role) acts as the application role in a test that does, and as the owner in any other."""
    if _acting:
        act_as_app_role(connection)
    elif getattr(connection.connection, _ROLE_MARK, False):
        _reset_role(connection)


@contextmanager
def acting_as_app_role():
    """The block acts as the application role: this thread's connection and every one made meanwhile.

    Afterwards this thread's connection acts as the owner again. In a test's transaction that an
    error has aborted, the RESET cannot run; the role was set inside that transaction and goes with
    its rollback.
    """
    from django.db import DatabaseError

    global _acting
    _acting = True
    act_as_app_role(connection)
    try:
        yield
    finally:
        _acting = False
        if connection.connection is not None:
            try:
                _reset_role(connection)
            except DatabaseError:
                if not connection.in_atomic_block:
                    raise


def grant_app_role() -> None:
    """Apply the deployment's grants to APP_ROLE in the test database, as `make pg-roles` does."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('clinic.app_role', %s, false)", [APP_ROLE])
        cursor.execute(GRANTS.read_text())


@contextmanager
def as_owner():
    """Run the block as the database's owner (the test runner's own account), not the application role.

    For what only the owner does: emptying tables between transactional tests, switching
    triggers off, granting. Outside a test that acts as the application role, it already is.
    """
    if not _acting:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        act_as_app_role(connection)


@contextmanager
def triggers_suspended():
    """Run the block with the database's triggers switched off, then restore them."""
    if connection.vendor == "postgresql":
        with as_owner():
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
            try:
                yield
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = DEFAULT")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for _, sql in triggers:
                    cursor.execute(sql)
    else:
        raise NotImplementedError(connection.vendor)


def rows_kept_for_the_module(django_db_blocker, moment, make):
    """Yield what `make(clock)` returns, made once at `moment` and rolled back after the module's last test.

    For a module-scoped fixture. The rows are made in a transaction left open for the module; each
    test runs in a savepoint inside it (pytest-django's own transaction, as usual), so what a test
    writes is gone before the next, and every test sees the rows as they were made. `make` should
    return primary keys, not instances, so that no test shares another's objects in memory; and use
    names of its own, so that the usual function fixtures (`nurse`, `patient`) still work beside it.
    Not for a module with transactional tests (their commits and flushes need no open transaction), nor
    one whose tests count rows of the whole table.
    """
    import time_machine
    from django.db import connections, transaction

    aliases = list(connections)
    with django_db_blocker.unblock():
        atomics = [transaction.atomic(using=alias) for alias in aliases]
        for atomic in atomics:
            atomic.__enter__()
        with time_machine.travel(moment, tick=True) as clock:
            made = make(clock)
    try:
        yield made
    finally:
        with django_db_blocker.unblock():
            for alias, atomic in reversed(list(zip(aliases, atomics, strict=True))):
                transaction.set_rollback(True, using=alias)
                atomic.__exit__(None, None, None)
