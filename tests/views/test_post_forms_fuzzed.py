"""Every POST form the URL configuration defines, fed generated junk: never a 500, never a partial write.

The URLs come from the resolver (tests.views.test_access_matrix walks it), not from a list
written here: `test_every_post_url_is_fuzzed_or_excluded` fails when a URL that accepts a
POST is neither fuzzed nor in the short list of exclusions below, each with its reason.
Which URLs accept a POST, and from which role, is test_method_access's table, itself
checked against the resolver.

For each URL the test builds real objects for its parameters (a session in the state the
form is for), signs in as a role allowed to post there, reads the form's real field names
from the pages that carry the form (the page itself, or the session, patient, account and
monitor pages for a form posted elsewhere), and sends them filled with Hypothesis' junk:
text, huge strings, NUL and control characters, unicode digits, negative and huge numbers,
impossible dates, fields left out. Every answer is below 500, and either

- nothing changed in any records table and no audit event other than a read was written
  (the page reports what is wrong), or
- what changed was written with its audit events: every row written or changed is named by
  a new audit event.

The same junk from a role that may not post there changes nothing.
"""

import itertools
import os
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.actions.accounts import account_set_active
from records.actions.context import Actor
from records.actions.devices import device_reading_receive, monitor_register
from records.actions.medications import administration_pause
from records.actions.patients import patient_deactivate
from records.actions.rems import rems_form_record
from records.actions.side_effects import side_effect_record
from records.models import AuditEvent
from records.permissions import Role
from tests.charting import ESKETAMINE_ORDER
from tests.conftest import a_protocol, actor_for, confirm_identity, verified_device
from tests.views.test_access_matrix import project_url_names
from tests.views.test_form_fuzzing import dates, numbers, texts
from tests.views.test_method_access import METHOD_ACCESS, url_for

pytestmark = [pytest.mark.django_db, pytest.mark.long_running]

LISTENER = Actor.system("monitor listener")
_chairs = itertools.count(1)

