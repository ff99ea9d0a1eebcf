"""The auditor's reports: filters, sorting, pages, expandable changes, CSV, the other reports, verification."""

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.actions.accounts import account_set_active, account_set_role
from records.audit import audit_record
from records.models import AuditAction, AuditEvent, AuditVerification
from records.permissions import Role
from records.selectors import AUDIT_SORTS
from tests.conftest import actor_for, confirm_identity
from tests.dbtools import triggers_suspended
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("UTC")
ROW = re.compile(r'<tr id="event-(\d+)">')


def seqs(response) -> list[int]:
    return [int(n) for n in ROW.findall(response.content.decode())]


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))[1:]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    confirm_identity(client)  # exports ask for it
    return client


@pytest.fixture
def scene(nurse, physician, make_patient):
    """Events by two people, on two patients, on different days, of different kinds."""
    alice = make_patient(mrn="AUD-1", family_name="Ashdown")
    bruno = make_patient(mrn="AUD-2", family_name="Bellamy")
    n, p = actor_for(nurse), actor_for(physician)
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=ZONE), tick=False):
        audit_record(actor=n, action=AuditAction.VIEW, patient=alice, record=alice)
    with time_machine.travel(datetime(2026, 3, 5, 10, 0, tzinfo=ZONE), tick=False):
        audit_record(
            actor=n,
            action=AuditAction.UPDATE,
            patient=alice,
            record=alice,
            changes={"allergies": ["No known allergies", "Latex (hives)"]},
            reason="Patient reported a reaction",
        )
    with time_machine.travel(datetime(2026, 3, 9, 11, 0, tzinfo=ZONE), tick=False):
        audit_record(actor=p, action=AuditAction.VIEW, patient=bruno, record=bruno)
        audit_record(
            actor=p,
            action=AuditAction.PRINT,
            patient=alice,
            record=alice,
            reason="=Printed for the patient's neurologist",
        )
    with time_machine.travel(datetime(2026, 3, 20, 12, 0, tzinfo=ZONE), tick=False):
        audit_record(actor=p, action=AuditAction.VIEW, patient=alice, record=alice)
    return {"alice": alice, "bruno": bruno}


def report(client, **params):
    return client.get(reverse("audit_log"), params)


NURSE_VIEW, NURSE_UPDATE = ("nurse_a", "view"), ("nurse_a", "update")
DOCTOR_VIEW, DOCTOR_PRINT = ("physician_a", "view"), ("physician_a", "print")
CREATED = ("tests", "create")
FILTER_CASES = [
    ({"patient": "aud-1"}, {CREATED, NURSE_VIEW, NURSE_UPDATE, DOCTOR_PRINT, DOCTOR_VIEW}),
    ({"patient": "AUD-2"}, {CREATED, DOCTOR_VIEW}),
    ({"role": "physician", "action": "view", "date_from": "2026-03-01"}, {DOCTOR_VIEW}),
    ({"action": "print"}, {DOCTOR_PRINT}),
    ({"action": "disclosures"}, {DOCTOR_PRINT}),
    (
        {"record_type": "patient", "date_from": "2026-03-05", "date_to": "2026-03-09"},
        {NURSE_UPDATE, DOCTOR_VIEW, DOCTOR_PRINT},
    ),
    ({"date_from": "2026-03-20", "date_to": "2026-03-20"}, {DOCTOR_VIEW}),
]


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
def test_each_filter_narrows_the_report(admin_client, scene, params, expected):
    response = report(admin_client, **params)
    assert response.status_code == 200
    shown = {(e.actor_username, e.action) for e in AuditEvent.objects.filter(seq__in=seqs(response))}
    assert shown == expected


def test_user_filter(admin_client, scene, nurse):
    response = report(admin_client, actor=nurse.pk, record_type="patient")
    events = AuditEvent.objects.filter(seq__in=seqs(response))
    assert {e.actor_id for e in events} == {nurse.pk}
    assert len(events) == AuditEvent.objects.filter(actor=nurse, record_type="patient").count()


def test_unknown_patient_is_a_field_error_not_a_500(admin_client, scene):
    response = report(admin_client, patient="NOPE-9")
    assert response.status_code == 200
    assert "No patient has the MRN NOPE-9." in response.content.decode()
    assert seqs(response) == []


def test_period_end_before_start_is_refused(admin_client, scene):
    response = report(admin_client, date_from="2026-03-10", date_to="2026-03-01")
    assert "The end date must be on or after the start date." in response.content.decode()


@pytest.mark.parametrize("key", sorted(AUDIT_SORTS))
def test_every_column_sorts_both_ways_with_a_stable_tie_breaker(admin_client, scene, key):
    ascending = seqs(report(admin_client, sort=key, date_to="2026-03-31"))
    descending = seqs(report(admin_client, sort=f"-{key}", date_to="2026-03-31"))
    assert len(ascending) >= 5
    assert descending == list(reversed(ascending))


