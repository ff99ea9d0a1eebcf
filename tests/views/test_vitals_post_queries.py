"""The nurse's vitals POST, the chairside hot path: a fixed, small number of queries.

What one POST of the session page's vitals form (htmx) runs: the login session and its user,
the session row, then in one transaction the session locked, the visit's window, the reading
and its audit event (with the chain's head); then what the reading changes on the page, read once
for the answer.
Nothing is read twice, no check constraint is re-checked by a query (the database enforces
them on insert). The idle time-out's write of the login session (3 queries) remains.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.models import AuditEvent, VitalsReading

pytestmark = pytest.mark.django_db

# Was 96 on PostgreSQL. PostgreSQL draws the event's id from its sequence, takes the chain's
# advisory lock and then reads the chain's head in one round trip (two statements, counted as one
# query); SQLite reads the head, then MAX(id) under its write lock instead. The
# event is written in the action's transaction without a savepoint of its own. (The test
# accounts have an authenticator: one query for the device.)
# The idle time-out still writes the login session on every request (3 queries).
# The answer also swaps the protocol's checkpoints and the discharge criteria (3 queries). It reads
# the session with what a reading changes on the page (records.selectors.session_for_vitals_answer),
# not the whole page's (28 queries then): not the screening, side effects, addenda or infusion events.
QUERIES = {"postgresql": 23, "sqlite": 24}


def form(**values):
    return {
        "measured_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "phase": "during",
        "systolic": "124",
        "diastolic": "78",
        "heart_rate": "76",
        **values,
    }


def test_one_vitals_post_runs_a_fixed_small_number_of_queries(client_for, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    client = client_for(nurse)
    url = reverse("session_vitals_record", args=[session.pk])
    client.post(url, form(), headers={"HX-Request": "true"})  # the first request records the activity

    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, form(systolic="131"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "131" in response.content.decode()
    assert VitalsReading.objects.filter(session=session, systolic=131).count() == 1
    assert AuditEvent.objects.filter(record_type="vitalsreading", action="create").count() >= 2
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any('AS "_check"' in s for s in sql), "a check constraint was re-checked by a query"
    assert len(sql) == QUERIES[connection.vendor], f"{len(sql)} queries:\n" + "\n".join(sql)


def test_impossible_values_are_still_refused_with_the_range(client_for, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    client = client_for(nurse)
    response = client.post(
        reverse("session_vitals_record", args=[session.pk]),
        form(systolic="400", diastolic="500"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "40" in page and "300" in page
    assert not VitalsReading.objects.filter(systolic=400).exists()
