"""Each form that takes a clinical time shows the visit's window when the time is outside it, and writes nothing.

The clock stands still: the patient arrived at 10:00 and it is 10:30, so the visit
runs from 09:00 to 10:31 (tests/actions/test_clinical_time.py covers every action).
"""

import uuid

import pytest
from django.urls import reverse

from records.actions.medications import administration_stop
from records.actions.side_effects import side_effect_record
from records.actions.vitals import vitals_record
from records.models import Administration, Discharge, Order, SideEffect, VitalsReading
from tests.actions.test_clinical_time import at, clock  # noqa: F401  (fixture)
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db


def local(hhmm: str) -> str:
    return at(hhmm).strftime("%Y-%m-%dT%H:%M")


def post_outside_then_inside(client, url, data, field, outside, inside, message, table):
    count = table.objects.count()
    response = client.post(url, {**data, field: local(outside)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert table.objects.count() == count
    response = client.post(url, {**data, field: local(inside)})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert table.objects.count() == count + 1


@pytest.fixture
def in_progress(clock, sessions, patient, client, nurse):  # noqa: F811
    session = sessions.to(patient, "in_progress")
    clock.to("10:30")
    client.force_login(nurse)
    return session


def test_vitals_form(client, in_progress):
    post_outside_then_inside(
        client,
        reverse("session_vitals_record", args=[in_progress.pk]),
        {"phase": "during", "heart_rate": "80"},
        "measured_at",
        "08:45",
        "10:25",
        "Measured at must be between 09:00 and 10:31 today.",
        VitalsReading,
    )


def test_order_form(client, physician, sessions, patient, clock, nurse):  # noqa: F811
    session = sessions.to(patient, "cleared")
    clock.to("10:30")
    client.force_login(nurse)
    data = {
        "ordering_physician": physician.pk,
        "received_as": "written",
        "medication": "Ketamine",
        "dose_value": "0.5",
        "dose_unit": "mg/kg/h",
        "route": "iv_infusion",
        "order_text": "Ketamine 0.5 mg/kg/h IV",
        "submission_key": str(uuid.uuid4()),  # one opening of the form, two submits (the refused one saves nothing)
    }
    post_outside_then_inside(
        client,
        reverse("session_order_new", args=[session.pk]),
        data,
        "received_at",
        "10:45",
        "10:20",
        "Time received must be between 09:00 and 10:31 today.",
        Order,
    )


def test_side_effect_form(client, in_progress):
    data = {"kind": "nausea_vomiting", "severity": "mild", "action_taken": "none"}
    post_outside_then_inside(
        client,
        reverse("session_side_effect_record", args=[in_progress.pk]),
        data,
        "onset_at",
        "07:30",
        "10:10",
        "Onset must be between 09:00 and 10:31 today.",
        SideEffect,
    )


def test_side_effect_resolution_form(client, nurse, in_progress):
    effect = side_effect_record(
        actor=actor_for(nurse),
        session=in_progress,
        kind="dizziness",
        severity="mild",
        onset_at=at("10:15"),
        action_taken="none",
    )
    url = reverse("session_side_effect_resolve", args=[in_progress.pk])
    response = client.post(url, {"side_effect": effect.pk, "resolved_at": local("10:05")})
    assert response.status_code == 400
    assert "Resolved at must be between 10:15 and 10:31 today." in response.content.decode()
    effect.refresh_from_db()
    assert effect.resolved_at is None
    assert client.post(url, {"side_effect": effect.pk, "resolved_at": local("10:20")}).status_code == 302
    effect.refresh_from_db()
    assert effect.resolved_at == at("10:20")


def test_discharge_form(client, nurse, in_progress, clock):  # noqa: F811
    nurse_actor = actor_for(nurse)
    administration_stop(
        actor=nurse_actor,
        administration=Administration.objects.get(session=in_progress),
        amount_given_value="35",
        amount_given_unit="mg",
        at=at("10:20"),
    )
    vitals_record(
        actor=nurse_actor,
        session=in_progress,
        measured_at=at("10:25"),
        phase="post",
        heart_rate=70,
        moaas=5,
        dissociation="none",
    )
    criteria = {
        "alert_and_oriented": "on",
        "vitals_near_baseline": "on",
        "steady_walking": "on",
        "escort_present_not_driving": "on",
    }
    post_outside_then_inside(
        client,
        reverse("session_discharge", args=[in_progress.pk]),
        criteria,
        "discharged_at",
        "10:10",
        "10:28",
        "Discharge time must be between 10:20 and 10:31 today.",
        Discharge,
    )
