"""Every read of a patient's data is audited, and a GET changes nothing: both generated from the URL list.

Each page a GET may open is in exactly one of three tables below: pages that show a
patient (one view, print or search event naming that patient), list pages (one event
saying what was listed), and pages that show no patient's data, each with the reason.
A new page fails `test_every_readable_page_is_classified` until it is put in one.

Then every URL is opened with GET by every role, and by someone half-way through
signing in (password given, authenticator not yet set up): no table changes but the
audit log, the login sessions and django-axes' log-in records.
"""

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse

from records.models import AuditEvent, Patient
from records.permissions import Role
from tests.conftest import PASSWORD, confirm_identity
from tests.views.test_access_matrix import ACCESS, ADMIN, ANON, LOGIN, NURSE, PHYSICIAN, url_kwargs  # noqa: F401

READ_ACTIONS = {"view", "print", "search", "export", "disclosure"}

# Pages that show one patient's data: a GET writes one read event naming the patient.
PATIENT_PAGES = {
    "patient_detail",
    "patient_edit",
    "patient_history",
    "patient_intake",
    "patient_intake_edit",
    "patient_outcome_new",
    "patient_summary_pdf",
    "patient_session_new",
    "session_detail",
    "session_screening",
    "session_screening_decision",
    "session_order_new",
    "session_discharge",
    "session_pdf",
    "session_rems_form",
    "session_rems_print",
    "session_rems_pdf",
    # Polled by the session page; a view event only when it shows new readings (204 otherwise).
    "session_device_readings",
    # Asked for by the session page after a reading is saved.
    "session_vitals_charts",
    "patient_fhir_bundle",
}

# List pages: a GET writes one read event saying what was listed. name -> (action, record type, query).
LIST_PAGES = {
    "patient_list": ("search", "patient", {}),
    "session_board": ("view", "session_board", {}),
    "physician_worklist": ("view", "physician_worklist", {}),
    "rems_worklist": ("view", "rems_worklist", {}),
    "audit_log": ("view", "audit_report", {}),
    "audit_export": ("export", "audit_report", {}),
    "audit_disclosures": ("view", "audit_report", {}),
    "audit_patient_access": ("view", "audit_report", {"patient": "{mrn}"}),
    "audit_user_activity": ("view", "audit_report", {"user": "{nurse}"}),
    "device_readings_unmatched": ("view", "unmatched_device_readings", {}),
    # Polled by the board; a view event only when it shows new readings (204 otherwise).
    "session_board_device_readings": ("view", "board_device_readings", {}),
}

# Pages that show no patient's data, and why.
NO_PATIENT_DATA = {
    "home": "sends each role on to its start page",
    "login": "the log-in form",
    "password_change": "the person's own password",
    "mfa_verify": "the person's own authenticator step",
    "mfa_enrol": "the person's own authenticator set-up",
    "session_keepalive": "seconds left before the idle sign-out",
    "reauth": "asks the person's own password again",
    "patient_register": "an empty registration form",
    "clinic_settings": "the clinic's thresholds and ranges",
    "protocol_list": "the clinic's monitoring protocols (when to look, what to measure)",
    "protocol_new": "an empty protocol form",
    "protocol_edit": "a monitoring protocol's form",
    "account_list": "staff accounts and their roles",
    "account_new": "an empty account form",
    "monitor_list": "bedside monitors and the chairs they stand at",
    "fhir_metadata": "the API's capability statement",
    "health": "the load balancer's check: database, migrations, worker; nothing about anyone",
    # A finished task's result is shown with a view event (tests/test_background_tasks.py).
    "background_task": "a background task's progress; its finished result is audited as a view",
    "fhir_export": "the export form (after re-authentication); the export itself is audited as a disclosure",
    "fhir_export_download": "a finished export's file, downloaded after re-authentication and audited as a disclosure",
    # The read API answers only to an API token (a browser's log-in gets 401); every read and
    # search with a token writes its event (tests/fhir/test_api.py).
    "fhir_read": "token only: each read audited by the API",
    "fhir_search": "token only: each search audited by the API",
    "fhir_unknown": "token only: an unknown resource type, an OperationOutcome",
}

SIGNED_IN = (NURSE, PHYSICIAN, ADMIN)


