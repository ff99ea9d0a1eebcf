"""Signature seals: a signed session's content is bound to its signature in the audit chain.

Tampering is done as the database owner would: with the protective triggers switched
off (tests/dbtools.py), straight in SQL, after the session was signed.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.actions.medications import order_cosign
from records.actions.sessions import addendum_add, session_cosign, session_sign
from records.actions.vitals import vitals_mark_entered_in_error
from records.models import AuditEvent, AuditVerification, Order, Session, VitalsReading
from records.seals import CONTENT_KEY, SEAL_KEY, seal_hash, session_seals, verify_seals
from tests.charting import chart_session
from tests.conftest import actor_for
from tests.dbtools import triggers_suspended
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(nurse, physician, patient):
    """A held-then-proceeded session with a verbal order, a side effect and a struck reading, signed by the nurse."""
    session = chart_session(
        nurse=nurse,
        physician=physician,
        patient=patient,
        start=timezone.now() - timedelta(hours=3),
        held=True,
        side_effect=True,
        received_as="verbal",
        sign=False,
    )
    struck = session.readings.exclude(phase="pre").first()
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=struck, reason="Cuff on the wrong arm")
    session_sign(actor=actor_for(nurse), session=session)
    return Session.objects.get(pk=session.pk)


def seal_event(session, action="sign") -> AuditEvent:
    return AuditEvent.objects.get(action=action, record_type="session", record_id=str(session.pk))


def run_verify(*args) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=out)
    return out.getvalue()


def verify_fails(*args) -> str:
    with pytest.raises(CommandError) as excinfo:
        run_verify(*args)
    return str(excinfo.value)


def tamper(sql: str, params=()):
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(sql, params)


# What a seal holds --------------------------------------------------------------------------


def test_signing_writes_the_seal_of_the_signed_content_into_the_audit_chain(signed):
    changes = seal_event(signed).changes
    sealed = changes[SEAL_KEY][1]
    content = changes[CONTENT_KEY][1]
    assert seal_hash(content) == sealed and len(sealed) == 64
    assert content["kind"] == "sign"
    assert content["session_id"] == signed.pk
    assert content["session"]["signed_name"] == "Nina Reyes"
    assert "status" not in content["session"] and "cosigned_at" not in content["session"]
    # The dose exactly as written, a string; the struck reading with its mark.
    (order,) = content["orders"]
    assert (order["dose_value"], order["dose_unit"], order["cosigned_at"]) == ("0.5", "mg/kg/h", None)
    struck = [r for r in content["readings"] if r["entered_in_error_at"]]
    assert [r["entered_in_error_reason"] for r in struck] == ["Cuff on the wrong arm"]
    assert len(content["readings"]) == signed.readings.count()
    assert content["screenings"][0]["decision"] == "proceed"
    assert len(content["administrations"]) == 1
    assert [e["kind"] for e in content["administration_events"]] == ["start", "stop"]
    assert content["side_effects"][0]["kind"] == "nausea_vomiting"
    assert len(content["discharges"]) == 1
    assert content["addenda"] == []


def test_a_signed_and_co_signed_session_verifies(signed, physician):
    session_cosign(actor=actor_for(physician), session=signed)
    cosign = seal_event(signed, "cosign").changes
    assert cosign[CONTENT_KEY][1]["session"]["cosigned_name"] == "Omar Haddad"
    output = run_verify()
    assert "Checked the seals of 1 signed sessions (2 seals)." in output
    assert "Audit chain intact." in output
    assert AuditVerification.objects.get().result == "intact"


def test_what_may_follow_a_signature_does_not_break_its_seal(signed, nurse, physician):
    """The verbal order's co-signature and an addendum come after the nurse signs, by design."""
    order_cosign(actor=actor_for(physician), order=signed.orders.get())
    addendum_add(actor=actor_for(nurse), session=signed, text="Ride home confirmed.", reason="Late entry")
    session_cosign(actor=actor_for(physician), session=signed)
    cosign = seal_event(signed, "cosign").changes[CONTENT_KEY][1]
    # The co-signature's seal covers what was there when the physician co-signed.
    assert cosign["orders"][0]["cosigned_at"] is not None
    assert [a["text"] for a in cosign["addenda"]] == ["Ride home confirmed."]
    assert "Audit chain intact." in run_verify()


def test_an_order_co_signed_after_the_session_co_signature_breaks_no_seal(signed, physician):
    session_cosign(actor=actor_for(physician), session=signed)
    order_cosign(actor=actor_for(physician), order=signed.orders.get())
    assert "Audit chain intact." in run_verify()


# Tampering after the signature ----------------------------------------------------------------


