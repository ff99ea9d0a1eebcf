"""The discharge waits until the patient may leave (records.discharge_criteria), and a physician may override."""

import types

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from records import monitoring
from records.actions.context import ActionRefused
from records.actions.medications import administration_start
from records.actions.side_effects import discharge_override, discharge_record
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record
from records.models import AuditEvent, DischargeOverride, SessionStatus
from tests.charting import RECOVERED
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db

CHECKLIST = {
    "alert_and_oriented": True,
    "vitals_near_baseline": True,
    "steady_walking": True,
    "escort_present_not_driving": True,
}
ZERO_CADSS = {k: v for k, v in RECOVERED.items() if k != "moaas"}


def post(nurse, session, **values):
    return vitals_record(
        actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="post", heart_rate=72, **values
    )


def discharge(nurse, session, **checklist):
    return discharge_record(actor=actor_for(nurse), session=session, **{**CHECKLIST, **checklist})


def refusal(nurse, session, **checklist) -> str:
    with pytest.raises(ActionRefused) as exc:
        discharge(nurse, session, **checklist)
    session.refresh_from_db()
    assert session.status == SessionStatus.RECOVERY
    return str(exc.value)


def test_a_recovered_patient_is_discharged(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **RECOVERED)
    discharge(nurse, session)
    session.refresh_from_db()
    assert session.status == SessionStatus.DISCHARGED


def test_the_refusal_names_each_unmet_criterion(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    message = refusal(nurse, session, escort_present_not_driving=False)
    assert "post-session vitals reading" in message
    assert "Sedation: no MOAA/S charted yet" in message
    assert "Dissociation: not scored yet" in message
    assert "Escort / transport" in message
    assert not session.discharge_overrides.exists()


def test_post_session_reading_alone(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    vitals_record(actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="during", **RECOVERED)
    message = refusal(nurse, session)
    assert message == "Cannot discharge yet. Vitals: chart a post-session vitals reading first."


def test_sedation_alone_no_moaas(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **ZERO_CADSS)
    assert refusal(nurse, session) == (
        "Cannot discharge yet. Sedation: no MOAA/S charted yet; the last MOAA/S must be "
        "5 (responds readily to name spoken in normal tone)."
    )


def test_sedation_alone_the_last_moaas_counts_not_the_best(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **RECOVERED)
    post(nurse, session, moaas=4, **ZERO_CADSS)
    message = refusal(nurse, session)
    assert "Sedation: the last MOAA/S is 4" in message
    assert "Dissociation" not in message


def test_a_struck_moaas_does_not_count(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **RECOVERED)
    wrong = post(nurse, session, moaas=3, **ZERO_CADSS)
    assert "MOAA/S is 3" in refusal(nurse, session)
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=wrong, reason="Another patient's score")
    discharge(nurse, session)


def test_dissociation_alone_cadss6_total_not_zero(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **{**RECOVERED, "cadss_2": 1})
    assert refusal(nurse, session) == (
        "Cannot discharge yet. Dissociation: the last score is CADSS-6 total 1 (at 10:00); "
        "it must have resolved (CADSS-6 total 0, dissociation none)."
    )


def test_dissociation_alone_the_four_words(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, moaas=5, dissociation="mild")
    assert "the last score is dissociation mild" in refusal(nurse, session)
    post(nurse, session, dissociation="none")
    discharge(nurse, session)


def test_administration_alone_still_running(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **RECOVERED)
    second = sessions.order(session)
    administration_start(actor=actor_for(nurse), order=second, site="R forearm", lot_number="LOT-2")
    assert (
        refusal(nurse, session)
        == "Cannot discharge yet. Administration: one is still running or paused; stop it first."
    )


def test_escort_alone_is_the_checklist_field(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **RECOVERED)
    with pytest.raises(ValidationError) as exc:
        discharge(nurse, session, escort_present_not_driving=False)
    assert exc.value.message_dict == {"escort_present_not_driving": ["This criterion must be met before discharge."]}


@pytest.fixture
def protocol(monkeypatch):
    """The monitoring protocol's own findings (records.monitoring states them; tested there), set by the test."""
    findings = types.SimpleNamespace(findings=[])
    monkeypatch.setattr(monitoring, "protocol_discharge_findings", lambda session, now: list(findings.findings))
    return findings


def test_protocol_findings_alone_come_from_the_monitoring_module(sessions, patient, nurse, protocol):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **RECOVERED)
    protocol.findings = ["Minimum observation: 120 minutes from the first start, until 12:00."]
    assert refusal(nurse, session) == (
        "Cannot discharge yet. Minimum observation: 120 minutes from the first start, until 12:00."
    )
    protocol.findings = []
    discharge(nurse, session)


def test_physician_override_with_reason_lets_the_nurse_discharge(sessions, patient, nurse, physician, protocol):
    session = sessions.to(patient, "recovery")
    post(nurse, session, moaas=4, **ZERO_CADSS)
    protocol.findings = ["Before discharge checkpoint: not done."]
    with pytest.raises(PermissionDenied):
        discharge_override(actor=actor_for(nurse), session=session, reason="Looks fine")
    with pytest.raises(ValidationError) as exc:
        discharge_override(actor=actor_for(physician), session=session, reason="  ")
    assert "reason" in exc.value.message_dict

    override = discharge_override(
        actor=actor_for(physician), session=session, reason="Baseline MOAA/S 4 (hearing loss); escort present"
    )

    assert override.physician == physician and override.physician_name == physician.printed_name
    assert "Before discharge checkpoint: not done." in override.unmet and "MOAA/S is 4" in override.unmet
    event = AuditEvent.objects.get(action="discharge_override")
    assert event.reason == "Baseline MOAA/S 4 (hearing loss); escort present"
    assert event.patient == patient and event.record_type == "dischargeoverride"
    discharge(nurse, session)
    session.refresh_from_db()
    assert session.status == SessionStatus.DISCHARGED
    assert AuditEvent.objects.get(action="discharge", record_type="discharge").changes["overridden"] == [
        None,
        "protocol, sedation",
    ]


def test_an_override_never_waives_a_running_administration_or_the_escort(sessions, patient, nurse, physician):
    session = sessions.to(patient, "recovery")
    post(nurse, session, moaas=3, **ZERO_CADSS)
    discharge_override(actor=actor_for(physician), session=session, reason="Judged safe")
    second = sessions.order(session)
    administration_start(actor=actor_for(nurse), order=second, site="R forearm", lot_number="LOT-2")
    message = refusal(nurse, session, escort_present_not_driving=False)
    assert "Administration: one is still running" in message and "Escort / transport" in message
    assert "Sedation" not in message


def test_nothing_to_override_when_the_criteria_are_met(sessions, patient, nurse, physician):
    session = sessions.to(patient, "recovery")
    post(nurse, session, **RECOVERED)
    with pytest.raises(ActionRefused, match="Nothing to override"):
        discharge_override(actor=actor_for(physician), session=session, reason="Just in case")


def test_an_override_is_insert_only(sessions, patient, nurse, physician):
    # The database refuses: its triggers for the owner, and for the application role already its grants.
    session = sessions.to(patient, "recovery")
    override = discharge_override(actor=actor_for(physician), session=session, reason="Judged safe")
    with pytest.raises(DatabaseError), transaction.atomic():
        DischargeOverride.objects.filter(pk=override.pk).update(reason="Changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        DischargeOverride.objects.filter(pk=override.pk).delete()
    assert DischargeOverride.objects.get(pk=override.pk).reason == "Judged safe"
