"""A charting action's row locks never make an audited read of the same patient wait (PostgreSQL).

Every audited request writes its event under the chain's lock (records.audit.writer), and the event's
row points at the patient and at the person acting: inserting it checks those rows (a KEY SHARE lock).
An action locks the rows it changes first and takes the chain's lock last, for its own event. When the
action locked its rows FOR UPDATE, the lock also refused those key checks: a reader holding the chain's
lock then waited for the action's patient row while the action waited for the chain's lock, a deadlock,
and the nurse's reading failed with a 500 (seen in the browser test of the whole session, on PostgreSQL,
the physician's page polling while the nurse charted). The actions lock FOR NO KEY UPDATE: two actions on
one session or patient still wait for each other, and an audited read goes through.
"""

import threading

import pytest
from django.db import connection, transaction

from records.actions.sessions import lock_session
from records.audit import audit_record
from records.models import AuditAction
from tests.conftest import actor_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writers itself (IMMEDIATE transactions); row locks are PostgreSQL's",
    ),
]


def _while_locked(lock, read) -> object:
    """Run `read` in another connection while this one holds `lock()`'s row locks: what it returned or raised."""
    result: list = [None]

    def other():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
                result[0] = read()
        except Exception as exc:  # reported to the test
            result[0] = exc
        finally:
            connection.close()

    with transaction.atomic():
        lock()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    return result[0]


def test_a_read_of_the_patient_is_audited_while_a_session_of_theirs_is_being_charted(sessions, patient, physician):
    session = sessions.to(patient, "in_progress")
    reader = actor_for(physician)

    result = _while_locked(
        lambda: lock_session(session),
        lambda: audit_record(actor=reader, action=AuditAction.VIEW, patient=patient, record=patient),
    )

    assert not isinstance(result, Exception), result


def test_two_charting_actions_on_one_session_still_wait_for_each_other(sessions, patient):
    session = sessions.to(patient, "in_progress")

    result = _while_locked(lambda: lock_session(session), lambda: lock_session(session))

    assert isinstance(result, Exception) and "lock timeout" in str(result), result


def test_every_action_locks_for_no_key_update():
    """The actions lock rows in many places; each takes FOR NO KEY UPDATE (`select_for_update(no_key=True)`), so that
    none refuses the key checks of an audit event written meanwhile (they never change a row's key)."""
    import re
    from pathlib import Path

    import records.actions

    calls = {
        f"{path.name}: {call}"
        for path in Path(records.actions.__file__).parent.glob("*.py")
        for call in re.findall(r"select_for_update\([^)]*\)", path.read_text())
    }
    assert len(calls) >= 10, calls
    assert {call for call in calls if "no_key=True" not in call} == set()
