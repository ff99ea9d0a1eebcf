"""Every form, fed random text, numbers, dates, unicode, control characters and huge input.

Each example must answer without a server error; either the whole change is
made, or nothing is written and the page says what is wrong.
"""

import os

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.models import AuditEvent, Patient, User
from records.permissions import Role, role_of
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.long_running]

# The same examples in every run (derived from each test), so a red build can be rerun and
# fixed; HYPOTHESIS_EXPLORE=1 draws new ones, to look for inputs nobody has tried yet.
FUZZ = settings(
    max_examples=40,
    derandomize=not os.environ.get("HYPOTHESIS_EXPLORE"),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text of every kind: short unicode with control characters, blanks, markup, and very long input.
huge = st.builds(
    lambda ch, n: ch * n, st.characters(exclude_categories=("Cs",)), st.integers(min_value=1_000, max_value=60_000)
)
texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=10),
    st.sampled_from(["", " ", "\x00", "<script>x</script>", "'; DROP TABLE x;--", "\uff19\uff19", "١٢٣", "NaN", "-1"]),
    huge,
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", "2024-02-30", "0000-00-00", "9999-12-31", "1899-12-31", "tomorrow", "1980-1-1"]),
    texts,
)
numbers = st.one_of(st.integers().map(str), st.floats(allow_nan=True).map(str), texts)


def shows_an_error(response) -> bool:
    html = response.content.decode()
    return "invalid-feedback" in html or "alert-danger" in html


def patient_fields():
    return st.fixed_dictionaries(
        {
            "mrn": texts,
            "family_name": texts,
            "given_name": texts,
            "date_of_birth": dates,
            "sex": st.one_of(st.sampled_from(["female", "male", "other", "unknown"]), texts),
            "allergies": texts,
            "phone": texts,
            "email": st.one_of(st.emails(), texts),
            "address": texts,
            "emergency_contact": texts,
        }
    )


def clinical_counts():
    return Patient.objects.count(), AuditEvent.objects.exclude(action__in=["view", "search"]).count()


@FUZZ
@given(data=patient_fields())
def test_patient_registration(client, nurse, data):
    client.force_login(nurse)
    patients, events = clinical_counts()
    response = client.post(reverse("patient_register"), data)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert clinical_counts() == (patients + 1, events + 1)
    else:
        assert clinical_counts() == (patients, events)
        assert shows_an_error(response)


@FUZZ
@given(data=patient_fields(), version=numbers)
def test_patient_edit(client, nurse, patient, data, version):
    client.force_login(nurse)
    before = Patient.objects.values().get(pk=patient.pk)
    events = AuditEvent.objects.filter(action="update").count()
    response = client.post(reverse("patient_edit", args=[patient.pk]), {**data, "version": version})
    assert response.status_code in (200, 302)
    after = Patient.objects.values().get(pk=patient.pk)
    if response.status_code == 302:
        changed = after != before
        assert AuditEvent.objects.filter(action="update").count() == events + (1 if changed else 0)
        if changed:
            assert after["version"] == before["version"] + 1
    else:
        assert after == before
        assert AuditEvent.objects.filter(action="update").count() == events
        assert shows_an_error(response)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {
            "username": texts,
            "first_name": texts,
            "last_name": texts,
            "email": st.one_of(st.emails(), texts),
            "role": st.one_of(st.sampled_from(["nurse", "physician", "admin"]), texts),
            "password": st.one_of(texts, st.text(min_size=12, max_size=40)),
        }
    )
)
def test_account_create(client, admin_user, data):
    client.force_login(admin_user)
    accounts = User.objects.count()
    response = client.post(reverse("account_new"), data)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert User.objects.count() == accounts + 1
        assert User.objects.latest("id").must_change_password
    else:
        assert User.objects.count() == accounts
        assert shows_an_error(response)


@FUZZ
@given(role=st.one_of(st.sampled_from(["nurse", "physician", "admin"]), texts), reason=texts)
def test_role_change(client, admin_user, nurse, role, reason):
    client.force_login(admin_user)
    client.post(reverse("reauth"), {"reauth_password": PASSWORD, "next": "/"})
    before = role_of(User.objects.get(pk=nurse.pk))
    events = AuditEvent.objects.filter(action="role_change").count()
    response = client.post(reverse("account_role", args=[nurse.pk]), {"role": role, "reason": reason})
    assert response.status_code == 302
    after = role_of(User.objects.get(pk=nurse.pk))
    page = client.get(response.url)
    if after != before:
        assert AuditEvent.objects.filter(action="role_change").count() == events + 1
        assert "alert-success" in page.content.decode()
    else:
        assert AuditEvent.objects.filter(action="role_change").count() == events
        assert shows_an_error(page)


@FUZZ
@given(old=st.one_of(st.just(PASSWORD), texts), new1=texts, new2=texts)
def test_password_change(client, make_user, old, new1, new2):
    user = make_user(Role.NURSE)
    client.force_login(user)
    response = client.post(
        reverse("password_change"), {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code in (200, 302)
    user.refresh_from_db()
    if response.status_code == 302:
        assert user.check_password(new1)
        assert AuditEvent.objects.filter(actor=user, action="password_change").count() == 1
    else:
        assert user.check_password(PASSWORD)
        assert not AuditEvent.objects.filter(actor=user, action="password_change").exists()
        assert shows_an_error(response)


@FUZZ
@given(username=st.one_of(st.just("nurse_a"), texts), password=st.one_of(st.just("wrong-password-1"), texts))
def test_login(client, nurse, username, password):
    accounts = User.objects.count()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    assert User.objects.count() == accounts
    assert shows_an_error(response)


@FUZZ
@given(code=st.one_of(texts, st.integers(min_value=0, max_value=999_999).map(lambda n: f"{n:06d}")))
def test_authenticator_code(client, nurse, code):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import verified_device

    device = verified_device(nurse)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    client.logout()
    client.post(reverse("login"), {"username": "nurse_a", "password": PASSWORD})
    response = client.post(reverse("mfa_verify"), {"code": code})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert shows_an_error(response)
        assert client.get("/patients/").status_code == 302


@FUZZ
@given(password=texts, code=texts)
def test_reauth_form(client, admin_user, nurse, password, code):
    client.force_login(admin_user)
    before = role_of(User.objects.get(pk=nurse.pk))
    response = client.post(
        reverse("account_role", args=[nurse.pk]),
        {"role": "physician", "reason": "Fuzz", "reauth_password": password, "reauth_code": code},
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert role_of(User.objects.get(pk=nurse.pk)) == before
        assert shows_an_error(response)