POST_FUZZ = settings(
    max_examples=5,
    derandomize=not os.environ.get("HYPOTHESIS_EXPLORE"),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# POST URLs fuzzed elsewhere or with nothing to fuzz, and why.
EXCLUDED = {
    # Signing in and out, and the authenticator steps: tests/views/test_form_fuzzing.py fuzzes each
    # form (test_login, test_authenticator_code, test_reauth_form, test_password_change);
    # signing in or out here would end the signed-in session the other URLs are fuzzed with.
    "login": "fuzzed by test_form_fuzzing.test_login",
    "logout": "no fields: signs the user out",
    "password_change": "fuzzed by test_form_fuzzing.test_password_change",
    "mfa_verify": "fuzzed by test_form_fuzzing.test_authenticator_code",
    "mfa_enrol": "only during a first sign-in (tests/views/test_auth_views.py)",
    "reauth": "fuzzed by test_form_fuzzing.test_reauth_form",
    "session_keepalive": "no fields: renews the idle timer",
    # Admin operations on API tokens and exports write files or secrets, tested by their own files.
    "account_token_issue": "API tokens: tests/fhir/ (issue, revoke, bad input)",
    "account_token_revoke": "API tokens: tests/fhir/ (issue, revoke, bad input)",
    "fhir_export": "no input but the confirmation: tests/fhir/ (bulk export)",
}

# Forms that are a button: nothing to fill in (the junk is then the body of fields they do not have).
FIELDLESS = {"session_arrive", "session_begin_screening", "session_sign", "session_cosign", "audit_verify"}

# The state a session is in for the form posted to it (the form is on the page only then).
SESSION_STATE = {
    "session_arrive": "scheduled",
    "session_begin_screening": "arrived",
    "session_cancel": "arrived",
    "session_screening": "screening",
    "session_screening_decision": "held",
    "session_order_new": "cleared",
    "session_administration_start": "cleared",
    "session_discharge": "recovery",
    # No MOAA/S charted yet: the discharge waits, and the physician may override it.
    "session_discharge_override": "recovery",
    # The REMS monitoring form of an esketamine session, recorded after the discharge, then submitted.
    "session_rems_form": "discharged",
    "session_rems_submit": "discharged",
    "session_sign": "discharged",
    "session_cosign": "signed",
    "session_addendum": "signed",
}
DEFAULT_SESSION_STATE = "in_progress"

# Pages that carry forms posted to other URLs, for each kind of URL parameter.
HOST_PAGES = {
    "session": ["session_detail", "session_device_readings"],
    "order": ["physician_worklist"],
    "patient": ["patient_detail"],
    "account": ["account_list"],
    "monitor": ["monitor_list"],
    "device": ["device_readings_unmatched"],
    "audit": ["audit_log"],
}

# Pages that carry the form of one URL only (besides its kind's pages above).
FORM_PAGES = {"session_rems_submit": ["rems_worklist"]}

# Rows written under their parent's audit event (the same step writes both).
COVERED_BY = {"administrationevent": "administration", "intakerevision": "intakeassessment"}
# Tables that are not records (the audit log itself, checked separately; rate-limit counters).
NOT_RECORDS = {"auditevent", "ratelimitcounter"}
# An account's sign-in credentials: an admin's authenticator reset removes them, by design, under
# the audit event of the account they belong to.
CREDENTIALS = {"totpdevice", "recoverycode"}
# Audit events a page may write without any change: reading it, refusing it.
READS = {"view", "search", "access_denied", "print"}
# Requests audited even when there was nothing left to change: an admin requiring an account to
# enrol its authenticator again is recorded also when the account was already waiting to enrol.
AUDITED_REQUESTS = {"mfa_reset"}


def accepts_post(name: str) -> bool:
    """Whether some role may POST to `name` (test_method_access's table, checked against the resolver)."""
    return not set(METHOD_ACCESS[name]["POST"].values()) <= {405, "login"}


def post_urls() -> list[str]:
    return sorted(name for name in project_url_names() if accepts_post(name))


FUZZED = sorted(set(post_urls()) - set(EXCLUDED))


def test_every_post_url_is_fuzzed_or_excluded():
    discovered = set(post_urls())
    assert discovered, "no POST URL found: the discovery is broken"
    assert set(EXCLUDED) <= discovered, f"excluded but not a POST URL: {set(EXCLUDED) - discovered}"
    assert set(FUZZED) | set(EXCLUDED) == discovered
    # The fuzzing below is parametrized with FUZZED: every discovered POST URL not excluded is in it.
    assert len(FUZZED) >= 30


# The forms on a page --------------------------------------------------------------------------


class Forms(HTMLParser):
    """Each POST form's action and its fields: name -> (kind, default value, choices)."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[tuple[str, dict[str, dict]]] = []
        self._form: dict[str, dict] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = {}
                self.forms.append((urlparse(a.get("action") or self.page_url).path, self._form))
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._form is not None and self._select:
                self._form[self._select]["choices"].append(a.get("value", ""))
            return
        name = a["name"]
        if name == "csrfmiddlewaretoken":
            return
        field = self._form.setdefault(name, {"kind": tag, "value": "", "choices": []})
        if tag == "input":
            kind = a.get("type", "text")
            field["kind"] = kind
            if kind in ("radio", "checkbox"):
                field["choices"].append(a.get("value", "on"))
                if "checked" in a:
                    field["value"] = a.get("value", "on")
            else:
                field["value"] = a.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            field["kind"] = "textarea"

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


# URL name -> the positions, among the pages read for its form, of those that carried it.
_CARRIED_BY: dict[str, list[int]] = {}


def form_fields(client, url: str, host_urls: list[str], name: str | None = None) -> dict[str, dict]:
    """The fields of the forms posted to `url`, read from the page itself and the pages that carry them.

    With a URL `name`, later calls read only the pages that carried its form the first time (each
    example's session is in the same state, so its form is on the same pages)."""
    fields: dict[str, dict] = {}
    pages = [url, *host_urls]
    carried = []
    for position in _CARRIED_BY.get(name, range(len(pages))) if name else range(len(pages)):
        response = client.get(pages[position])
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = Forms(pages[position])
        parser.feed(response.content.decode())
        for action, form in parser.forms:
            if action == url:
                carried.append(position)
                for field_name, field in form.items():
                    fields.setdefault(field_name, field)
    if name:
        _CARRIED_BY.setdefault(name, sorted(set(carried)))
    return fields


# Junk for a field ------------------------------------------------------------------------------

MISSING = object()


def junk_for(field: dict) -> st.SearchStrategy:
    """The field's own value or choices sometimes, junk of every kind otherwise, or the field left out."""
    own = [v for v in [field["value"], *field["choices"]] if v is not None]
    options = [st.sampled_from(own)] if own else []
    return st.one_of(*options, *options, texts, numbers, dates, st.just(MISSING))


# Snapshots -------------------------------------------------------------------------------------


def record_models():
    models = [m for m in apps.get_app_config("records").get_models() if m._meta.model_name not in NOT_RECORDS]
    return [*models, *apps.get_app_config("otp_totp").get_models()]


def records_rows() -> dict[tuple[str, str], dict]:
    """Every row of every records table (accounts, patients, sessions, all clinical rows), and authenticators.

    Read with one plain query per table, each value as the database gives it (only compared)."""
    rows = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in record_models():
            name, pk = model._meta.model_name, model._meta.pk.column
            cursor.execute(f"SELECT * FROM {quote(model._meta.db_table)} ORDER BY {quote(pk)}")
            columns = [column[0] for column in cursor.description]
            for values in cursor.fetchall():
                row = {column: str(value) for column, value in zip(columns, values, strict=True)}
                rows[(name, row[pk])] = row
    return rows


def last_event() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def check_outcome(name: str, response, before: dict, since: int) -> None:
    assert response.status_code < 500, f"{name}: {response.status_code}"
    after = records_rows()
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    events = list(AuditEvent.objects.filter(seq__gt=since))
    writes = [e for e in events if e.action not in READS]
    if not changed:
        unexplained = [e.action for e in writes if e.action not in AUDITED_REQUESTS]
        assert unexplained == [], f"{name}: nothing changed but audited {unexplained}"
        return
    named = Counter((e.record_type, e.record_id) for e in writes)
    for table, pk in changed:
        if table in CREDENTIALS:
            owner = (before.get((table, pk)) or after[(table, pk)])["user_id"]
            assert named[("user", owner)] >= 1, f"{name}: {table} {pk} changed without its account's audit event"
            continue
        assert (table, pk) in after, f"{name}: {table} {pk} was deleted"
        if table in COVERED_BY:
            assert any(t == COVERED_BY[table] for t, _ in changed), f"{name}: {table} {pk} without its parent"
            continue
        assert named[(table, pk)] >= 1, f"{name}: {table} {pk} changed without an audit event naming it: {named}"


# The test --------------------------------------------------------------------------------------


def users_by_role(nurse, physician, admin_user):
    return {"nurse": nurse, "physician": physician, "admin": admin_user}


@pytest.fixture
def objects(patient, make_user, sessions, system_actor):
    """Real objects for the URL parameters; the session is made per URL (its state depends on the form)."""
    monitor = monitor_register(actor=system_actor, device_id="FUZZ-MONITOR", chair="Chair 9")
    verbal = sessions.order(sessions.to(patient, "cleared"), received_as="verbal", read_back_confirmed=True)
    # The account the admin's forms act on: not one of the users who post (they stay signed in).
    account = make_user(Role.NURSE, "fuzz_target")
    return {"patient": patient, "account": account, "order": verbal, "monitor": monitor}


REMS_ANSWERS = {
    "lot_number": "EKT-2291",
    "ready_to_leave": "90_to_119",
    "sedation": "no",
    "dissociation": "no",
    "respiratory_depression": "no",
    "concomitant_medications": [],
    "serious_adverse_events": "no",
}


def session_for(name: str, sessions, patient, nurse):
    """A session in the state the form posted to `name` is for, with what the form acts on."""
    state = SESSION_STATE.get(name, DEFAULT_SESSION_STATE)
    extra = {}
    if name.startswith("session_rems"):
        extra = {"order": ESKETAMINE_ORDER, "planned_route": "intranasal"}
    if name == "session_checkpoint_missed":
        a_protocol()  # the clinic's protocols: the session takes one at its start, with its checkpoints
    session = sessions.to(patient, state, chair=f"Chair F{next(_chairs)}", **extra)  # its own chair: monitors find it
    nurse_actor = actor_for(nurse)
    if name == "session_rems_submit":
        rems_form_record(actor=nurse_actor, session=session, **REMS_ANSWERS)
    if name == "session_administration_start":
        sessions.order(session)
    if state == "in_progress":
        side_effect_record(
            actor=nurse_actor,
            session=session,
            kind="nausea_vomiting",
            severity="mild",
            onset_at=timezone.now(),
            action_taken="Ondansetron given",
        )
    if name == "session_administration_resume":
        administration_pause(actor=nurse_actor, administration=session.administrations.get(), reason="Nausea")
    return session


def monitor_readings(system_actor, session) -> None:
    """A reading offered to the session (by the monitor at its chair), and one matching no session."""
    n = next(_chairs)
    chairs = [f"Chair M{n}", *([session.chair] if session is not None else [])]
    for device, chair in ((f"FUZZ-{n}-{i}", chair) for i, chair in enumerate(chairs)):
        monitor_register(actor=system_actor, device_id=device, chair=chair)
        device_reading_receive(
            actor=LISTENER,
            identities=[device],
            measured_at=timezone.now(),
            values={"systolic": 131, "diastolic": 84, "heart_rate": 77},
            message_control_id=f"FUZZ-{device}",
        )


def refused_role(name: str) -> str | None:
    """A signed-in role that may not post to `name` (403), if any."""
    cells = METHOD_ACCESS[name]["POST"]
    return next((role for role in ("admin", "nurse", "physician") if cells[role] == 403), None)


def allowed_role(name: str) -> str:
    cells = METHOD_ACCESS[name]["POST"]
    return next(role for role in ("nurse", "physician", "admin") if cells[role] not in (403, 405, "login"))


@dataclass
class Target:
    """The form at one URL and who posts to it, made once for all its examples."""

    url: str
    hosts: list[str]
    client: Client
    outsider: Client | None
    fields: dict[str, dict] | None = None


@pytest.fixture
def target(name, objects, sessions, patient, nurse, physician, admin_user, make_user) -> Target:
    """The objects behind the URL `name` (a session in the state its form is for ...), and the signed-in
    clients of a role that may post there and of one that may not. Every example starts from this state:
    what an example writes is rolled back after it (`test_junk_posted_to_every_form`)."""
    staff = users_by_role(nurse, physician, admin_user)
    session = session_for(name, sessions, patient, nurse) if name.startswith("session_") else None
    system = Actor.system("tests")
    kind = name.split("_")[0]
    if kind == "account":
        objects = {**objects, "account": make_user(Role.NURSE)}
        verified_device(objects["account"])  # so that the admin's page offers to reset it
    if kind == "order":
        cleared = sessions.to(patient, "cleared", chair=f"Chair F{next(_chairs)}")
        objects = {**objects, "order": sessions.order(cleared, received_as="verbal", read_back_confirmed=True)}
    if "device_reading" in name:
        monitor_readings(system, session)
    if name == "account_reactivate":
        account_set_active(actor=system, account=objects["account"], active=False, reason="Left the clinic")
    if name == "patient_reactivate":
        patient_deactivate(actor=system, patient=patient, reason="Moved away")
    url = url_for(name, session=session, **objects)
    host_kwargs = {"session": session, **objects}
    hosts = [url_for(host, **host_kwargs) for host in [*HOST_PAGES.get(kind, []), *FORM_PAGES.get(name, [])]]

    def signed_in(role: str) -> Client:
        client = Client()
        client.force_login(staff[role])
        confirm_identity(client)
        return client

    other = refused_role(name)
    return Target(url, hosts, signed_in(allowed_role(name)), signed_in(other) if other else None)


@pytest.mark.parametrize("name", FUZZED)
@POST_FUZZ
@given(data=st.data())
def test_junk_posted_to_every_form(name, data, target):
    with transaction.atomic():
        _post_junk(name, data, target)
        # The next example starts from the same state: its session, its form, its objects.
        transaction.set_rollback(True)


def _post_junk(name: str, data, target: Target) -> None:
    url, client = target.url, target.client
    if target.fields is None:  # the same in every example (the state is the same)
        target.fields = form_fields(client, url, target.hosts, name)
    fields = target.fields
    assert fields or name in FIELDLESS, f"{name}: no form posting to {url} on {[url, *target.hosts]}"
    body = {}
    # The form's fields, and one it does not have.
    for field_name, field in sorted({**fields, "not_a_field": {"value": "", "choices": []}}.items()):
        value = data.draw(junk_for(field), label=field_name)
        if value is not MISSING:
            body[field_name] = value

    before, since = records_rows(), last_event()
    response = client.post(url, body)
    check_outcome(name, response, before, since)

    if target.outsider is not None:
        before, since = records_rows(), last_event()
        response = target.outsider.post(url, body)
        assert response.status_code == 403, f"{name} by {refused_role(name)}"
        assert records_rows() == before, f"{name}: changed by {refused_role(name)}, who may not post there"
        assert {e.action for e in AuditEvent.objects.filter(seq__gt=since)} <= {"access_denied"}


def test_the_fuzzer_reads_real_field_names(client, nurse, sessions, patient):
    """The control: the fields come from the rendered form, so a renamed field changes what is sent."""
    session = sessions.to(patient, "in_progress")
    client.force_login(nurse)
    url = url_for("session_vitals_record", session=session, patient=patient, account=nurse)
    fields = form_fields(client, url, [url_for("session_detail", session=session, patient=patient, account=nurse)])
    assert {"systolic", "diastolic", "measured_at", "phase"} <= set(fields)
    assert Role.NURSE.value == "nurse"
