import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from records.actions.intake import intake_record
from records.actions.outcomes import outcome_record
from records.models import AuditEvent, IntakeAssessment, IntakeRevision, OutcomeReport
from tests.conftest import actor_for
from tests.factories import PastSessionFactory, SessionFactory

pytestmark = pytest.mark.django_db

INTAKE = {
    "diagnosis": "Chronic migraine",
    "baseline_headache_days": 16,
    "preventive_treatments": [{"name": "Amitriptyline", "why_stopped": "Daytime sedation"}],
    "relevant_history": "",
    "notes": "",
}


def _intake_post(**overrides):
    data = {
        "diagnosis": "Chronic migraine without aura",
        "baseline_headache_days": "18",
        "relevant_history": "Depression, treated",
        "notes": "",
        "version": "",
        "treatments-TOTAL_FORMS": "3",
        "treatments-INITIAL_FORMS": "0",
        "treatments-MIN_NUM_FORMS": "0",
        "treatments-MAX_NUM_FORMS": "30",
        "treatments-0-name": "Topiramate",
        "treatments-0-why_stopped": "Paraesthesia",
        "treatments-1-name": "Candesartan",
        "treatments-1-why_stopped": "",
        "treatments-2-name": "",
        "treatments-2-why_stopped": "",
    }
    data.update(overrides)
    return data


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_physician_records_the_intake_with_its_treatment_list(client_for, physician, patient):
    client = client_for(physician)
    response = client.post(reverse("patient_intake_edit", args=[patient.pk]), _intake_post())

    assert response.status_code == 302
    intake = IntakeAssessment.objects.get(patient=patient)
    assert intake.preventive_treatments == [
        {"name": "Topiramate", "why_stopped": "Paraesthesia"},
        {"name": "Candesartan", "why_stopped": ""},
    ]
    page = client.get(reverse("patient_intake", args=[patient.pk])).content.decode()
    assert "Chronic migraine without aura" in page
    assert "Topiramate" in page
    assert "Paraesthesia" in page
    assert "Version 1: Omar Haddad" in page


def test_revising_needs_a_reason_and_keeps_the_earlier_version_visible(client_for, physician, patient):
    intake_record(actor=actor_for(physician), patient=patient, **INTAKE)
    client = client_for(physician)
    url = reverse("patient_intake_edit", args=[patient.pk])
    form_page = client.get(url).content.decode()
    assert 'value="Amitriptyline"' in form_page  # the physician's own list, to revise

    response = client.post(url, _intake_post(version="1"))
    assert response.status_code == 200
    assert "Give the reason for revising the assessment." in response.content.decode()
    assert IntakeRevision.objects.count() == 1

    response = client.post(url, _intake_post(version="1", reason="Diary reviewed with patient"))
    assert response.status_code == 302
    page = client.get(reverse("patient_intake", args=[patient.pk])).content.decode()
    assert "Version 2: Omar Haddad" in page
    assert "Diary reviewed with patient" in page
    assert "Version 1: Omar Haddad" in page
    assert "baseline 16 headache days" in page


def test_out_of_range_baseline_is_shown_on_the_field_with_the_range(client_for, physician, patient):
    response = client_for(physician).post(
        reverse("patient_intake_edit", args=[patient.pk]), _intake_post(baseline_headache_days="40")
    )
    assert response.status_code == 200
    assert "Baseline headache days per month: a whole number from 0 to 31." in response.content.decode()
    assert not IntakeAssessment.objects.exists()


def test_nurse_reads_the_intake_but_cannot_write_it(client_for, nurse, physician, patient):
    intake_record(actor=actor_for(physician), patient=patient, **INTAKE)
    client = client_for(nurse)
    page = client.get(reverse("patient_intake", args=[patient.pk])).content.decode()
    assert "Chronic migraine" in page
    assert "Revise assessment" not in page
    response = client.post(reverse("patient_intake_edit", args=[patient.pk]), _intake_post(version="1", reason="x"))
    assert response.status_code == 403
    assert IntakeAssessment.objects.get().version == 1


