"""Role x URL x method: every URL pattern, GET and POST, for anonymous, nurse, physician and admin.

Each cell is asserted. A URL name without a row here fails
`test_every_url_has_a_method_row`, so no page ships without a decision on who
may read it and who may post to it. POSTs carry no fields: a refused POST must
change nothing, and an allowed one must answer with a form, not a 500.
"""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.models import (
    AuditEvent,
    ClinicSettings,
    DeviceReading,
    Monitor,
    Order,
    Patient,
    RecoveryCode,
    Session,
    User,
    VitalsReading,
)
from records.permissions import role_of
from tests.conftest import a_protocol
from tests.views.test_access_matrix import (
    ACCESS,
    ADMIN,
    ANON,
    FHIR_URL_KWARGS,
    LOGIN,
    NURSE,
    PHYSICIAN,
    _flat_patterns,
    project_url_names,
)

ROLES = (ANON, NURSE, PHYSICIAN, ADMIN)


def row(anon, nurse, physician, admin):
    return {ANON: anon, NURSE: nurse, PHYSICIAN: physician, ADMIN: admin}


CLINICAL = row(LOGIN, 200, 200, 403)
ADMIN_ONLY = row(LOGIN, 403, 403, 200)
NOT_ALLOWED = row(LOGIN, 405, 405, 405)
API_NOT_ALLOWED = row(405, 405, 405, 405)

