import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from records.actions.patients import patient_update, patient_view
from records.models import AuditEvent, AuditVerification
from tests.conftest import PASSWORD, actor_for
from tests.e2e.conftest import axe_violations, sign_in


@pytest.fixture
def charted_patient(nurse, physician, make_patient):
    """A patient whose record a nurse changed and a physician read, and one other patient."""
    patient = make_patient(actor=actor_for(nurse), mrn="AUD-E2E-1", family_name="Quill", given_name="Rosa")
    patient_update(
        actor=actor_for(nurse),
        patient=patient,
        expected_version=patient.version,
        allergies="Latex (hives)",
    )
    patient_view(actor=actor_for(physician), patient=patient)
    make_patient(actor=actor_for(nurse), mrn="AUD-E2E-2")
    return patient


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 1920, "height": 1080}])
def test_admin_filters_opens_changes_exports_and_verifies(
    live_server, page, admin_user, charted_patient, shot, viewport
):
    page.set_viewport_size(viewport)
    size = f"{viewport['width']}x{viewport['height']}"
    sign_in(page, live_server, "admin_a")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("#last-verification")).to_have_text("The chain has not been verified yet.")
    assert axe_violations(page) == []
    shot(page, f"audit-log-{size}")

    # Filter to one patient.
    page.get_by_label("Patient MRN").fill("aud-e2e-1")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"patient=aud-e2e-1"))
    rows = page.locator("tbody tr[id^=event-]")
    expect(rows).to_have_count(AuditEvent.objects.filter(patient=charted_patient).count())
    for mrn in page.locator("tbody tr[id^=event-] td:nth-child(6)").all_inner_texts():
        assert mrn == "AUD-E2E-1"

    # Open the change's before and after.
    update = page.locator("tbody tr", has_text="Update")
    changes = update.locator("details")
    expect(changes.locator("table")).to_be_hidden()
    changes.locator("summary").click()
    allergies = changes.get_by_role("row", name=re.compile("allergies"))
    expect(allergies).to_contain_text("No known allergies")
    expect(allergies).to_contain_text("Latex (hives)")
    assert axe_violations(page) == []
    shot(page, f"audit-log-filtered-{size}")

    # Export the same rows as CSV, after confirming it is the admin.
    shown_rows = rows.count()
    report_url = page.url
    page.get_by_role("link", name="Export CSV").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Your password").fill(PASSWORD)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Confirm").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-")
    rows_in_csv = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))[1:]
    assert {row[5] for row in rows_in_csv} == {"AUD-E2E-1"}
    assert len(rows_in_csv) == shown_rows
    export = AuditEvent.objects.get(action="export")
    assert (export.actor_id, export.patient_id) == (admin_user.pk, charted_patient.pk)

    # Run a verification and see it pass.
    page.goto(report_url)
    page.get_by_role("button", name="Verify the chain now").click()
    expect(page.get_by_role("status").filter(has_text="Audit chain intact")).to_be_visible()
    expect(page.locator("#last-verification")).to_contain_text("by admin_a")
    expect(page.locator("#last-verification")).to_contain_text("intact")
    assert AuditVerification.objects.get().result == "intact"
    assert axe_violations(page) == []
    shot(page, f"audit-log-verified-{size}")

    # Who has seen this chart: from the patient's MRN in the report.
    page.get_by_label("Patient MRN").fill("AUD-E2E-1")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="AUD-E2E-1").first.click()
    expect(page.get_by_role("heading", name="Who has seen this chart")).to_be_visible()
    people = page.get_by_role("table", name="Access by person")
    expect(people.get_by_role("row", name=re.compile("physician_a"))).to_contain_text("physician")
    expect(people.get_by_role("row", name=re.compile("admin_a"))).to_be_visible()  # the CSV export
    assert axe_violations(page) == []
    shot(page, f"audit-patient-access-{size}")

    page.get_by_role("link", name="Disclosures").click()
    expect(page.get_by_role("cell", name=re.compile("CSV export of the audit report"))).to_be_visible()
    assert axe_violations(page) == []
    shot(page, f"audit-disclosures-{size}")

    page.get_by_role("link", name="User activity").click()
    page.get_by_label("Account", exact=True).select_option(label="nurse_a")
    page.get_by_role("button", name="Show activity").click()
    expect(page.get_by_role("heading", name=re.compile("nurse_a"))).to_be_visible()
    assert axe_violations(page) == []
    shot(page, f"audit-user-activity-{size}")
