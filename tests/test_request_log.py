"""One JSON log line per request, with the time and the number of its SQL queries."""

import json
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


@pytest.fixture
def request_lines(caplog):
    """The lines the request logger writes (it does not propagate to the root logger)."""
    logger = logging.getLogger("clinic.requests")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="clinic.requests")
    yield lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "clinic.requests"]
    logger.removeHandler(caplog.handler)


@pytest.mark.django_db
def test_one_line_per_request_with_sql_time_user_and_role(client, nurse, patient, request_lines):
    client.force_login(nurse)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("patient_list"), {"q": patient.family_name})
    assert response.status_code == 200
    [line] = request_lines()
    assert line["method"] == "GET" and line["status"] == 200
    # The path, without the query string: a search may carry a patient's name.
    assert line["path"] == reverse("patient_list")
    assert patient.family_name not in json.dumps(line)
    assert line["sql_queries"] == len(queries)
    assert 0 <= line["sql_ms"] <= line["duration_ms"]
    assert (line["user_id"], line["role"]) == (nurse.pk, "nurse")


@pytest.mark.django_db
def test_anonymous_and_refused_requests_are_logged_too(client, request_lines):
    client.get(reverse("patient_list"))
    client.post(reverse("health"))
    lines = request_lines()
    assert [(x["method"], x["status"], x["user_id"], x["role"]) for x in lines] == [
        ("GET", 302, None, None),
        ("POST", 405, None, None),
    ]
