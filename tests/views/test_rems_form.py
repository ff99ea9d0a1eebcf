"""The esketamine REMS Patient Monitoring Form: recorded by the nurse, printed, listed while due, marked submitted."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from records import rems
from records.actions.context import ActionRefused
from records.actions.rems import rems_form_record, rems_form_submit
from records.models import AuditEvent, RemsMonitoringForm
from tests.charting import esketamine_session
from tests.conftest import actor_for
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo(settings.TIME_ZONE)

ANSWERS = {
    "lot_number": "EKT-2291",
    "ready_to_leave": "90_to_119",
    "sedation": "no",
    "dissociation": "yes",
    "respiratory_depression": "no",
    "concomitant_medications": ["opioids", "benzodiazepines"],
    "concomitant_note": "Lorazepam 0.5 mg at night",
    "serious_adverse_events": "no",
}


def at(hhmm: str, day: int = 25) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


@pytest.fixture
def clock():
    with time_machine.travel(at("09:40"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def esketamine(sessions, patient, clock):
    return esketamine_session(sessions, patient, clock, at)


def test_what_the_form_shows_from_the_chart(esketamine):
    charted = rems.charted_values(esketamine)
    assert charted.monitoring_minutes == 125
    assert (charted.bp_before.systolic, charted.bp_before.measured_at) == (128, at("09:50"))
    assert (charted.bp_at_40.systolic, charted.bp_at_40.measured_at) == (146, at("10:42"))
    assert (charted.bp_before_completion.systolic, charted.bp_before_completion.measured_at) == (132, at("11:55"))
    assert rems.due_on(esketamine) == date(2026, 12, 2)
    assert rems.is_esketamine(esketamine)


def test_an_iv_ketamine_session_needs_no_form(sessions, patient, nurse):
    session = sessions.to(patient, "discharged")
    assert not rems.is_esketamine(session)
    with pytest.raises(ActionRefused, match="needs no REMS monitoring form"):
        rems_form_record(actor=actor_for(nurse), session=session, **ANSWERS)


def test_the_form_waits_for_the_discharge(sessions, patient, nurse, clock):
    session = esketamine_session(sessions, patient, clock, at, discharge=False)
    with pytest.raises(ActionRefused, match="after the discharge"):
        rems_form_record(actor=actor_for(nurse), session=session, **ANSWERS)


def test_nurse_records_the_form_once_and_each_answer_is_checked(esketamine, nurse, physician):
    with pytest.raises(ValidationError) as exc:
        rems_form_record(
            actor=actor_for(nurse),
            session=esketamine,
            **{**ANSWERS, "lot_number": " ", "sedation": "maybe", "serious_adverse_events": "yes"},
        )
    assert set(exc.value.message_dict) == {"lot_number", "sedation", "serious_adverse_events_text"}
    with pytest.raises(PermissionDenied):
        rems_form_record(actor=actor_for(physician), session=esketamine, **ANSWERS)

    form = rems_form_record(actor=actor_for(nurse), session=esketamine, **ANSWERS)

    assert form.concomitant_medications == ["benzodiazepines", "opioids"]  # the form's order
    event = AuditEvent.objects.get(record_type="remsmonitoringform")
    assert event.changes["lot_number"] == [None, "EKT-2291"] and event.patient_id == esketamine.patient_id
    with pytest.raises(ActionRefused, match="already recorded"):
        rems_form_record(actor=actor_for(nurse), session=esketamine, **ANSWERS)


def test_the_form_page_offers_nothing_filled_in(client_for, esketamine, nurse):
    html = client_for(nurse).get(reverse("session_rems_form", args=[esketamine.pk])).content.decode()
    assert "125 minutes" in html and "146/88 mmHg at 10:42" in html
    assert 'name="lot_number"' in html and "EKT-2291" not in html.split('name="lot_number"')[1].split(">")[0]
    assert " checked" not in html


def test_nurse_records_it_on_its_page(client_for, esketamine, nurse):
    client = client_for(nurse)
    data = {**ANSWERS, "concomitant_medications": ["opioids"]}
    response = client.post(reverse("session_rems_form", args=[esketamine.pk]), data)
    assert response.status_code == 302
    assert RemsMonitoringForm.objects.get(session=esketamine).ready_to_leave == "90_to_119"
    page = client.get(reverse("session_detail", args=[esketamine.pk])).content.decode()
    assert "REMS Patient Monitoring Form" in page and "Not yet marked submitted; due by 2026-12-02" in page


def test_the_print_page_and_the_pdf_show_the_form(client_for, esketamine, nurse, admin_user):
    rems_form_record(actor=actor_for(nurse), session=esketamine, **ANSWERS)
    client = client_for(admin_user)
    html = client.get(reverse("session_rems_print", args=[esketamine.pk])).content.decode()
    for expected in ("EKT-2291", "90 to 119 minutes", "125 minutes", "128/82 mmHg at 09:50", "Opioids"):
        assert expected in html
    response = client.get(reverse("session_rems_pdf", args=[esketamine.pk]))
    text = pdf_text(response.content)
    assert response["Content-Type"] == "application/pdf"
    for expected in (
        "REMS Patient Monitoring Form",
        "EKT-2291",
        "125 minutes",
        "146/88 mmHg at 10:42",
        "Benzodiazepines",
    ):
        assert expected in text
    assert AuditEvent.objects.filter(action="print", patient=esketamine.patient).count() == 1


def test_the_worklist_lists_forms_due_until_submitted(client_for, esketamine, sessions, patient, nurse, admin_user):
    sessions.to(patient, "discharged")  # IV ketamine: never listed
    client = client_for(admin_user)
    page = client.get(reverse("rems_worklist")).content.decode()
    assert "Not recorded by the nurse yet" in page and "2026-12-02" in page
    assert page.count("<tr") == 2  # the header and the esketamine session
    rems_form_record(actor=actor_for(nurse), session=esketamine, **ANSWERS)
    with time_machine.travel(at("09:00", day=27), tick=False):
        client = client_for(admin_user)  # signed in again: two days on, the earlier sign-in has timed out
        response = client.post(
            reverse("session_rems_submit", args=[esketamine.pk]), {"submitted_on": "2026-11-26"}, follow=True
        )
        assert "Marked submitted" in response.content.decode()
        assert "No REMS monitoring forms waiting." in response.content.decode()
    form = RemsMonitoringForm.objects.get(session=esketamine)
    assert (form.submitted_on, form.submitted_by) == (date(2026, 11, 26), admin_user)
    event = AuditEvent.objects.get(action="rems_form_submitted")
    assert event.actor == admin_user and event.changes == {"submitted_on": [None, "2026-11-26"]}


def test_an_overdue_form_is_marked(client_for, esketamine, admin_user):
    with time_machine.travel(at("09:00", day=30), tick=False):
        page = client_for(admin_user).get(reverse("rems_worklist")).content.decode()
    assert "Due soon" in page and "Overdue" not in page
    with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=ZONE), tick=False):
        page = client_for(admin_user).get(reverse("rems_worklist")).content.decode()
    assert "Overdue" in page


def test_submission_is_the_admins_set_once_and_dated_sensibly(esketamine, nurse, physician, admin_user):
    form = rems_form_record(actor=actor_for(nurse), session=esketamine, **ANSWERS)
    with pytest.raises(PermissionDenied):
        rems_form_submit(actor=actor_for(physician), form=form, submitted_on=date(2026, 11, 25))
    with pytest.raises(ValidationError) as exc:
        rems_form_submit(actor=actor_for(admin_user), form=form, submitted_on=date(2026, 11, 24))
    assert "submitted_on" in exc.value.message_dict
    rems_form_submit(actor=actor_for(admin_user), form=form, submitted_on=date(2026, 11, 25))
    with pytest.raises(ActionRefused, match="already marked submitted"):
        rems_form_submit(actor=actor_for(admin_user), form=form, submitted_on=date(2026, 11, 25))
    with pytest.raises(IntegrityError), transaction.atomic():
        RemsMonitoringForm.objects.filter(pk=form.pk).update(submitted_on=date(2026, 11, 26))
    with pytest.raises(IntegrityError), transaction.atomic():
        RemsMonitoringForm.objects.filter(pk=form.pk).update(lot_number="CHANGED")
    with pytest.raises(IntegrityError), transaction.atomic():
        RemsMonitoringForm.objects.filter(pk=form.pk).delete()


def test_the_answers_are_frozen_before_submission_too(esketamine, nurse):
    form = rems_form_record(actor=actor_for(nurse), session=esketamine, **ANSWERS)
    with pytest.raises(IntegrityError), transaction.atomic():
        RemsMonitoringForm.objects.filter(pk=form.pk).update(sedation="yes")


def test_the_worklist_runs_a_constant_number_of_queries(
    client_for, sessions, patient, make_patient, nurse, admin_user, clock, django_assert_max_num_queries
):
    def count() -> tuple[int, str]:
        client = client_for(admin_user)
        with django_assert_max_num_queries(30) as captured:
            response = client.get(reverse("rems_worklist"))
        assert response.status_code == 200
        return len(captured.captured_queries), response.content.decode()

    first = esketamine_session(sessions, patient, clock, at)
    rems_form_record(actor=actor_for(nurse), session=first, **ANSWERS)
    one, _ = count()
    for _ in range(3):
        session = esketamine_session(sessions, make_patient(), clock, at)
        rems_form_record(actor=actor_for(nurse), session=session, **ANSWERS)
    four, page = count()
    assert page.count("Recorded by") == 4
    assert four == one


def test_monitoring_minutes_are_taken_to_the_minute_and_never_negative():
    from datetime import timedelta

    started = at("10:00") + timedelta(seconds=40)  # stamped to the second when the nurse pressed Start
    assert rems.ChartedValues(started, at("12:05"), None, None, None).monitoring_minutes == 125
    assert rems.ChartedValues(started, at("10:00"), None, None, None).monitoring_minutes == 0
    assert rems.ChartedValues(started, None, None, None, None).monitoring_minutes is None
