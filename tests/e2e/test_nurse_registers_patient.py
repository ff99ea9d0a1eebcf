import re

from playwright.sync_api import expect

from records.models import AuditEvent, Patient
from tests.conftest import PASSWORD
from tests.e2e.conftest import axe_violations, log_in


def test_nurse_logs_in_registers_finds_and_logs_out(live_server, page, nurse, shot):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/patients/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/patients/"))
    assert axe_violations(page) == []
    shot(page, "login")

    log_in(page, live_server, "nurse_a", PASSWORD)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    expect(page.get_by_text("Nina Reyes · Nurse")).to_be_visible()

    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("MRN").fill("e2e-0001")
    page.get_by_label("Family name").fill("Marlowe")
    page.get_by_label("Given name").fill("June")
    page.get_by_label("Date of birth").fill("1986-02-14")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Allergies").fill("Penicillin (rash)")
    shot(page, "patient-register")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Register patient").click()

    expect(page.get_by_role("heading", name="MARLOWE, June")).to_be_visible()
    expect(page.get_by_text("Registered MARLOWE, June, MRN E2E-0001.")).to_be_visible()
    expect(page.locator(".allergies")).to_have_text("Penicillin (rash)")
    assert axe_violations(page) == []
    shot(page, "patient-detail")

    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Search patients").fill("marlowe")
    page.get_by_label("Search patients").press("Enter")
    expect(page.get_by_text("1 patient matching “marlowe”")).to_be_visible()
    expect(page.get_by_role("link", name="MARLOWE, June")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "patient-search")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))

    patient = Patient.objects.get(mrn="E2E-0001")
    actions = list(AuditEvent.objects.filter(actor=nurse).order_by("id").values_list("action", flat=True))
    assert actions[0] == "login"
    assert "create" in actions
    assert AuditEvent.objects.filter(actor=nurse, action="view", patient=patient).exists()
    assert AuditEvent.objects.filter(actor=nurse, action="search").exists()
    assert actions[-1] == "logout"
