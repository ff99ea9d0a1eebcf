from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.medications import (
    administration_pause,
    administration_resume,
    administration_start,
    administration_stop,
)
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import (
    addendum_add,
    session_arrive,
    session_begin_screening,
    session_cancel,
    session_cosign,
    session_schedule,
    session_sign,
)
from records.actions.side_effects import discharge_record, side_effect_record
from records.actions.vitals import vitals_record
from records.models import AuditEvent, Session, SessionStatus
from tests.charting import NEGATIVE_SCREENING
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db


def test_schedule_writes_session_and_audit(patient, nurse, physician):
    session = session_schedule(
        actor=actor_for(nurse),
        patient=patient,
        planned_route="iv_infusion",
        scheduled_at=timezone.now(),
        chair="  Chair   3 ",
        primary_nurse=nurse,
        supervising_physician=physician,
    )
    assert session.status == SessionStatus.SCHEDULED
    assert session.chair == "Chair 3"
    event = AuditEvent.objects.get(action="create", record_type="session")
    assert event.patient == patient
    assert event.changes["chair"] == [None, "Chair 3"]


def test_schedule_refuses_a_nurse_as_supervising_physician(patient, nurse):
    with pytest.raises(ValidationError) as exc:
        session_schedule(
            actor=actor_for(nurse),
            patient=patient,
            planned_route="iv_infusion",
            scheduled_at=timezone.now(),
            chair="Chair 1",
            supervising_physician=nurse,
        )
    assert "supervising_physician" in exc.value.message_dict
    assert not Session.objects.exists()


def test_admin_cannot_schedule(patient, admin_user):
    with pytest.raises(PermissionDenied):
        session_schedule(
            actor=actor_for(admin_user),
            patient=patient,
            planned_route="iv_infusion",
            scheduled_at=timezone.now(),
            chair="Chair 1",
        )