def test_a_dose_changed_in_the_database_after_signing_is_named(signed):
    order = signed.orders.get()
    tamper(f"UPDATE {Order._meta.db_table} SET dose_value = %s WHERE id = %s", ["5", order.pk])
    message = verify_fails()
    assert f"session(s) {signed.pk} no longer matches" in message
    run = AuditVerification.objects.get()
    assert run.result == "tampered"
    assert f"session {signed.pk}" in run.problem
    assert f"orders #{order.pk} dose_value: signed '0.5', now '5'" in run.problem
    # The chain itself is intact: its head is still recorded.
    assert run.head_seq is not None
    event = AuditEvent.objects.filter(action="verify").latest("seq")
    assert event.changes["sessions_changed"] == [None, str(signed.pk)]


@pytest.mark.parametrize(
    "change",
    [
        "DELETE FROM records_administrationevent WHERE kind = 'stop'",
        "UPDATE records_vitalsreading SET entered_in_error_at = NULL, entered_in_error_by_id = NULL, "
        "entered_in_error_reason = ''",
        "UPDATE records_screening SET psychosis_current = 'no', hypertension_history = 'no'",
        "UPDATE records_administration SET amount_given_value = '350'",
        "UPDATE records_sideeffect SET severity = 'severe'",
        "UPDATE records_discharge SET note = 'Left alone'",
        "UPDATE records_session SET chair = 'Chair 9'",
    ],
    ids=["event-removed", "strike-undone", "screening", "amount", "side-effect", "discharge", "session-row"],
)
def test_any_signed_row_changed_is_named(signed, change):
    tamper(change)
    message = verify_fails()
    assert f"session(s) {signed.pk} no longer matches" in message


def test_a_reading_added_to_a_signed_session_is_named(signed, nurse):
    reading = signed.readings.first()
    tamper(
        f"INSERT INTO {VitalsReading._meta.db_table} (session_id, measured_at, entered_at, entered_by_id, phase, "
        "systolic, diastolic, dissociation, note, entered_in_error_reason) "
        "VALUES (%s, %s, %s, %s, 'post', 120, 80, '', '', '')",
        [signed.pk, reading.measured_at, reading.entered_at, nurse.pk],
    )
    verify_fails()
    assert "added since signing" in AuditVerification.objects.get().problem


def test_a_session_unsigned_in_the_database_is_named(signed):
    tamper("UPDATE records_session SET signed_at = NULL, signed_by_id = NULL, status = 'discharged'")
    verify_fails()
    assert f"session {signed.pk}: no longer signed" in AuditVerification.objects.get().problem


def test_a_session_signed_in_the_database_without_the_action_is_named(nurse, physician, patient):
    session = chart_session(
        nurse=nurse, physician=physician, patient=patient, start=timezone.now() - timedelta(hours=3), sign=False
    )
    tamper(
        "UPDATE records_session SET signed_at = %s, signed_by_id = %s, status = 'signed' WHERE id = %s",
        [timezone.now(), nurse.pk, session.pk],
    )
    verify_fails()
    assert "no signature event" in AuditVerification.objects.get().problem


def test_a_co_signature_tampered_with_breaks_the_co_signature_seal(signed, physician):
    order_cosign(actor=actor_for(physician), order=signed.orders.get())
    session_cosign(actor=actor_for(physician), session=signed)
    tamper("UPDATE records_order SET cosigned_at = %s", [timezone.now() - timedelta(days=1)])
    verify_fails()
    problem = AuditVerification.objects.get().problem
    assert "co-signature seal" in problem and "cosigned_at" in problem


def test_a_signature_without_a_seal_is_counted_not_failed(signed, nurse, physician, patient, monkeypatch):
    """Sessions signed before seals were written: their content is not sealed, and said so."""
    import records.actions.sessions as actions

    monkeypatch.setattr(actions, "seal_make", lambda **kwargs: {})
    older = chart_session(
        nurse=nurse, physician=physician, patient=patient, start=timezone.now() - timedelta(hours=2), sign=False
    )
    session_sign(actor=actor_for(nurse), session=older)
    output = run_verify()
    assert "1 signed before seals were written" in output
    assert "Audit chain intact." in output


# A head kept outside the database ------------------------------------------------------------


def test_expect_checks_the_chain_against_a_head_kept_outside(signed):
    event = AuditEvent.objects.get(seq=3)
    assert "Audit chain intact." in run_verify("--expect", f"3:{event.entry_hash}")
    assert f"Position 3 has the expected hash {event.entry_hash}" in run_verify("--expect", f"3:{event.entry_hash}")
    wrong = ("0" if event.entry_hash[0] != "0" else "1") + event.entry_hash[1:]
    message = verify_fails("--expect", f"3:{wrong}")
    assert f"at position 3: its hash {event.entry_hash} is not the expected {wrong}" in message
    assert AuditVerification.objects.latest("id").result == "tampered"