def test_sorting_follows_the_column_values(admin_client, scene):
    by_user = seqs(report(admin_client, sort="user", patient="AUD-1"))
    names = [AuditEvent.objects.get(seq=s).actor_username for s in by_user]
    assert names == sorted(names)
    by_action = seqs(report(admin_client, sort="-action", patient="AUD-1"))
    actions = [AuditEvent.objects.get(seq=s).action for s in by_action]
    assert actions == sorted(actions, reverse=True)
    # Ties keep the chain's order.
    views = [s for s, a in zip(by_action, actions, strict=True) if a == "view"]
    assert views == sorted(views, reverse=True)


def test_newest_first_by_default_and_an_unknown_sort_is_ignored(admin_client, scene):
    default = seqs(report(admin_client, patient="AUD-1"))
    times = [AuditEvent.objects.get(seq=s).occurred_at for s in default]
    assert times == sorted(times, reverse=True)
    assert seqs(report(admin_client, patient="AUD-1", sort="password")) == default


def test_column_headings_link_to_sorting_and_say_which_is_active(admin_client, scene):
    content = report(admin_client, patient="AUD-1", sort="user").content.decode()
    assert 'aria-sort="ascending"' in content
    assert "patient=AUD-1&amp;sort=-user" in content


def test_rows_expand_to_before_and_after(admin_client, scene):
    content = report(admin_client, patient="AUD-1", action="update").content.decode()
    assert "<details" in content
    assert "<summary>1 field</summary>" in content
    assert re.search(r"<th scope=\"row\">allergies</th><td>No known allergies</td><td>Latex \(hives\)</td>", content)
    assert "Patient reported a reaction" in content


def test_pages_and_a_capped_count(admin_client, nurse, settings):
    actor = actor_for(nurse)
    for n in range(7):
        audit_record(actor=actor, action=AuditAction.SEARCH, record_type="patient", record_id=n)
    settings.AUDIT_EVENTS_PER_PAGE = 3
    first = report(admin_client, action="search")
    assert len(seqs(first)) == 3
    assert "7 events." in first.content.decode()
    last = report(admin_client, action="search", page=3)
    assert len(seqs(last)) == 1
    settings.AUDIT_REPORT_COUNT_CAP = 5
    capped = report(admin_client, action="search").content.decode()
    assert "More than 5 events match" in capped
    assert "Page 1 of 2" in capped


@pytest.fixture
def patients_out_of_mrn_order(nurse, make_patient):
    """Three patients registered in another order than their MRNs', events about each and about no one,
    in March, interleaved in time."""
    actor = actor_for(nurse)
    patients = [make_patient(mrn=mrn, family_name=name) for mrn, name in (("SRT-3", "Cole"), ("SRT-1", "Amos"))]
    patients.append(make_patient(mrn="SRT-2", family_name="Bray"))
    for day, who in enumerate([0, None, 2, 1, None, 0, 2, None, 1, 0], start=1):
        with time_machine.travel(datetime(2026, 3, day, 9, 0, tzinfo=ZONE), tick=False):
            if who is None:
                audit_record(actor=actor, action=AuditAction.SEARCH, record_type="patient", record_id=day)
            else:
                audit_record(actor=actor, action=AuditAction.VIEW, patient=patients[who], record=patients[who])
    return patients


