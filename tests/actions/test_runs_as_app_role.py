"""Under TEST_APP_ROLE (CI's PostgreSQL run as the application role), the action tests really act as that role.

Skipped otherwise. Without this, a harness that forgot its SET ROLE would pass every action
test as the owner and prove nothing about the grants.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from tests.dbtools import APP_ROLE

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not APP_ROLE, reason="Only when the tests act as the application role (TEST_APP_ROLE)"),
]


def test_the_connection_acts_as_the_application_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        current, session = cursor.fetchone()
    assert current == APP_ROLE
    assert session != APP_ROLE  # the test runner's own account created and migrated the database


def test_the_application_role_has_only_its_grants(patient):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_patient")
