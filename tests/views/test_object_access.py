"""Ids of records one may not see or change give 403/404, never the record."""

import pytest
from django.urls import reverse

from records.models import Patient
from records.permissions import Role

pytestmark = pytest.mark.django_db

PATIENT_URLS = ["patient_detail", "patient_edit", "patient_deactivate", "patient_reactivate"]
ACCOUNT_URLS = ["account_role", "account_deactivate", "account_reactivate", "account_mfa_reset"]


def request(client, name, pk):
    method = "get" if name in {"patient_detail", "patient_edit"} else "post"
    return getattr(client, method)(
        reverse(name, args=[pk]), {"reason": "Probe", "role": "admin"} if method == "post" else {}
    )


@pytest.mark.parametrize("name", PATIENT_URLS)
def test_an_admin_never_sees_a_patient_by_id(client, admin_user, patient, name):
    client.force_login(admin_user)
    response = request(client, name, patient.pk)
    assert response.status_code == 403
    html = response.content.decode()
    assert patient.family_name not in html.title() and patient.mrn not in html
    assert Patient.objects.get(pk=patient.pk).is_active


@pytest.mark.parametrize("name", PATIENT_URLS)
def test_an_unknown_patient_id_is_404(client, nurse, patient, name):
    client.force_login(nurse)
    assert request(client, name, patient.pk + 1000).status_code == 404


@pytest.mark.parametrize("role", [Role.NURSE, Role.PHYSICIAN])
@pytest.mark.parametrize("name", ACCOUNT_URLS)
def test_clinicians_cannot_touch_accounts_by_id(client, make_user, admin_user, role, name):
    client.force_login(make_user(role))
    response = request(client, name, admin_user.pk)
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.is_staff
    assert admin_user.username not in response.content.decode()


@pytest.mark.parametrize("name", ACCOUNT_URLS)
def test_an_unknown_account_id_is_404(client, admin_user, name):
    from tests.conftest import PASSWORD

    client.force_login(admin_user)
    client.post(reverse("reauth"), {"reauth_password": PASSWORD, "next": "/"})
    response = client.post(reverse(name, args=[99999]), {"reason": "Probe", "role": "admin"})
    assert response.status_code == 404