@pytest.mark.parametrize("sort", ["patient", "-patient"])
def test_by_patient_the_pages_are_cut_from_one_order(admin_user, patients_out_of_mrn_order, sort):
    """The report sorted by patient reads the events about patients (by MRN, then time) and the events about
    no patient (by position) separately: every slice a page can take is the slice of the one sorted list."""
    from records.selectors import audit_events, audit_ordering, audit_report_rows

    march = audit_events(user=admin_user, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    whole = list(march.order_by(*audit_ordering(sort)))
    rows = audit_report_rows(march, sort)
    assert len(whole) == 10
    mrns = [e.patient.mrn if e.patient else None for e in whole]
    with_patient = [m for m in mrns if m]
    assert with_patient == sorted(with_patient, reverse=sort.startswith("-"))
    assert mrns[len(with_patient) :] == [None, None, None], "events about no patient come last either way"
    for start in range(len(whole) + 2):
        for stop in range(start, len(whole) + 3):
            assert [e.seq for e in rows[start:stop]] == [e.seq for e in whole[start:stop]], (start, stop)
    assert [rows.bounded_count(cap) for cap in (2, 7, 9, 10, 50)] == [3, 8, 10, 10, 10]


def test_by_patient_the_report_pages_through_every_event_once(admin_client, patients_out_of_mrn_order, settings):
    settings.AUDIT_EVENTS_PER_PAGE = 4
    for sort in ("patient", "-patient"):
        shown = [seqs(report(admin_client, sort=sort, date_to="2026-03-31", page=page)) for page in (1, 2, 3)]
        assert [len(rows) for rows in shown] == [4, 4, 2]
        events = [AuditEvent.objects.select_related("patient").get(seq=s) for rows in shown for s in rows]
        assert [e.patient.mrn if e.patient else None for e in events] == [
            *(["SRT-1"] * 2 + ["SRT-2"] * 2 + ["SRT-3"] * 3 if sort == "patient" else ["SRT-3"] * 3 + ["SRT-2"] * 2),
            *([] if sort == "patient" else ["SRT-1"] * 2),
            None,
            None,
            None,
        ]


def test_report_page_uses_a_constant_number_of_queries(admin_client, nurse):
    actor = actor_for(nurse)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert report(admin_client, role="nurse").status_code == 200
        return len(captured)

    patient = PatientFactory()
    audit_record(actor=actor, action=AuditAction.VIEW, patient=patient, record=patient)
    few = queries()
    for other in PatientFactory.create_batch(30):
        audit_record(actor=actor, action=AuditAction.UPDATE, patient=other, record=other, changes={"phone": ["1", "2"]})
    assert queries() == few


def test_viewing_the_report_is_audited(admin_client, scene, admin_user):
    report(admin_client, patient="AUD-1")
    event = AuditEvent.objects.latest("seq")
    assert (event.actor_id, event.action, event.record_type, event.record_id) == (
        admin_user.pk,
        "view",
        "audit_report",
        "audit_log",
    )
    assert "Patient MRN: AUD-1" in event.reason


def test_csv_matches_the_page_and_is_audited_as_an_export(admin_client, scene, admin_user):
    params = {"patient": "AUD-1", "sort": "user"}
    page = seqs(report(admin_client, **params))
    response = admin_client.get(reverse("audit_export"), params)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = csv_rows(response)
    assert [int(row[0]) for row in rows] == page
    update = next(row for row in rows if row[4] == "update")
    assert update[2:8] == ["nurse_a", "nurse", "update", "AUD-1", "patient", str(scene["alice"].pk)]
    assert update[8] == '{"allergies": ["No known allergies", "Latex (hives)"]}'
    assert update[12] == AuditEvent.objects.get(seq=update[0]).entry_hash
    # A cell a spreadsheet would run as a formula is neutralised.
    assert next(row for row in rows if row[4] == "print")[9] == "'=Printed for the patient's neurologist"

    export = AuditEvent.objects.filter(action="export").get()
    assert (export.actor_id, export.patient_id, export.record_id) == (admin_user.pk, scene["alice"].pk, "audit_log.csv")
    assert "Patient MRN: AUD-1" in export.reason
    assert export.seq > max(page)


def test_csv_of_invalid_filters_goes_back_to_the_report(admin_client, scene):
    response = admin_client.get(reverse("audit_export"), {"patient": "NOPE"})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize("role", [Role.NURSE, Role.PHYSICIAN])
def test_clinicians_cannot_export_or_verify(client, make_user, scene, role):
    client.force_login(make_user(role))
    assert client.get(reverse("audit_export")).status_code == 403
    assert client.post(reverse("audit_verify")).status_code == 403
    assert not AuditVerification.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["export", "verify"]).exists()


def test_admin_verifies_from_the_page(admin_client, scene, admin_user):
    response = admin_client.post(reverse("audit_verify"), follow=True)
    content = response.content.decode()
    assert "Audit chain intact:" in content
    run = AuditVerification.objects.get()
    assert (run.result, run.started_by_id) == ("intact", admin_user.pk)
    assert "Last verification" in content
    assert "by admin_a" in content
    assert AuditEvent.objects.filter(action="verify", actor=admin_user).exists()


def test_page_shows_tampering_found_by_a_verification(admin_client, scene):
    target = AuditEvent.objects.filter(action="update").get()
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET reason = 'nothing' WHERE id = %s", [target.pk])
    content = admin_client.post(reverse("audit_verify"), follow=True).content.decode()
    assert "Tampering detected." in content
    assert f"event #{target.pk} at position {target.seq}" in content
    assert "tampering detected</strong>" in content


def test_patient_access_report(admin_client, scene, nurse, physician):
    response = admin_client.get(reverse("audit_patient_access"), {"patient": "AUD-1"})
    content = response.content.decode()
    people = {(p["actor_username"], p["views"], p["changes"], p["disclosures"]) for p in response.context["people"]}
    assert people == {("nurse_a", 1, 1, 0), ("physician_a", 1, 0, 1), ("tests", 0, 1, 0)}
    shown = AuditEvent.objects.filter(seq__in=seqs(response))
    assert {e.patient_id for e in shown} == {scene["alice"].pk}
    assert "ASHDOWN" in content.upper()
    # The period narrows it.
    response = admin_client.get(
        reverse("audit_patient_access"), {"patient": "AUD-1", "date_from": "2026-03-10", "date_to": "2026-03-31"}
    )
    assert {p["actor_username"] for p in response.context["people"]} == {"physician_a"}


