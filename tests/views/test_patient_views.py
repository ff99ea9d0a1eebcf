import factory
import pytest
from django.urls import reverse

from records.models import AuditEvent, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

VALID = {
    "mrn": "  v-200 ",
    "family_name": "Okoro",
    "given_name": "Ife",
    "date_of_birth": "1991-09-30",
    "sex": "female",
    "allergies": "No known allergies",
    "phone": "",
    "email": "",
    "address": "",
    "emergency_contact": "",
}


def test_nurse_registers_a_patient(client, nurse):
    client.force_login(nurse)
    response = client.post(reverse("patient_register"), VALID)

    patient = Patient.objects.get(mrn="V-200")
    assert response.status_code == 302
    assert response.url == reverse("patient_detail", args=[patient.pk])
    assert AuditEvent.objects.filter(action="create", patient=patient, actor=nurse).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "2999-01-01", "Date of birth cannot be in the future."),
        ("date_of_birth", "1899-12-31", "Date of birth must be 1900-01-01 or later."),
        ("date_of_birth", "31/02/1990", "Enter the date of birth as a date"),
        ("family_name", "   ", "This field is required."),
        ("given_name", "", "This field is required."),
        ("family_name", "x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("mrn", "M" * 33, "Ensure this value has at most 32 characters (it has 33)."),
        ("allergies", "  ", "This field is required."),
        ("sex", "", "This field is required."),
        ("sex", "robot", "Select a valid choice."),
        ("email", "not-an-email", "Enter a valid email address."),
    ],
)
def test_bad_input_is_refused_on_the_field_with_no_write(client, nurse, field, value, message):
    client.force_login(nurse)
    before = (Patient.objects.count(), AuditEvent.objects.exclude(action="login").count())

    response = client.post(reverse("patient_register"), {**VALID, field: value})

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert (Patient.objects.count(), AuditEvent.objects.exclude(action="login").count()) == before


def test_duplicate_mrn_is_refused_on_the_field(client, nurse, make_patient):
    make_patient(mrn="V-200")
    client.force_login(nurse)
    response = client.post(reverse("patient_register"), {**VALID, "mrn": "v-200"})
    assert response.status_code == 200
    assert "already belongs to another patient" in " ".join(response.context["form"].errors["mrn"])
    assert Patient.objects.filter(mrn="V-200").count() == 1


def test_admin_cannot_register_patients(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("patient_register"), VALID)
    assert response.status_code == 403
    assert not Patient.objects.exists()


def test_anonymous_post_is_sent_to_login_and_writes_nothing(client):
    response = client.post(reverse("patient_register"), VALID)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Patient.objects.exists()


def test_patient_page_shows_the_header_and_writes_a_view_event(client, physician, patient):
    client.force_login(physician)
    response = client.get(reverse("patient_detail", args=[patient.pk]))
    body = response.content.decode()
    assert "TESTWOOD, Harriet" in body
    assert "MRN-TEST-1" in body
    assert "No known allergies" in body
    event = AuditEvent.objects.get(action="view", patient=patient)
    assert event.actor == physician
    assert event.actor_role == "physician"


def test_unknown_patient_is_404(client, nurse):
    client.force_login(nurse)
    assert client.get(reverse("patient_detail", args=[999999])).status_code == 404


def test_edit_saves_and_audits_before_and_after(client, nurse, patient):
    client.force_login(nurse)
    data = {**VALID, "mrn": patient.mrn, "family_name": "Testwood-Ames", "version": patient.version}
    response = client.post(reverse("patient_edit", args=[patient.pk]), data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="update", patient=patient)
    assert event.changes["family_name"] == ["Testwood", "Testwood-Ames"]


def test_edit_from_a_stale_page_is_refused_with_a_message(client, nurse, physician, patient):
    stale_version = patient.version
    client.force_login(physician)
    client.post(
        reverse("patient_edit", args=[patient.pk]),
        {**VALID, "mrn": patient.mrn, "phone": "555-1111", "version": stale_version},
    )
    client.force_login(nurse)
    response = client.post(
        reverse("patient_edit", args=[patient.pk]),
        {**VALID, "mrn": patient.mrn, "phone": "555-2222", "version": stale_version},
    )
    assert response.status_code == 200
    assert "Someone else changed this patient" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).phone == "555-1111"


