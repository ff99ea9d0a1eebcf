"""Two nurses edit the same patient at once: the second save is refused, nothing is lost."""

import pytest
from django.test import Client
from django.urls import reverse

from records.models import AuditEvent, Patient
from records.permissions import Role

pytestmark = pytest.mark.django_db


def form_data(page_html, patient, **changes):
    version = page_html.split('name="version" value="')[1].split('"')[0]
    data = {
        "mrn": patient.mrn,
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "allergies": patient.allergies,
        "version": version,
    }
    return {**data, **changes}


def test_the_second_save_is_refused_with_a_clear_message_and_keeps_the_typing(make_user, patient):
    first, second = Client(), Client()
    first.force_login(make_user(Role.NURSE))
    second.force_login(make_user(Role.NURSE))
    url = reverse("patient_edit", args=[patient.pk])
    first_form = first.get(url).content.decode()
    second_form = second.get(url).content.decode()

    saved = first.post(url, form_data(first_form, patient, allergies="Penicillin (rash)"))
    assert saved.status_code == 302

    refused = second.post(url, form_data(second_form, patient, allergies="Latex", phone="555-0199"))
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "Someone else changed this patient&#x27;s details while you were editing" in html
    assert "Your changes were not saved" in html
    # The second nurse's typing is still in the form to compare and re-apply.
    assert "Latex</textarea>" in html and 'value="555-0199"' in html

    patient.refresh_from_db()
    assert patient.allergies == "Penicillin (rash)" and patient.phone == ""
    assert patient.version == 2
    assert AuditEvent.objects.filter(patient=patient, action="update").count() == 1


def test_after_reloading_the_second_nurse_can_save(make_user, patient):
    nurse = Client()
    nurse.force_login(make_user(Role.NURSE))
    url = reverse("patient_edit", args=[patient.pk])
    Patient.objects.filter(pk=patient.pk).update(version=5)
    fresh = nurse.get(url).content.decode()
    assert nurse.post(url, form_data(fresh, patient, phone="555-0100")).status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "555-0100" and patient.version == 6