def readable(name: str) -> bool:
    """A GET of the page shows something to someone (not only a redirect to log in, a 403 or a 405)."""
    return any(ACCESS[name][role] not in (LOGIN, 403, 405) for role in (ANON, *SIGNED_IN))


def test_every_readable_page_is_classified():
    tables = [PATIENT_PAGES, set(LIST_PAGES), set(NO_PATIENT_DATA)]
    assert sum(len(t) for t in tables) == len(set().union(*tables)), "a page is in two tables"
    assert set().union(*tables) == {name for name in ACCESS if readable(name)}


def readers(name: str) -> list[str]:
    return [role for role in SIGNED_IN if ACCESS[name][role] == 200 or (name == "audit_export" and role == ADMIN)]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PATIENT_PAGES | set(LIST_PAGES)))
def test_a_read_writes_one_read_event(url_world, url_kwargs, world_patient, world_nurse, name):  # noqa: F811
    patient, nurse = world_patient, world_nurse
    url = reverse(name, kwargs=url_kwargs(name))
    _, _, query = LIST_PAGES.get(name, (None, None, {}))
    query = {key: value.format(nurse=nurse.pk, mrn=world_patient.mrn) for key, value in query.items()}
    assert readers(name)
    for role in readers(name):
        client = url_world.sign_in(Client(), role)
        confirm_identity(client)
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

        response = client.get(url, query)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)

        assert response.status_code == 200, f"{role} GET {url}"
        written = list(AuditEvent.objects.filter(seq__gt=last))
        reads = [event for event in written if event.action in READ_ACTIONS]
        assert len(reads) == 1, f"{role} GET {url}: {[(e.action, e.record_type) for e in written]}"
        if name in PATIENT_PAGES:
            assert reads[0].patient_id == patient.pk, f"{role} GET {url} names no patient"
        else:
            action, record_type, _ = LIST_PAGES[name]
            assert (reads[0].action, reads[0].record_type) == (action, record_type)
            assert reads[0].changes or reads[0].reason, "the event says what was listed"


# A GET changes nothing --------------------------------------------------------------------------

# What a GET may write: its own audit events, the login session, django-axes' log-in records.
# The API's rate limit counts requests (records.ratelimitcounter), not anyone's data.
MAY_CHANGE = {
    "records.auditevent",
    "records.ratelimitcounter",
    "sessions.session",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}
ENROLLING = "signed in with a password only"


def every_table() -> dict[str, list]:
    """Every row of every table a GET must not change, read with one plain query per table."""
    with connection.cursor() as cursor:
        rows = {}
        for label, sql in _snapshot_queries():
            cursor.execute(sql)
            rows[label] = cursor.fetchall()
    return rows


def _snapshot_queries() -> list[tuple[str, str]]:
    quote = connection.ops.quote_name
    return [
        (
            model._meta.label_lower,
            f"SELECT * FROM {quote(model._meta.db_table)} ORDER BY {quote(model._meta.pk.column)}",
        )
        for model in apps.get_models()
        if model._meta.label_lower not in MAY_CHANGE and model._meta.managed
    ]


def client_as(role: str, url_world, make_user) -> Client:
    client = Client()
    if role == ENROLLING:
        make_user(Role.NURSE, "half_signed_in")
        response = client.post(reverse("login"), {"username": "half_signed_in", "password": PASSWORD})
        assert response.url.startswith(reverse("mfa_enrol"))
    elif role != ANON:
        url_world.sign_in(client, role)
        confirm_identity(client)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ACCESS))
def test_a_get_by_anyone_changes_no_table(make_user, url_world, url_kwargs, world_patient, world_nurse, name):  # noqa: F811
    nurse = world_nurse
    url = reverse(name, kwargs=url_kwargs(name))
    _, _, query = LIST_PAGES.get(name, (None, None, {}))
    query = {key: value.format(nurse=nurse.pk, mrn=world_patient.mrn) for key, value in query.items()}
    for role in (ANON, *SIGNED_IN, ENROLLING):
        client = client_as(role, url_world, make_user)
        for params in ({}, query) if query else ({},):
            before = every_table()

            response = client.get(url, params)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)

            assert response.status_code < 500
            after = every_table()
            changed = sorted(label for label in before if before[label] != after[label])
            assert not changed, f"{role} GET {url} changed {changed}"
    assert Patient.objects.count() >= 1
