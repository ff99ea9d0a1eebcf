"""Test-harness helpers that act as the database owner would.

The append-only and locking triggers refuse DELETE and TRUNCATE, which is also
how Django empties tables between transactional tests. The harness, like an
owner running maintenance, suspends every trigger for the length of a block.
"""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def triggers_suspended():
    """Run the block with the database's triggers switched off, then restore them."""
    if connection.vendor == "postgresql":
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