def test_full_path_audits_every_transition(sessions, patient, nurse, physician):
    session = sessions.to(patient, "signed")
    assert session.status == SessionStatus.SIGNED
    assert session.signed_by == nurse
    assert session.signed_name == nurse.printed_name
    actions = set(
        AuditEvent.objects.filter(record_type="session", record_id=str(session.pk)).values_list("action", flat=True)
    )
    assert {
        "create",
        "arrive",
        "begin_screening",
        "screen",
        "administration_start",
        "administration_stop",
        "discharge",
        "sign",
    } <= actions
    session_cosign(actor=actor_for(physician), session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.COSIGNED
    assert session.cosigned_name == physician.printed_name
    event = AuditEvent.objects.get(action="cosign")
    assert event.changes["status"] == ["signed", "cosigned"]
    assert event.reason == "reviewed by"


def test_arrive_twice_is_refused(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    with pytest.raises(ActionRefused, match="Cannot arrive: the session is arrived"):
        session_arrive(actor=actor_for(nurse), session=session)


def test_cannot_begin_screening_before_arrival(sessions, patient, nurse):
    session = sessions.to(patient, "scheduled")
    with pytest.raises(ActionRefused, match="checked in first"):
        session_begin_screening(actor=actor_for(nurse), session=session)


def test_cancel_and_no_show_keep_reason(sessions, patient, make_patient, nurse):
    session = sessions.to(patient, "arrived")
    session_cancel(actor=actor_for(nurse), session=session, reason="Migraine resolved; patient declined")
    session.refresh_from_db()
    assert (session.status, session.exit_kind) == ("cancelled", "cancelled")
    assert session.exit_reason == "Migraine resolved; patient declined"

    other = sessions.to(make_patient(), "scheduled")
    session_cancel(actor=actor_for(nurse), session=other, reason="Did not attend", no_show=True)
    other.refresh_from_db()
    assert other.status == "no_show"
    assert AuditEvent.objects.get(action="no_show").reason == "Did not attend"


def test_no_show_refused_after_arrival(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    with pytest.raises(ActionRefused, match="has arrived"):
        session_cancel(actor=actor_for(nurse), session=session, reason="x", no_show=True)


def test_cancel_after_start_is_refused(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    with pytest.raises(ActionRefused, match="stop the administration early"):
        session_cancel(actor=actor_for(nurse), session=session, reason="x")


def test_cancel_needs_reason(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    with pytest.raises(ValidationError):
        session_cancel(actor=actor_for(nurse), session=session, reason="  ")


# Screening -----------------------------------------------------------------


def test_all_negative_and_bp_below_threshold_clears(sessions, patient):
    session = sessions.to(patient, "cleared")
    assert session.status == SessionStatus.CLEARED
    assert session.screening.outcome == "cleared"
    assert session.screening.bp_reading.systolic == 128
    assert session.screening.bp_reading.phase == "pre"


@pytest.mark.parametrize(
    "change",
    [
        {"hypertension_history": "yes"},
        {"hypertension_uncontrolled": "unknown"},
        {"psychosis_history": "unknown"},
        {"psychosis_current": "yes"},
        {"pregnancy": "unknown"},
        {"pregnancy": "pregnant"},
        {"systolic": 180, "diastolic": 90},
        {"systolic": 170, "diastolic": 100},
    ],
)
def test_any_positive_unknown_or_high_bp_holds(sessions, patient, nurse, change):
    session = sessions.to(patient, "screening")
    screening = screening_record(actor=actor_for(nurse), session=session, **{**NEGATIVE_SCREENING, **change})
    session.refresh_from_db()
    assert screening.outcome == "held"
    assert session.status == SessionStatus.HELD
    assert screening.hold_reasons
    assert AuditEvent.objects.filter(action="screen", reason__startswith="Held: ").exists()


def test_bp_threshold_is_the_clinic_setting(sessions, patient, nurse, admin_user):
    from records.actions.clinic import clinic_settings_update

    clinic_settings_update(actor=actor_for(admin_user), bp_hold_systolic=160)
    session = sessions.to(patient, "screening")
    screening = screening_record(actor=actor_for(nurse), session=session, **{**NEGATIVE_SCREENING, "systolic": 165})
    assert screening.outcome == "held"
    assert screening.bp_hold_systolic == 160


def test_screening_answers_must_be_explicit(sessions, patient, nurse):
    session = sessions.to(patient, "screening")
    with pytest.raises(ValidationError) as exc:
        screening_record(
            actor=actor_for(nurse),
            session=session,
            **{**NEGATIVE_SCREENING, "psychosis_current": "", "pregnancy": "not_pregnant_na", "pregnancy_note": ""},
        )
    assert set(exc.value.message_dict) == {"psychosis_current", "pregnancy_note"}
    assert not session.readings.exists()


def test_one_screening_per_session(sessions, patient, nurse):
    session = sessions.to(patient, "cleared")
    with pytest.raises(ActionRefused, match="already has its screening"):
        screening_record(actor=actor_for(nurse), session=session, **NEGATIVE_SCREENING)


def test_held_screening_blocks_administration_in_the_action(sessions, patient, nurse):
    session = sessions.to(patient, "held")
    order = sessions.order(session)
    with pytest.raises(ActionRefused, match="Cannot start: screening is held for physician review"):
        administration_start(actor=actor_for(nurse), order=order, site="L forearm", lot_number="L1")
    assert not session.administrations.exists()


def test_no_screening_blocks_administration(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    order = sessions.order(session)
    with pytest.raises(ActionRefused, match="screening has not been recorded"):
        administration_start(actor=actor_for(nurse), order=order, site="L forearm", lot_number="L1")


def test_physician_proceed_needs_justification_then_allows_start(sessions, patient, nurse, physician):
    session = sessions.to(patient, "held")
    with pytest.raises(ValidationError, match="justification"):
        screening_decide(actor=actor_for(physician), screening=session.screening, decision="proceed", reason=" ")
    screening_decide(
        actor=actor_for(physician),
        screening=session.screening,
        decision="proceed",
        reason="Remote psychosis history, stable for 10 years; benefits outweigh risk.",
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.CLEARED
    order = sessions.order(session)
    administration_start(actor=actor_for(nurse), order=order, site="L forearm", lot_number="L1")
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_do_not_proceed_ends_session_and_keeps_reason(sessions, patient, nurse, physician):
    session = sessions.to(patient, "held")
    screening_decide(
        actor=actor_for(physician), screening=session.screening, decision="do_not_proceed", reason="Active symptoms"
    )
    session.refresh_from_db()
    assert (session.status, session.exit_kind, session.exit_reason) == ("cancelled", "not_proceeded", "Active symptoms")
    with pytest.raises(ActionRefused, match="Cannot document an order: the session is cancelled"):
        sessions.order(session)
    session_sign(actor=actor_for(nurse), session=session)


def test_nurse_cannot_decide_held_screening(sessions, patient, nurse):
    session = sessions.to(patient, "held")
    with pytest.raises(PermissionDenied):
        screening_decide(actor=actor_for(nurse), screening=session.screening, decision="proceed", reason="x")


def test_decision_on_cleared_screening_refused(sessions, patient, physician):
    session = sessions.to(patient, "cleared")
    with pytest.raises(ActionRefused, match="not held"):
        screening_decide(actor=actor_for(physician), screening=session.screening, decision="proceed", reason="x")


# Administration --------------------------------------------------------------


def test_pause_resume_stop_with_reasons(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    adm = sessions.administration
    with pytest.raises(ValidationError):
        administration_pause(actor=actor_for(nurse), administration=adm, reason="")
    administration_pause(actor=actor_for(nurse), administration=adm, reason="Nausea")
    with pytest.raises(ActionRefused, match="Cannot pause: the administration is paused"):
        administration_pause(actor=actor_for(nurse), administration=adm, reason="again")
    administration_resume(actor=actor_for(nurse), administration=adm, reason="Nausea settled after ondansetron")
    administration_stop(actor=actor_for(nurse), administration=adm, amount_given_value="32.5", amount_given_unit="mg")
    adm.refresh_from_db()
    assert adm.state == "stopped"
    assert adm.amount_given_value == "32.5"
    assert [e.kind for e in adm.events.all()] == ["start", "pause", "resume", "stop"]
    session.refresh_from_db()
    assert session.status == SessionStatus.RECOVERY


def test_stop_early_marks_session(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    administration_stop(
        actor=actor_for(nurse),
        administration=sessions.administration,
        amount_given_value="10",
        amount_given_unit="mg",
        early_reason="Severe dissociation",
    )
    session.refresh_from_db()
    assert (session.status, session.exit_kind, session.exit_reason) == (
        "stopped_early",
        "stopped_early",
        "Severe dissociation",
    )


def test_stop_refuses_trailing_zero_amount(sessions, patient, nurse):
    sessions.to(patient, "in_progress")
    with pytest.raises(ValidationError, match="trailing zero"):
        administration_stop(
            actor=actor_for(nurse),
            administration=sessions.administration,
            amount_given_value="35.0",
            amount_given_unit="mg",
        )


def test_side_effect_recorded_and_other_needs_text(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    effect = side_effect_record(
        actor=actor_for(nurse),
        session=session,
        kind="nausea_vomiting",
        severity="mild",
        onset_at=timezone.now(),
        action_taken="Ondansetron per order",
    )
    assert effect.label == "Nausea / vomiting"
    with pytest.raises(ValidationError) as exc:
        side_effect_record(
            actor=actor_for(nurse),
            session=session,
            kind="other",
            severity="mild",
            onset_at=timezone.now(),
            action_taken="none",
        )
    assert "other_text" in exc.value.message_dict


def test_discharge_needs_post_vitals_and_all_criteria(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    criteria = {
        "alert_and_oriented": True,
        "vitals_near_baseline": True,
        "steady_walking": True,
        "escort_present_not_driving": True,
    }
    with pytest.raises(ActionRefused, match="post-session vitals"):
        discharge_record(actor=actor_for(nurse), session=session, **criteria)
    vitals_record(
        actor=actor_for(nurse),
        session=session,
        measured_at=timezone.now(),
        phase="post",
        systolic=120,
        diastolic=80,
        moaas=5,
        dissociation="none",
    )
    with pytest.raises(ValidationError) as exc:
        discharge_record(actor=actor_for(nurse), session=session, **{**criteria, "escort_present_not_driving": False})
    assert "escort_present_not_driving" in exc.value.message_dict
    discharge_record(actor=actor_for(nurse), session=session, **criteria)
    session.refresh_from_db()
    assert session.status == SessionStatus.DISCHARGED


def test_sign_refused_before_discharge(sessions, patient, nurse):
    session = sessions.to(patient, "recovery")
    with pytest.raises(ActionRefused, match="sign after discharge"):
        session_sign(actor=actor_for(nurse), session=session)


def test_physician_cannot_sign_as_charting_nurse(sessions, patient, physician):
    session = sessions.to(patient, "discharged")
    with pytest.raises(PermissionDenied):
        session_sign(actor=actor_for(physician), session=session)


def test_cosign_refused_before_signature_and_twice(sessions, patient, physician):
    session = sessions.to(patient, "discharged")
    with pytest.raises(ActionRefused, match="not signed"):
        session_cosign(actor=actor_for(physician), session=session)
    session = sessions.to(patient, "signed")
    session_cosign(actor=actor_for(physician), session=session)
    with pytest.raises(ActionRefused, match="already co-signed"):
        session_cosign(actor=actor_for(physician), session=session)


def test_signed_session_refuses_charting_in_actions(sessions, patient, nurse):
    session = sessions.to(patient, "signed")
    with pytest.raises(ActionRefused, match="signed and locked"):
        vitals_record(actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="post", heart_rate=70)
    with pytest.raises(ActionRefused, match="signed and locked"):
        sessions.order(session)


def test_addendum_only_on_signed_and_in_order(sessions, patient, nurse, physician):
    session = sessions.to(patient, "discharged")
    with pytest.raises(ActionRefused, match="not signed"):
        addendum_add(actor=actor_for(nurse), session=session, text="x", reason="y")
    session = sessions.to(patient, "signed")
    with pytest.raises(ValidationError) as exc:
        addendum_add(actor=actor_for(nurse), session=session, text=" ", reason="")
    assert set(exc.value.message_dict) == {"text", "reason"}
    first = addendum_add(
        actor=actor_for(nurse), session=session, text="Patient phoned: well at home.", reason="Follow-up call"
    )
    second = addendum_add(actor=actor_for(physician), session=session, text="Reviewed.", reason="Review")
    assert list(session.addenda.all()) == [first, second]
    assert first.author_name == nurse.printed_name
    assert AuditEvent.objects.filter(action="addendum", patient=patient).count() == 2


def test_times_in_the_future_refused(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    with pytest.raises(ValidationError) as exc:
        side_effect_record(
            actor=actor_for(nurse),
            session=session,
            kind="dizziness",
            severity="mild",
            onset_at=timezone.now() + timedelta(minutes=5),
            action_taken="none",
        )
    assert "onset_at" in exc.value.message_dict


def test_adjunct_medication_is_its_own_order_and_administration(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    adjunct = sessions.order(
        session,
        medication="Ondansetron",
        dose_value="4",
        dose_unit="mg",
        route="iv_infusion",
        rate_text="once",
        order_text="Ondansetron 4 mg IV once for nausea",
    )
    given = administration_start(actor=actor_for(nurse), order=adjunct, site="Same line", lot_number="OND-7")
    administration_stop(actor=actor_for(nurse), administration=given, amount_given_value="4", amount_given_unit="mg")
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS  # the ketamine infusion is still running
    assert session.orders.count() == 2 and session.administrations.count() == 2
    administration_stop(
        actor=actor_for(nurse),
        administration=sessions.administration,
        amount_given_value="35",
        amount_given_unit="mg",
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.RECOVERY