def test_admin_may_not_use_physician_pages(client_for, admin_user, patient):
    client = client_for(admin_user)
    assert client.post(reverse("patient_intake_edit", args=[patient.pk]), _intake_post()).status_code == 403
    assert client.get(reverse("patient_summary_pdf", args=[patient.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="print").exists()


def test_nurse_records_outcomes_and_the_form_names_the_accepted_ranges(client_for, nurse, patient):
    client = client_for(nurse)
    url = reverse("patient_outcome_new", args=[patient.pk])
    today = timezone.localdate()
    bad = {"reported_on": today.isoformat(), "headache_days": "31", "midas_total": "300", "hit6_total": "20"}
    page = client.post(url, bad).content.decode()
    assert "Headache days in the last 30 days: a whole number from 0 to 30." in page
    assert "MIDAS total: a whole number from 0 to 270." in page
    assert "HIT-6 total: a whole number from 36 to 78." in page
    assert not OutcomeReport.objects.exists()

    good = {
        "reported_on": today.isoformat(),
        "headache_days": "9",
        "hit6_total": "60",
        "hit6_completed_on": (today - timedelta(days=2)).isoformat(),
    }
    response = client.post(url, good)
    assert response.status_code == 302
    report = OutcomeReport.objects.get()
    assert (report.headache_days, report.hit6_total, report.midas_total) == (9, 60, None)


def test_outcome_form_pre_fills_nothing(client_for, nurse, patient):
    page = client_for(nurse).get(reverse("patient_outcome_new", args=[patient.pk])).content.decode()
    for name in ("reported_on", "headache_days", "midas_total", "hit6_total"):
        assert f'name="{name}" value=' not in page


def test_history_shows_the_headache_trend_against_the_baseline_as_csp_safe_svg(client_for, physician, patient):
    intake_record(actor=actor_for(physician), patient=patient, **INTAKE)
    today = timezone.localdate()
    for weeks, days in ((8, 15), (4, 11), (0, 7)):
        outcome_record(
            actor=actor_for(physician), patient=patient, reported_on=today - timedelta(weeks=weeks), headache_days=days
        )
    response = client_for(physician).get(reverse("patient_history", args=[patient.pk]))
    page = response.content.decode()

    assert response.status_code == 200
    assert "<svg" in page, page.split('<main id="main"', 1)[-1][:3000]
    assert "Headache days per 30 days against the baseline at intake" in page
    assert "Baseline at intake" in page
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert ' style="' not in page
    assert AuditEvent.objects.filter(action="view", patient=patient, reason="patient history").exists()


def test_summary_pdf_shows_the_signature_manifestation_and_is_recorded_as_a_disclosure(
    client_for, physician, nurse, patient
):
    intake_record(actor=actor_for(physician), patient=patient, **INTAKE)
    outcome_record(actor=actor_for(nurse), patient=patient, reported_on=timezone.localdate(), headache_days=12)

    response = client_for(nurse).get(reverse("patient_summary_pdf", args=[patient.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="patient-summary-MRN-TEST-1-')
    text = pdf_text(response.content)
    assert "Patient summary" in text
    assert "MRN-TEST-1" in text
    assert "Assessed by: Omar Haddad" in text
    assert "Amitriptyline" in text
    assert "Printed" in text and "Nina Reyes" in text
    event = AuditEvent.objects.get(action="print")
    assert event.patient == patient
    assert event.actor == nurse
    assert event.changes["document"] == [None, "Patient summary (PDF)"]


def test_session_pdf_has_the_record_and_the_signatures_and_is_a_disclosure(client_for, nurse, physician, patient):
    session = PastSessionFactory(
        nurse=nurse,
        physician=physician,
        patient=patient,
        start=timezone.now() - timedelta(hours=4),
        held=True,
        side_effect=True,
        received_as="verbal",
        cosigned=True,
        addendum="Ride home confirmed.",
        addendum__by=nurse,
        addendum__reason="Late entry",
    )

    response = client_for(physician).get(reverse("session_pdf", args=[session.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "Session record",
        "MRN-TEST-1",
        "Held for physician review",
        "Decided by: Omar Haddad",
        "Ketamine 0.5 mg/kg/h",
        "Ketamine 0.5 mg/kg/h IV infusion over 40 minutes",
        "Not co-signed by the ordering physician yet",
        "35 mg",
        "Nausea / vomiting",
        "Charted by: Nina Reyes",
        "Reviewed by: Omar Haddad",
        "Ride home confirmed.",
        "Start / pause / resume / stop",  # the vitals chart legend
    ):
        assert expected in text, expected
    event = AuditEvent.objects.get(action="print", record_type="session")
    assert event.patient == patient
    assert event.actor == physician
    assert event.record_id == str(session.pk)
    assert event.changes["document"][1].startswith("Session record of ")


def test_outcomes_may_be_recorded_at_one_of_the_patients_sessions(client_for, nurse, physician, patient):
    own = SessionFactory(state="signed", nurse=nurse, physician=physician, patient=patient)
    other = SessionFactory(state="signed", nurse=nurse, physician=physician)
    client = client_for(nurse)
    url = reverse("patient_outcome_new", args=[patient.pk])
    data = {"reported_on": timezone.localdate().isoformat(), "headache_days": "5"}

    page = client.get(url).content.decode()
    assert f'<option value="{own.pk}">' in page
    assert f'<option value="{other.pk}">' not in page
    assert client.post(url, {**data, "session": str(other.pk)}).status_code == 200
    assert not OutcomeReport.objects.exists()

    assert client.post(url, {**data, "session": str(own.pk)}).status_code == 302
    assert OutcomeReport.objects.get().session == own
    history = client.get(reverse("patient_history", args=[patient.pk])).content.decode()
    assert "at the session of" in history
