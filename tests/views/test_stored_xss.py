"""HTML and script typed into a record are shown as text on every page, never run."""

import pytest
from django.urls import reverse

from records.actions.accounts import account_create
from records.actions.patients import patient_update
from records.permissions import Role
from tests.conftest import actor_for
from tests.views.test_method_access import METHOD_ACCESS, url_for

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
ESCAPED_SCRIPT = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"


@pytest.fixture
def hostile_patient(make_patient, nurse):
    patient = make_patient(
        actor=actor_for(nurse),
        family_name=f"O'Hara{SCRIPT}",
        given_name=f"Ann{IMG}",
        allergies=f"Penicillin {SCRIPT}",
        address=f"1 High St{IMG}",
        emergency_contact=f"Bob {SCRIPT}",
    )
    return patient_update(
        actor=actor_for(nurse), patient=patient, expected_version=patient.version, phone=f"555{IMG}"[:32]
    )


@pytest.fixture
def hostile_account(make_user):
    return make_user(Role.NURSE, "hostile", first_name=f"Eve{SCRIPT}", last_name=IMG)


def pages_for(role):
    return [name for name, methods in METHOD_ACCESS.items() if methods["GET"][role] == 200]


@pytest.mark.parametrize("role", ["nurse", "physician", "admin"])
def test_no_page_runs_markup_from_a_record(client, make_user, hostile_patient, hostile_account, sessions, role):
    from django.utils import timezone

    from records.actions.vitals import vitals_record

    session = sessions.to(hostile_patient, "cleared")
    sessions.order(session, order_text=f"Ketamine {SCRIPT}", rate_text=f"over 40 min {IMG}")
    vitals_record(
        actor=actor_for(sessions.nurse),
        session=session,
        measured_at=timezone.now(),
        phase="pre",
        systolic=120,
        diastolic=80,
        note=f"Calm {SCRIPT}",
    )
    user = hostile_account if role == "nurse" else make_user(Role(role))
    client.force_login(user)
    for name in pages_for(role):
        response = client.get(
            url_for(name, patient=hostile_patient, account=hostile_account, session=session),
            {"q": "ohara"} if name == "patient_list" else {},
        )
        if response["Content-Type"] == "application/pdf":
            # Escaped markup prints as text; markup that was not escaped would vanish into the layout.
            text = pdf_text(response.content)
            assert "<script>alert('x')</script>" in text.lower(), name
            continue
        if response["Content-Type"].startswith("application/fhir+json"):
            # Data, not a page: the text is kept exactly (a JSON string), served as a download
            # that no browser may sniff into HTML.
            import json

            assert response["X-Content-Type-Options"] == "nosniff", name
            assert SCRIPT in json.dumps(json.loads(response.content)) or name == "fhir_metadata", name
            continue
        html = response.content.decode()
        assert SCRIPT not in html, name
        assert IMG not in html and "<img" not in html, name


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_text_is_shown_escaped_where_it_belongs(client, nurse, admin_user, hostile_patient, hostile_account):
    client.force_login(nurse)
    detail = client.get(reverse("patient_detail", args=[hostile_patient.pk])).content.decode()
    assert "O&#x27;HARA&lt;SCRIPT&gt;ALERT(&#x27;X&#x27;)&lt;/SCRIPT&gt;" in detail
    assert f"Penicillin {ESCAPED_SCRIPT}" in detail
    listing = client.get(reverse("patient_list"), {"q": "hara"}).content.decode()
    assert "&lt;SCRIPT&gt;" in listing
    edit = client.get(reverse("patient_edit", args=[hostile_patient.pk])).content.decode()
    assert f"Penicillin {ESCAPED_SCRIPT}" in edit

    client.force_login(admin_user)
    accounts = client.get(reverse("account_list")).content.decode()
    assert f"Eve{ESCAPED_SCRIPT}" in accounts
    audit = client.get(reverse("audit_log")).content.decode()
    assert "&lt;script&gt;" in audit


def test_the_admin_form_shows_a_hostile_username_attempt_escaped(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("account_new"),
        {"username": SCRIPT, "first_name": SCRIPT, "last_name": "x", "role": "nurse", "password": "Long-enough-pass-1"},
    )
    html = response.content.decode()
    assert SCRIPT not in html
    assert "Use letters, digits and @ . + - _ only." in html


def test_account_create_action_escapes_names_in_the_navbar(client, system_actor):
    account = account_create(
        actor=system_actor,
        username="navbar",
        first_name=SCRIPT,
        last_name="N",
        role=Role.NURSE,
        password="Long-enough-pass-1",
    )
    client.force_login(account)
    assert SCRIPT not in client.get(reverse("patient_list")).content.decode()
