"""In a real browser: an admin issues a FHIR API token and exports the clinic's records, confirming it is them."""

from django.core.management import call_command
from playwright.sync_api import expect

from records.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD
from tests.e2e.conftest import axe_violations, sign_in


def test_admin_issues_a_token_and_exports_the_records(live_server, page, admin_user, nurse, settings, tmp_path, shot):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "admin_a")
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="FHIR API tokens")).to_be_visible()

    page.get_by_label("Account", exact=True).select_option(label="nurse_a (Nurse)")
    page.get_by_label("What it is for").fill("Regional registry")
    page.get_by_role("button", name="Issue a token").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="API token for Nina Reyes")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "fhir-token-issued")
    token = page.get_by_label("Token (Regional registry)").input_value()
    assert ApiToken.objects.get(account=nurse).prefix == token[:10]

    page.get_by_role("link", name="Back to the accounts").click()
    expect(page.get_by_text(f"{token[:10]}…")).to_be_visible()
    assert token not in page.content()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Export the records (FHIR)").click()
    expect(page.get_by_role("heading", name="Export the clinic's records (FHIR R4)")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Start the export").click()
    # Queued for the worker; its page polls and shows the result once the worker has run it.
    expect(page.get_by_role("heading", name="FHIR export")).to_be_visible()
    expect(page.get_by_role("heading", name="Queued")).to_be_visible()
    call_command("task_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    expect(page.get_by_text("is ready")).to_be_visible(timeout=15_000)
    assert axe_violations(page) == []
    page.get_by_role("link", name="Download it from the export page").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download zip").click()
    assert download.value.suggested_filename.startswith("fhir-export-")
    shot(page, "fhir-export")
    assert AuditEvent.objects.filter(action="export", actor=admin_user).count() == 1
    assert AuditEvent.objects.filter(action="disclosure", actor=admin_user, record_type="fhir_export").count() == 1
