"""Every state-changing request without a valid CSRF token is refused and changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from records.actions.devices import monitor_register
from records.models import AuditEvent, Patient, User
from records.permissions import Role
from tests.conftest import PASSWORD, verified_device
from tests.views.test_method_access import METHOD_ACCESS, snapshot, url_for

pytestmark = pytest.mark.django_db

# Every URL that accepts a POST from someone (405 for everyone is not a state change; nor is the
# read-only FHIR API's 405 for every role, which it also gives to anonymous requests).
STATE_CHANGING = sorted(
    name for name, methods in METHOD_ACCESS.items() if not set(methods["POST"].values()) <= {405, "login"}
)

# Fields that would succeed with a token, so that only the missing token refuses them.
GOOD_POSTS = {
    "login": {"username": "nurse_a", "password": PASSWORD},
    "logout": {},
    "password_change": {
        "old_password": PASSWORD,
        "new_password1": "Brand-new-pass-99",
        "new_password2": "Brand-new-pass-99",
    },
    "mfa_verify": {"code": "123456"},
    "mfa_enrol": {"token": "123456"},
    "session_keepalive": {},
    "reauth": {"reauth_password": PASSWORD, "next": "/"},
    "patient_register": {
        "mrn": "CSRF-1",
        "family_name": "Forged",
        "given_name": "Request",
        "date_of_birth": "1980-01-01",
        "sex": "female",
        "allergies": "No known allergies",
    },
    "patient_edit": {
        "mrn": "CSRF-2",
        "family_name": "Forged",
        "given_name": "Edit",
        "date_of_birth": "1980-01-01",
        "sex": "female",
        "allergies": "No known allergies",
        "version": "1",
    },
    "patient_deactivate": {"reason": "Forged"},
    "patient_reactivate": {"reason": "Forged"},
    "account_new": {
        "username": "forged",
        "first_name": "F",
        "last_name": "G",
        "role": "admin",
        "password": "Forged-password-123",
    },
    "account_role": {"role": "admin", "reason": "Forged", "reauth_password": PASSWORD},
    "account_deactivate": {"reason": "Forged"},
    "account_reactivate": {"reason": "Forged"},
    "account_mfa_reset": {"reason": "Forged", "reauth_password": PASSWORD},
    "audit_verify": {},
    "patient_session_new": {"route": "iv_infusion", "scheduled_at": "2026-01-01T09:00", "chair": "3"},
    "session_arrive": {},
    "session_begin_screening": {},
    "session_cancel": {"kind": "cancelled", "reason": "Forged"},
    "session_screening": {"hypertension_history": "no", "psychosis_history": "no", "pregnancy": "not_pregnant"},
    "session_screening_decision": {"decision": "proceed", "justification": "Forged"},
    "session_order_new": {"medication": "Ketamine", "dose_value": "0.5", "dose_unit": "mg/kg/h"},
    "session_administration_start": {"site": "Left forearm"},
    "session_administration_pause": {"reason": "Forged"},
    "session_administration_resume": {"reason": "Forged"},
    "session_administration_stop": {"reason": "Forged"},
    "session_vitals_record": {"phase": "during", "systolic": "120", "diastolic": "80"},
    "session_vitals_error": {"reading": "1", "reason": "Forged"},
    "session_side_effect_record": {"kind": "nausea", "severity": "mild"},
    "session_side_effect_resolve": {"side_effect": "1"},
    "session_discharge": {"alert_and_oriented": "on"},
    "session_discharge_override": {"reason": "Forged", "reauth_password": PASSWORD},
    "session_rems_form": {"lot_number": "FORGED", "sedation": "no"},
    "session_rems_submit": {"submitted_on": "2026-11-25"},
    "session_sign": {"reauth_password": PASSWORD},
    "session_cosign": {"reauth_password": PASSWORD},
    "session_addendum": {"text": "Forged", "reason": "Forged"},
    "clinic_settings": {"vitals_interval_minutes": "1"},
    "protocol_new": {"name": "Forged", "routes": "iv_infusion", "min_observation_minutes": "0"},
    "protocol_edit": {"name": "Forged", "routes": "iv_infusion", "min_observation_minutes": "0"},
    "session_checkpoint_missed": {"checkpoint": "1", "reason": "Forged"},
    "patient_intake_edit": {"diagnosis": "Forged", "baseline_headache_days": "20", "reason": "Forged"},
    "patient_outcome_new": {"reported_on": "2026-01-01", "headache_days": "10"},
    "order_cosign": {"reauth_password": PASSWORD},
    "session_device_reading_accept": {"reading": "1"},
    "session_device_reading_reject": {"reading": "1", "reason": "artefact"},
    "device_reading_assign": {"reading": "1", "session": "1"},
    "device_reading_dismiss": {"reading": "1", "reason": "Forged"},
    "monitor_list": {"device_id": "FORGED", "chair": "Chair 1"},
    "monitor_set_active": {"active": "0"},
    "account_token_issue": {"account": "1", "name": "Forged", "reauth_password": PASSWORD},
    "account_token_revoke": {"token": "1", "reauth_password": PASSWORD},
    "fhir_export": {"audit": "on", "reauth_password": PASSWORD},
}


def who_may_post(name):
    cells = METHOD_ACCESS[name]["POST"]
    for role in ("admin", "nurse", "physician", "anonymous"):
        if cells[role] not in (403, 405, "login"):
            return role
    raise AssertionError(name)


def test_every_state_changing_url_has_a_forged_post():
    assert set(STATE_CHANGING) == set(GOOD_POSTS)


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_post_without_a_csrf_token_is_refused(name, make_user, patient, nurse, sessions, system_actor):
    verified_device(nurse)
    monitor = monitor_register(actor=system_actor, device_id="CSRF-MONITOR", chair="Chair 9")
    session = sessions.to(patient, "held")
    verbal = sessions.order(sessions.to(patient, "cleared"), received_as="verbal", read_back_confirmed=True)
    client = Client(enforce_csrf_checks=True)
    role = who_may_post(name)
    if role != "anonymous":
        client.force_login(make_user(Role(role), f"csrf_{role}"))
    before = (snapshot(nurse), Patient.objects.count(), User.objects.count())
    events_before = AuditEvent.objects.exclude(action="access_denied").count()

    response = client.post(
        url_for(name, patient=patient, account=nurse, session=session, order=verbal, monitor=monitor), GOOD_POSTS[name]
    )

    assert response.status_code == 403, name
    assert "CSRF" in response.content.decode()
    assert (snapshot(nurse), Patient.objects.count(), User.objects.count()) == before
    assert AuditEvent.objects.exclude(action="access_denied").count() == events_before
    if role != "anonymous":
        assert "_auth_user_id" in client.session  # a forged log-out did not sign anyone out


def test_the_same_post_with_the_token_goes_through(make_user):
    """The control: the refusal above is the token's doing, not the data's."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.NURSE))
    form = client.get(reverse("patient_register")).content.decode()
    token = form.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post(
        reverse("patient_register"), {**GOOD_POSTS["patient_register"], "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Patient.objects.filter(mrn="CSRF-1").exists()


def test_htmx_and_the_keepalive_send_the_token_in_a_header(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.NURSE))
    page = client.get(reverse("patient_list")).content.decode()
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post(reverse("session_keepalive"), headers={"X-CSRFToken": token}).status_code == 200
    assert client.post(reverse("session_keepalive")).status_code == 403