def test_deactivate_and_reactivate_with_reasons(client, nurse, patient):
    client.force_login(nurse)
    response = client.post(reverse("patient_deactivate", args=[patient.pk]), {"reason": ""})
    assert response.status_code == 302
    assert Patient.objects.get(pk=patient.pk).is_active

    client.post(reverse("patient_deactivate", args=[patient.pk]), {"reason": "Registered twice"})
    assert not Patient.objects.get(pk=patient.pk).is_active
    listing = client.get(reverse("patient_list"), {"q": "Testwood"})
    assert listing.context["page"].paginator.count == 0
    listing = client.get(reverse("patient_list"), {"q": "Testwood", "inactive": "on"})
    assert listing.context["page"].paginator.count == 1

    client.post(reverse("patient_reactivate", args=[patient.pk]), {"reason": "Was not a duplicate"})
    assert Patient.objects.get(pk=patient.pk).is_active
    reasons = list(AuditEvent.objects.filter(patient=patient).exclude(reason="").values_list("action", "reason"))
    assert ("deactivate", "Registered twice") in reasons
    assert ("reactivate", "Was not a duplicate") in reasons


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("MRN-TEST-1", ["MRN-TEST-1"]),
        ("mrn-test", ["MRN-TEST-1"]),
        ("testwood", ["MRN-TEST-1"]),
        ("harriet testwood", ["MRN-TEST-1"]),
        ("TESTWOOD, Harriet", ["MRN-TEST-1"]),
        ("1975-07-04", ["MRN-TEST-1", "OTHER-1"]),
        ("1975-02-30", []),
        ("nobody", []),
    ],
)
def test_search_by_mrn_name_or_date_of_birth(client, nurse, make_patient, query, expected):
    from datetime import date

    make_patient(mrn="MRN-TEST-1", family_name="Testwood", given_name="Harriet", date_of_birth=date(1975, 7, 4))
    make_patient(mrn="OTHER-1", family_name="Ng", given_name="Bo", date_of_birth=date(1975, 7, 4))
    make_patient(mrn="OTHER-2", family_name="Ng", given_name="Al", date_of_birth=date(1960, 1, 1))
    client.force_login(nurse)

    response = client.get(reverse("patient_list"), {"q": query})

    assert sorted(p.mrn for p in response.context["page"].object_list) == expected
    event = AuditEvent.objects.filter(action="search", actor=nurse).latest("id")
    assert event.changes["query"] == [None, " ".join(query.split())]


def test_search_results_are_paginated(client, nurse, make_patient, settings):
    settings.PATIENTS_PER_PAGE = 3
    for i in range(7):
        make_patient(family_name=f"Pager{i}")
    client.force_login(nurse)
    first = client.get(reverse("patient_list"), {"q": "pager"})
    last = client.get(reverse("patient_list"), {"q": "pager", "page": 3})
    assert len(first.context["page"].object_list) == 3
    assert first.context["page"].paginator.num_pages == 3
    assert [p.family_name for p in last.context["page"].object_list] == ["Pager6"]
    assert "q=pager" in first.content.decode()


def _queries_for(client, url, params=None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{"q": "bulk"}, {}])
def test_patient_list_runs_the_same_number_of_queries_for_5_and_40_patients(client, nurse, settings, params):
    """A part page, then a full page of 10 out of 40: a query per row or per page would show."""
    settings.PATIENTS_PER_PAGE = 10
    client.force_login(nurse)
    bulk = {"family_name": factory.Sequence(lambda n: f"Bulk{n:03d}")}
    PatientFactory.create_batch(5, **bulk)
    small = _queries_for(client, reverse("patient_list"), params)
    PatientFactory.create_batch(35, **bulk)
    large = _queries_for(client, reverse("patient_list"), params)
    page = client.get(reverse("patient_list"), params).context["page"]

    assert small == large
    assert large <= 20
    assert (len(page.object_list), page.paginator.count) == (10, 40)