# url name -> method -> role -> expected status ("login" = redirect to log-in).
METHOD_ACCESS = {
    "home": {"GET": row(LOGIN, 302, 302, 302), "POST": NOT_ALLOWED},
    # No log-in needed: GET only, 405 for anyone else.
    "health": {"GET": row(200, 200, 200, 200), "POST": API_NOT_ALLOWED},
    "background_task": {"GET": ADMIN_ONLY, "POST": NOT_ALLOWED},
    "login": {"GET": row(200, 302, 302, 302), "POST": row(200, 302, 302, 302)},
    "logout": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 302, 302)},
    "password_change": {"GET": row(LOGIN, 200, 200, 200), "POST": row(LOGIN, 200, 200, 200)},
    "mfa_verify": {"GET": row(LOGIN, 302, 302, 302), "POST": row(LOGIN, 302, 302, 302)},
    "mfa_enrol": {"GET": row(LOGIN, 302, 302, 302), "POST": row(LOGIN, 302, 302, 302)},
    "session_keepalive": {"GET": row(401, 200, 200, 200), "POST": row(401, 200, 200, 200)},
    "reauth": {"GET": row(LOGIN, 200, 200, 200), "POST": row(LOGIN, 200, 200, 200)},
    "patient_list": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "patient_register": {"GET": CLINICAL, "POST": CLINICAL},
    "patient_detail": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "patient_edit": {"GET": CLINICAL, "POST": CLINICAL},
    # An empty reason: "Not changed", back to the patient.
    "patient_deactivate": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 302, 403)},
    "patient_reactivate": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 302, 403)},
    "audit_log": {"GET": ADMIN_ONLY, "POST": NOT_ALLOWED},
    # The admin is first asked to confirm it is them (302 to the confirmation page).
    "audit_export": {"GET": row(LOGIN, 403, 403, 302), "POST": NOT_ALLOWED},
    "audit_verify": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 403, 302)},
    "audit_patient_access": {"GET": ADMIN_ONLY, "POST": NOT_ALLOWED},
    "audit_disclosures": {"GET": ADMIN_ONLY, "POST": NOT_ALLOWED},
    "audit_user_activity": {"GET": ADMIN_ONLY, "POST": NOT_ALLOWED},
    "account_list": {"GET": ADMIN_ONLY, "POST": NOT_ALLOWED},
    "account_new": {"GET": ADMIN_ONLY, "POST": ADMIN_ONLY},
    # The admin is asked to confirm it is them (200, the confirmation page).
    "account_role": {"GET": NOT_ALLOWED, "POST": ADMIN_ONLY},
    "account_deactivate": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 403, 302)},
    "account_reactivate": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 403, 302)},
    "account_mfa_reset": {"GET": NOT_ALLOWED, "POST": ADMIN_ONLY},
    "patient_session_new": {"GET": CLINICAL, "POST": CLINICAL},
    "session_board": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "session_detail": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    # The session used is held for physician review: charting POSTs are refused by state
    # (302 back with a message, or 400 with the field messages for an empty form).
    "session_arrive": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "session_begin_screening": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "session_cancel": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_screening": {"GET": row(LOGIN, 200, 403, 403), "POST": row(LOGIN, 200, 403, 403)},
    "session_screening_decision": {"GET": row(LOGIN, 403, 200, 403), "POST": row(LOGIN, 403, 200, 403)},
    "session_order_new": {"GET": row(LOGIN, 200, 403, 403), "POST": row(LOGIN, 200, 403, 403)},
    "session_administration_start": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_administration_pause": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_administration_resume": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_administration_stop": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_vitals_record": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_vitals_error": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "session_side_effect_record": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_side_effect_resolve": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 403, 403)},
    "session_discharge": {"GET": row(LOGIN, 200, 403, 403), "POST": row(LOGIN, 200, 403, 403)},
    # The physician's override is first asked to confirm it is them (200, the confirmation page).
    "session_discharge_override": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 200, 403)},
    # The REMS monitoring form: an empty POST is the form again with its messages (400).
    "session_rems_form": {"GET": row(LOGIN, 200, 403, 403), "POST": row(LOGIN, 400, 403, 403)},
    "session_rems_print": {"GET": row(LOGIN, 200, 200, 200), "POST": NOT_ALLOWED},
    "session_rems_pdf": {"GET": row(LOGIN, 200, 200, 200), "POST": NOT_ALLOWED},
    # No form recorded for this session yet: back to the list with the message (302).
    "session_rems_submit": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 403, 302)},
    "rems_worklist": {"GET": row(LOGIN, 200, 200, 200), "POST": NOT_ALLOWED},
    # Signing and co-signing first ask the signer to confirm it is them (200, the confirmation page).
    "session_sign": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 200, 403, 403)},
    "session_cosign": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 200, 403)},
    "session_addendum": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 400, 400, 403)},
    "clinic_settings": {"GET": row(LOGIN, 200, 200, 200), "POST": row(LOGIN, 403, 403, 200)},
    # Monitoring protocols: an empty form from the admin is answered with its messages (400).
    "protocol_list": {"GET": row(LOGIN, 200, 200, 200), "POST": NOT_ALLOWED},
    "protocol_new": {"GET": ADMIN_ONLY, "POST": row(LOGIN, 403, 403, 400)},
    "protocol_edit": {"GET": ADMIN_ONLY, "POST": row(LOGIN, 403, 403, 400)},
    # No reason given: back to the session with the message.
    "session_checkpoint_missed": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "patient_history": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "patient_intake": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "patient_intake_edit": {"GET": row(LOGIN, 403, 200, 403), "POST": row(LOGIN, 403, 200, 403)},
    "patient_outcome_new": {"GET": CLINICAL, "POST": CLINICAL},
    "patient_summary_pdf": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "session_pdf": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "physician_worklist": {"GET": row(LOGIN, 403, 200, 403), "POST": NOT_ALLOWED},
    # The ordering physician is first asked to confirm it is them (200, the confirmation page).
    "order_cosign": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 200, 403)},
    # Bedside monitors. An empty decision POST: back to the page with the message (302).
    "session_device_readings": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "session_vitals_charts": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "session_board_device_readings": {"GET": CLINICAL, "POST": NOT_ALLOWED},
    "session_device_reading_accept": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "session_device_reading_reject": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "device_readings_unmatched": {"GET": row(LOGIN, 200, 403, 403), "POST": NOT_ALLOWED},
    "device_reading_assign": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "device_reading_dismiss": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 302, 403, 403)},
    "monitor_list": {"GET": ADMIN_ONLY, "POST": ADMIN_ONLY},
    "monitor_set_active": {"GET": NOT_ALLOWED, "POST": row(LOGIN, 403, 403, 302)},
    # API tokens: the admin is asked to confirm it is them (200, the confirmation page).
    "account_token_issue": {"GET": NOT_ALLOWED, "POST": ADMIN_ONLY},
    "account_token_revoke": {"GET": NOT_ALLOWED, "POST": ADMIN_ONLY},
    "patient_fhir_bundle": {"GET": row(LOGIN, 403, 200, 403), "POST": NOT_ALLOWED},
    # The export: a GET is sent to the confirmation page (302), a POST gets it (200).
    "fhir_export": {"GET": row(LOGIN, 403, 403, 302), "POST": ADMIN_ONLY},
    "fhir_export_download": {"GET": row(LOGIN, 403, 403, 302), "POST": NOT_ALLOWED},
    # The FHIR API: tokens only (a signed-in browser gets 401), GET only (405 for everyone else,
    # signed in or not: the API has no log-in page to send anyone to).
    "fhir_metadata": {"GET": row(200, 200, 200, 200), "POST": API_NOT_ALLOWED},
    "fhir_search": {"GET": row(401, 401, 401, 401), "POST": API_NOT_ALLOWED},
    "fhir_read": {"GET": row(401, 401, 401, 401), "POST": API_NOT_ALLOWED},
    "fhir_unknown": {"GET": row(404, 404, 404, 404), "POST": API_NOT_ALLOWED},
}