def test_expect_beyond_the_end_of_the_chain_fails(signed):
    last = AuditEvent.objects.latest("seq")
    message = verify_fails("--expect", f"{last.seq + 50}:{'a' * 64}")
    assert f"names position {last.seq + 50}: the latest events were removed" in message


@pytest.mark.parametrize("bad", ["3", "x:" + "a" * 64, "0:" + "a" * 64, "3:abc", "3:" + "g" * 64])
def test_expect_needs_a_position_and_a_hash(signed, bad):
    with pytest.raises(CommandError, match="--expect"):
        run_verify("--expect", bad)
    assert not AuditVerification.objects.exists()


def test_the_head_printed_is_the_one_to_expect(signed):
    output = run_verify()
    line = next(line for line in output.splitlines() if "verify_audit --expect" in line)
    head = line.split("--expect ")[1].rstrip(")")
    assert "Audit chain intact." in run_verify("--expect", head)


# Reading the seals in batches ----------------------------------------------------------------


def test_checking_seals_costs_the_same_queries_per_batch_whatever_the_number_of_sessions(
    nurse, physician, make_patient
):
    def sign_sessions(count):
        for _ in range(count):
            chart_session(
                nurse=nurse, physician=physician, patient=make_patient(), start=timezone.now() - timedelta(hours=3)
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            report = verify_seals(batch_size=100)
        assert report.intact
        return len(captured)

    sign_sessions(2)
    few = queries()
    sign_sessions(6)
    assert queries() == few
    with CaptureQueriesContext(connection) as captured:
        report = verify_seals(batch_size=3)
    assert report.sessions_checked == 8
    assert len(captured) <= 3 * few + 1


# The print shows what was signed -------------------------------------------------------------


def test_the_print_of_a_signed_session_shows_its_seal(client_for, signed, physician):
    text = pdf_text(client_for(physician).get(reverse("session_pdf", args=[signed.pk])).content)
    sealed = seal_event(signed).changes[SEAL_KEY][1]
    assert "Charted by Nina Reyes" in text
    assert sealed in text.replace(" ", "")
    assert "The database still holds exactly the content this seal covers." in text
    assert "NO LONGER MATCHES" not in text
    assert "Ketamine 0.5 mg/kg/h" in text
    assert "Cuff on the wrong arm" in text


def test_the_print_shows_the_signed_dose_and_warns_when_the_database_differs(client_for, signed, physician):
    tamper(f"UPDATE {Order._meta.db_table} SET dose_value = '5', order_text = 'Ketamine 5 mg/kg/h IV'")
    response = client_for(physician).get(reverse("session_pdf", args=[signed.pk]))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "THIS SESSION'S RECORD IN THE DATABASE NO LONGER MATCHES WHAT WAS SIGNED" in text
    assert "dose_value: signed '0.5', now '5'" in text
    # The record as signed; the database's values only in the warning that names them.
    assert "Medication and dose Ketamine 0.5 mg/kg/h" in text
    assert "Order text, verbatim Ketamine 0.5 mg/kg/h IV infusion over 40 minutes" in text
    assert text.count("Ketamine 5 mg/kg/h IV") == 1
    assert "Ketamine 5 mg/kg/h," not in text
    assert "The database no longer matches this seal." in text


def test_the_print_marks_an_order_co_signed_after_the_signature(client_for, signed, physician):
    order_cosign(actor=actor_for(physician), order=signed.orders.get())
    text = pdf_text(client_for(physician).get(reverse("session_pdf", args=[signed.pk])).content)
    assert "Ordered by (co-signature): Omar Haddad" in text
    assert "Co-signed after the nurse signed the session" in text
    assert "NO LONGER MATCHES" not in text


def test_seals_of_one_session_are_checked_for_the_print(signed):
    seals = session_seals(signed)
    assert seals is not None and seals.intact
    assert [s.kind for s in seals.seals] == ["sign"]


# The audit page shows the same ----------------------------------------------------------------


def test_the_audit_pages_verification_names_the_changed_session(client_for, admin_user, signed):
    client = client_for(admin_user)
    response = client.post(reverse("audit_verify"), follow=True)
    assert "signed session matches its seals" in response.content.decode()
    tamper("UPDATE records_administration SET amount_given_value = '350'")
    page = client.post(reverse("audit_verify"), follow=True).content.decode()
    assert "Tampering detected" in page
    assert f"session {signed.pk}" in page
    assert "amount_given_value: signed &#x27;35&#x27;, now &#x27;350&#x27;" in page
