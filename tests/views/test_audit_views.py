from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from records.actions.patients import patient_view
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db


def test_admin_filters_the_log_by_user_patient_action_and_date(client, admin_user, nurse, physician, make_patient):
    first = make_patient(mrn="F-1")
    second = make_patient(mrn="F-2")
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        patient_view(actor=actor_for(nurse), patient=first)
    patient_view(actor=actor_for(nurse), patient=first)
    patient_view(actor=actor_for(physician), patient=second)
    client.force_login(admin_user)

    def rows(**params):
        response = client.get(reverse("audit_log"), params)
        assert response.status_code == 200
        return [(e.actor_username, e.action, e.patient.mrn if e.patient else None) for e in response.context["page"]]

    assert rows(actor=nurse.pk, action="view") == [("nurse_a", "view", "F-1"), ("nurse_a", "view", "F-1")]
    assert rows(patient="f-2", action="view") == [("physician_a", "view", "F-2")]
    today = timezone.localdate().isoformat()
    assert rows(patient="F-1", action="view", date_from=today, date_to=today) == [("nurse_a", "view", "F-1")]


def test_unknown_mrn_and_reversed_dates_are_field_errors(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("audit_log"), {"patient": "NOPE"})
    assert "No patient has the MRN NOPE." in response.context["form"].errors["patient"]
    response = client.get(reverse("audit_log"), {"date_from": "2026-02-02", "date_to": "2026-01-01"})
    assert response.context["form"].errors["date_to"] == ["The end date must be on or after the start date."]
    response = client.get(reverse("audit_log"), {"date_from": "yesterday"})
    assert "date_from" in response.context["form"].errors


def test_the_log_shows_before_and_after(client, admin_user, nurse, patient):
    from records.actions.patients import DEMOGRAPHIC_FIELDS, patient_update

    fields = {f: getattr(patient, f) for f in DEMOGRAPHIC_FIELDS}
    patient_update(actor=actor_for(nurse), patient=patient, expected_version=1, **{**fields, "phone": "555-7000"})
    client.force_login(admin_user)
    body = client.get(reverse("audit_log"), {"action": "update"}).content.decode()
    assert '<tr><th scope="row">phone</th><td></td><td>555-7000</td></tr>' in body
