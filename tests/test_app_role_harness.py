"""With TEST_APP_ROLE (CI's PostgreSQL run), the tests in tests.dbtools.APP_ROLE_TESTS act as the
application role and every other test as the test runner's own account, in the same run.

A pooled connection keeps its session's role when it goes back to the pool: the harness must put
it back to the owner before a test that is not the role's takes it, or that test would run with
the role's few grants (and an action test could pass as the owner).
"""

import threading

import pytest
from django.db import connection, connections

from tests.dbtools import APP_ROLE, acting_as_app_role

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not APP_ROLE, reason="Only when the tests act as the application role (TEST_APP_ROLE)"),
]


def roles() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        return cursor.fetchone()


def roles_in_a_thread() -> tuple[str, str]:
    """The roles of a connection another thread takes (from the pool, once one has gone back to it)."""
    found = []

    def read():
        try:
            found.append(roles())
        finally:
            connections.close_all()  # back to the pool, with whatever role it has

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return found[0]


def test_a_test_outside_the_application_roles_tests_acts_as_the_owner():
    current, session = roles()
    assert current == session != APP_ROLE


def test_a_connection_back_from_a_test_of_the_role_acts_as_the_owner_again():
    with acting_as_app_role():
        assert roles()[0] == APP_ROLE
        assert roles_in_a_thread()[0] == APP_ROLE
    for _ in range(3):  # whichever pooled connection the thread is given
        current, session = roles_in_a_thread()
        assert current == session != APP_ROLE
    assert roles()[0] != APP_ROLE
