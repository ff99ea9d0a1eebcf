"""Who may open every URL the project defines with GET, by role.

A new page fails `test_every_url_has_an_expectation` until its row is added
here, so no page ships without a decision on who may open it. Each cell is
requested by tests/views/test_method_access.py, whose GET column must be this
table (`test_the_get_column_is_the_access_table`).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import a_protocol

ANON, NURSE, PHYSICIAN, ADMIN = "anonymous", "nurse", "physician", "admin"
LOGIN = "login"  # anonymous is sent to the log-in page

# url name -> expected status for a GET by each role ("login" = redirect to log-in).
ACCESS = {
    "home": {ANON: LOGIN, NURSE: 302, PHYSICIAN: 302, ADMIN: 302},
    # The load balancer's check: no log-in (records/views/ops.py).
    "health": {ANON: 200, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    # A background task's progress and result: the audit verification's are the admins'.
    "background_task": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "login": {ANON: 200, NURSE: 302, PHYSICIAN: 302, ADMIN: 302},
    "logout": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "password_change": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    # Signed-in users have passed the code step already: both pages send them on.
    "mfa_verify": {ANON: LOGIN, NURSE: 302, PHYSICIAN: 302, ADMIN: 302},
    "mfa_enrol": {ANON: LOGIN, NURSE: 302, PHYSICIAN: 302, ADMIN: 302},
    "session_keepalive": {ANON: 401, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    "reauth": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    "patient_list": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_register": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_detail": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_edit": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_deactivate": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "patient_reactivate": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "patient_history": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_intake": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_intake_edit": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 200, ADMIN: 403},
    "patient_outcome_new": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_summary_pdf": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "patient_session_new": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "session_board": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "session_detail": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "session_screening": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 403, ADMIN: 403},
    # Readings from bedside monitors: the polled sections, the unmatched list, the monitors page.
    "session_device_readings": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "session_vitals_charts": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "session_board_device_readings": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "device_readings_unmatched": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 403, ADMIN: 403},
    "monitor_list": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "session_screening_decision": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 200, ADMIN: 403},
    "session_order_new": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 403, ADMIN: 403},
    "session_discharge": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 403, ADMIN: 403},
    # The esketamine REMS monitoring form: nurses record it; nurses, physicians and admins print it; the
    # admin records its submission from the list of forms due.
    "session_rems_form": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 403, ADMIN: 403},
    "session_rems_print": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    "session_rems_pdf": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    "rems_worklist": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    **{
        name: {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405}
        for name in (
            "session_arrive",
            "session_begin_screening",
            "session_cancel",
            "session_administration_start",
            "session_administration_pause",
            "session_administration_resume",
            "session_administration_stop",
            "session_vitals_record",
            "session_vitals_error",
            "session_checkpoint_missed",
            "session_side_effect_record",
            "session_side_effect_resolve",
            "session_sign",
            "session_cosign",
            "session_addendum",
            "session_discharge_override",
            "session_rems_submit",
            "session_device_reading_accept",
            "session_device_reading_reject",
            "device_reading_assign",
            "device_reading_dismiss",
            "monitor_set_active",
        )
    },
    "clinic_settings": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    # Monitoring protocols: everyone reads them, admins edit them.
    "protocol_list": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    "protocol_new": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "protocol_edit": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "session_pdf": {ANON: LOGIN, NURSE: 200, PHYSICIAN: 200, ADMIN: 403},
    "physician_worklist": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 200, ADMIN: 403},
    "order_cosign": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "audit_log": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "audit_export": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 302},  # confirm it is you first
    "audit_verify": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "audit_patient_access": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "audit_disclosures": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "audit_user_activity": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "account_list": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "account_new": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 200},
    "account_role": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "account_deactivate": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "account_reactivate": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "account_mfa_reset": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "account_token_issue": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    "account_token_revoke": {ANON: LOGIN, NURSE: 405, PHYSICIAN: 405, ADMIN: 405},
    # A patient's record as a FHIR Bundle: physicians only.
    "patient_fhir_bundle": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 200, ADMIN: 403},
    # The bulk export: the admin confirms it is them first (302 to the confirmation page).
    "fhir_export": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 302},
    "fhir_export_download": {ANON: LOGIN, NURSE: 403, PHYSICIAN: 403, ADMIN: 302},
    # The FHIR API answers tokens only: a browser's signed-in session is not enough (401, OperationOutcome).
    # Its CapabilityStatement is open to anyone; other paths under /fhir/ are 404 OperationOutcomes.
    "fhir_metadata": {ANON: 200, NURSE: 200, PHYSICIAN: 200, ADMIN: 200},
    "fhir_search": {ANON: 401, NURSE: 401, PHYSICIAN: 401, ADMIN: 401},
    "fhir_read": {ANON: 401, NURSE: 401, PHYSICIAN: 401, ADMIN: 401},
    "fhir_unknown": {ANON: 404, NURSE: 404, PHYSICIAN: 404, ADMIN: 404},
}


def _health_kwargs(patient) -> dict:
    """/health/ answers 200 when a task worker is alive: the test beats as the worker would."""
    from records.tasks import heartbeat_beat

    heartbeat_beat()
    return {}


def _task_kwargs(patient) -> dict:
    """A queued (never run) audit verification task."""
    from records.tasks import audit_chain_verify_task

    starter = {"user_id": 0, "ip_address": None, "user_agent": ""}
    return {"task_id": audit_chain_verify_task.enqueue(starter=starter, events=0).id}


# URL parameters of the FHIR URLs, which the first word of their name does not decide,
# and the set-up that the operations URLs need.
FHIR_URL_KWARGS = {
    "health": _health_kwargs,
    "background_task": _task_kwargs,
    "fhir_search": lambda patient: {"resource_type": "Patient"},
    "fhir_read": lambda patient: {"resource_type": "Patient", "resource_id": str(patient.pk)},
    "fhir_unknown": lambda patient: {"rest": f"Patient/{patient.pk}/_history"},
    "fhir_export_download": lambda patient: {"name": "20260101-090000-0123abcd"},
}


def project_url_names(patterns=None, namespace=None) -> set[str]:
    """Names of every URL pattern the project serves (there is no Django admin site: tests/views/test_one_door.py)."""
    names = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            names |= project_url_names(entry.url_patterns, entry.namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
    return names


def test_every_url_has_an_expectation():
    assert project_url_names() == set(ACCESS)


@pytest.fixture
def url_kwargs(world_objects):
    """Real objects for every URL parameter, chosen by the parameter's meaning (tests/views/conftest.py)."""
    objects = {kind: {"pk": obj.pk} for kind, obj in world_objects.items()}
    objects["protocol"] = {"pk": a_protocol().pk}
    patient = world_objects["patient"]

    def kwargs_for(name: str) -> dict:
        pattern = next(p for p in _flat_patterns() if p.name == name)
        if name in FHIR_URL_KWARGS:
            return FHIR_URL_KWARGS[name](patient)
        if not pattern.pattern.converters and not pattern.pattern.regex.groupindex:
            return {}
        return objects[name.split("_")[0]]

    return kwargs_for


def _flat_patterns(patterns=None):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from _flat_patterns(entry.url_patterns)
        else:
            yield entry