def url_for(name: str, *, patient, account, session=None, order=None, monitor=None) -> str:
    """The URL of `name` with real objects for its parameters, chosen by the name's first word.

    Same convention as `url_kwargs` in test_access_matrix: add an entry for a new kind of object.
    """
    pattern = next(p for p in _flat_patterns() if p.name == name)
    if name in FHIR_URL_KWARGS:
        return reverse(name, kwargs=FHIR_URL_KWARGS[name](patient))
    if not pattern.pattern.converters:
        return reverse(name)
    objects = {
        "patient": {"pk": patient.pk},
        "account": {"pk": account.pk},
        "protocol": {"pk": a_protocol().pk},
    }
    if session is not None:
        objects["session"] = {"pk": session.pk}
    if order is not None:
        objects["order"] = {"pk": order.pk}
    if monitor is not None:
        objects["monitor"] = {"pk": monitor.pk}
    return reverse(name, kwargs=objects[name.split("_")[0]])


def test_every_url_has_a_method_row():
    assert project_url_names() == set(METHOD_ACCESS)
    for name, methods in METHOD_ACCESS.items():
        assert set(methods) == {"GET", "POST"}, name
        for method, cells in methods.items():
            assert set(cells) == set(ROLES), f"{name} {method}"


def test_the_get_column_is_the_access_table():
    """The GETs below are the access table's cells (tests/views/test_access_matrix.py), each requested once."""
    assert {name: methods["GET"] for name, methods in METHOD_ACCESS.items()} == ACCESS


def snapshot(target):
    """What a refused or empty POST must leave unchanged."""
    return (
        list(Patient.objects.order_by("pk").values_list("pk", "version", "is_active")),
        list(User.objects.order_by("pk").values_list("pk", "is_active", "is_staff", "password")),
        role_of(User.objects.get(pk=target.pk)),
        TOTPDevice.objects.filter(user=target).count(),
        RecoveryCode.objects.count(),
        list(Session.objects.order_by("pk").values_list("pk", "status")),
        VitalsReading.objects.count(),
        Order.objects.count(),
        ClinicSettings.objects.count(),
        list(Monitor.objects.order_by("pk").values_list("pk", "chair", "active")),
        list(DeviceReading.objects.order_by("pk").values_list("pk", "state", "session_id")),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(METHOD_ACCESS))
def test_method_by_role(client, url_world, world_objects, name, role, method):
    """The URLs' objects (tests/views/conftest.py): a session held for physician review, a verbal order to co-sign."""
    if role != ANON:
        url_world.sign_in(client, role)
    url = url_for(name, **world_objects)
    nurse = world_objects["account"]
    before = snapshot(nurse)
    denied_before = AuditEvent.objects.filter(action="access_denied").count()

    response = client.generic(method, url)

    expected = METHOD_ACCESS[name][method][role]
    if expected == LOGIN:
        assert response.status_code == 302, f"{role} {method} {url}"
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected, f"{role} {method} {url}"
    if expected == 403:
        assert AuditEvent.objects.filter(action="access_denied").count() == denied_before + 1
        if method == "GET":
            assert "You do not have access to this page" in response.content.decode()
    if method == "POST" and name not in {"logout"}:
        assert snapshot(nurse) == before, f"{role} POST {url} changed data"