def test_patient_access_asks_for_a_patient(admin_client):
    response = admin_client.get(reverse("audit_patient_access"))
    assert response.status_code == 200
    assert "patient" not in response.context


def test_accounting_of_disclosures(admin_client, scene):
    response = admin_client.get(reverse("audit_disclosures"))
    content = response.content.decode()
    actions = {e.action for e in response.context["page"].object_list}
    assert actions == {"print"}
    assert "2026-03-09" in content
    assert "physician_a" in content
    assert "=Printed for the patient&#x27;s neurologist" in content
    # An export of the audit report about a patient is a disclosure of that patient too.
    admin_client.get(reverse("audit_export"), {"patient": "AUD-1"})
    response = admin_client.get(reverse("audit_disclosures"), {"patient": "AUD-1"})
    assert {e.action for e in response.context["page"].object_list} == {"print", "export"}
    response = admin_client.get(reverse("audit_disclosures"), {"patient": "AUD-2"})
    assert list(response.context["page"].object_list) == []


def test_user_activity_shows_what_the_account_did_and_who_changed_it(admin_client, scene, nurse, make_user):
    other_admin = make_user(Role.ADMIN, "admin_b")
    admin_b = actor_for(other_admin)
    account_set_role(actor=admin_b, account=nurse, role=Role.PHYSICIAN, reason="Qualified as a physician")
    account_set_active(actor=admin_b, account=nurse, active=False, reason="Left the clinic")
    response = admin_client.get(reverse("audit_user_activity"), {"user": nurse.pk})
    content = response.content.decode()
    changes = [(e.action, e.actor_username) for e in response.context["account_changes"]]
    assert changes == [("deactivate", "admin_b"), ("role_change", "admin_b"), ("create", "tests")]
    assert "role: nurse → physician" in content
    assert "Qualified as a physician" in content
    assert "Left the clinic" in content
    assert "Deactivated account." in content
    activity = AuditEvent.objects.filter(seq__in=seqs(response))
    assert {e.actor_id for e in activity} == {nurse.pk}
    assert len(activity) == AuditEvent.objects.filter(actor=nurse).count()
    response = admin_client.get(
        reverse("audit_user_activity"), {"user": nurse.pk, "date_from": "2026-03-02", "date_to": "2026-03-31"}
    )
    assert [e.action for e in response.context["page"].object_list] == ["update"]


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("audit_patient_access", lambda patient, nurse: {"patient": patient.mrn}),
        ("audit_user_activity", lambda patient, nurse: {"user": nurse.pk}),
        ("audit_disclosures", lambda patient, nurse: {}),
    ],
)
def test_other_reports_use_a_constant_number_of_queries(admin_client, nurse, physician, patient, url_name, params):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse(url_name), params(patient, nurse)).status_code == 200
        return len(captured)

    def access(user):
        audit_record(actor=actor_for(user), action=AuditAction.VIEW, patient=patient, record=patient)
        audit_record(actor=actor_for(user), action=AuditAction.PRINT, patient=patient, record=patient, reason="copy")

    access(nurse)
    few = queries()
    for n in range(25):
        access((nurse, physician)[n % 2])
    assert queries() == few


@pytest.mark.django_db(transaction=True)
def test_a_large_log_is_verified_in_the_background(client, admin_user, scene, settings):
    settings.AUDIT_VERIFY_IN_REQUEST_MAX = 3
    client.force_login(admin_user)
    response = client.post(reverse("audit_verify"))
    assert response.status_code == 302
    # Queued for the worker (tests/test_background_tasks.py), not run in the request.
    assert "started in the background" in client.get(response.url).content.decode()
    assert not AuditVerification.objects.exists()
    call_command("task_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    run = AuditVerification.objects.get()
    assert (run.result, run.started_by_id) == ("intact", admin_user.pk)
    assert AuditEvent.objects.filter(action="verify", actor=admin_user).exists()
    assert "intact</strong>" in client.get(reverse("audit_log")).content.decode()


def test_details_sort_by_their_first_characters_then_the_chain(admin_client, scene):
    """A reason sorts by its first DETAILS_SORT_CHARS characters (what the index holds), ties in the chain's order."""
    from records.selectors import DETAILS_SORT_CHARS

    by_details = seqs(report(admin_client, sort="details", date_to="2026-03-31"))
    keys = [(AuditEvent.objects.get(seq=s).reason[:DETAILS_SORT_CHARS], s) for s in by_details]
    assert keys == sorted(keys)
