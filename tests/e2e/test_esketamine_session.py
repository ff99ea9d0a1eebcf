"""An intranasal esketamine session in a real browser: the scales typed from the keyboard, the discharge
refused until the patient is fully alert and dissociation has resolved, then allowed, and the chart signed."""

import re

from django.utils import timezone
from playwright.sync_api import expect

from records.models import AuditEvent, Session
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.test_session_flow import chart_reading, check_page, field, local

TABLET = {"width": 1024, "height": 768}
DESKTOP = {"width": 1600, "height": 1000}
CHECKLIST = (
    "Alert and oriented",
    "Vitals back near baseline",
    "Walking steadily",
    "Escort present, and the patient is not driving",
)


def discharge_form(page):
    page.get_by_role("link", name="Discharge", exact=True).click()
    for label in CHECKLIST:
        field(page, label).check()


def test_esketamine_session_waits_for_the_scales_before_discharge(
    live_server, page, new_context, nurse, physician, admin_user, patient, sessions, shot
):
    session = sessions.schedule(patient, scheduled_at=timezone.now(), chair="Room B", planned_route="intranasal")
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "nurse_a")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")

    # Screening: every answer explicit, all negative
    page.get_by_role("button", name="Check in (arrived)").click()
    page.get_by_role("button", name="Begin screening").click()
    field(page, "Systolic BP now (mmHg)").fill("126")
    field(page, "Diastolic BP now (mmHg)").fill("80")
    for group in (
        "History of hypertension",
        "Uncontrolled hypertension",
        "History of psychosis",
        "Current psychotic symptoms",
    ):
        page.get_by_role("group", name=group).get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Pregnancy").get_by_label("Not pregnant: negative test today").check()
    page.get_by_label("Test result, or why a test does not apply").fill("Urine hCG negative")
    page.get_by_role("button", name="Record screening").click()
    expect(page.get_by_text("Screening recorded.")).to_be_visible()

    # The order as given: nothing pre-filled
    page.get_by_role("link", name="Document an order").click()
    expect(field(page, "Dose")).to_have_value("")
    page.get_by_label("Ordering physician").select_option(label=physician.printed_name)
    page.get_by_label("Written", exact=True).check()
    field(page, "Medication").fill("Esketamine nasal spray")
    field(page, "Dose").fill("56")
    field(page, "Dose unit").select_option("mg")
    field(page, "Route").select_option("intranasal")
    page.get_by_label("Rate, duration or frequency as written").fill("two 28 mg devices, 5 minutes apart")
    field(page, "Full order text, verbatim").fill("Esketamine 56 mg intranasal: two 28 mg devices 5 minutes apart")
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_text("Order documented.")).to_be_visible()

    # Start; chart a reading with the scales, from the keyboard only: MOAA/S 3, CADSS-6 items
    page.get_by_label("Site or line").fill("Both nostrils")
    page.get_by_label("Lot number").fill("EKT-2291")
    page.get_by_role("button", name="Start administration").click()
    expect(page.get_by_text("Administration started.")).to_be_visible()
    expect(page.get_by_label("Sedation (MOAA/S)")).to_have_value("")
    chart_reading(
        page,
        local(0),
        "during",
        ["148", "90", "82", "97", "14", "", "", "", "", "", "", "3", "2", "3", "1", "0", "2", "1"],
    )
    row = page.locator(".vitals-table tbody tr", has_text="148/90")
    expect(row).to_contain_text("9")  # the CADSS-6 total: the sum of the six items
    expect(page.locator(".scale-lowest-moaas")).to_have_text("3")
    expect(page.locator(".scale-highest-cadss6")).to_have_text("9")
    expect(page.get_by_label("Sedation (MOAA/S)")).to_have_value("")  # nothing carried into the next row
    expect(page.locator("figure.scales-chart svg")).to_be_visible()

    page.get_by_label("Amount given").fill("56")
    page.get_by_label("Unit", exact=True).select_option("mg")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator(".status-badge").first).to_have_text("Recovery")

    # Recovering but not yet alert: the discharge is refused, naming what it waits for
    chart_reading(
        page,
        local(0),
        "post",
        ["136", "84", "78", "98", "14", "", "", "", "", "", "", "4", "1", "0", "0", "0", "1", "0"],
    )
    expect(page.locator("#discharge-criteria")).to_contain_text("Sedation: the last MOAA/S is 4")
    check_page(page, shot, "esketamine-waiting-tablet")
    discharge_form(page)
    expect(page.get_by_text("The discharge waits for:")).to_be_visible()
    page.get_by_role("button", name="Discharge patient").click()
    refusal = page.get_by_role("alert").filter(has_text="Cannot discharge yet.")
    expect(refusal).to_contain_text("Sedation: the last MOAA/S is 4")
    expect(refusal).to_contain_text("Dissociation: the last score is CADSS-6 total 2")
    check_page(page, shot, "esketamine-discharge-refused-tablet")
    assert Session.objects.get(pk=session.pk).status == "recovery"

    # Fully alert, dissociation resolved: discharged
    page.get_by_role("link", name="Back").click()
    chart_reading(
        page,
        local(0),
        "post",
        ["128", "80", "74", "98", "14", "", "", "", "", "", "", "5", "0", "0", "0", "0", "0", "0"],
    )
    expect(page.locator("#discharge-criteria")).to_contain_text("criteria are met")
    page.set_viewport_size(DESKTOP)
    check_page(page, shot, "esketamine-ready-desktop")
    discharge_form(page)
    page.get_by_role("button", name="Discharge patient").click()
    expect(page.get_by_text("Patient discharged.")).to_be_visible()

    # Sign (the nurse confirms it is her)
    page.get_by_role("button", name=re.compile("Sign as charted by")).click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Session signed and locked.")).to_be_visible()
    expect(page.locator("#rems")).to_contain_text("Not recorded yet")
    check_page(page, shot, "esketamine-signed-desktop")
    page.set_viewport_size(TABLET)
    check_page(page, shot, "esketamine-signed-tablet")
    assert AuditEvent.objects.filter(action="discharge", record_type="discharge", patient=patient).count() == 1

    # The REMS monitoring form: nothing filled in; the chart's times and blood pressures shown
    page.get_by_role("link", name="Record the REMS form").click()
    expect(page.get_by_label("Lot number(s) as on the devices")).to_have_value("")
    expect(page.locator("input[type=radio]:checked, input[type=checkbox]:checked")).to_have_count(0)
    expect(page.locator(".rems-charted")).to_contain_text("Blood pressure before the first dose")
    page.get_by_label("Lot number(s) as on the devices").fill("EKT-2291")
    page.get_by_label("90 to 119 minutes").check()
    for group in ("Sedation", "Respiratory depression", "Serious adverse events"):
        page.get_by_role("group", name=group).get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Dissociation").get_by_label("Yes", exact=True).check()
    page.get_by_label("Benzodiazepines").check()
    check_page(page, shot, "esketamine-rems-form-tablet")
    page.get_by_role("button", name="Record the form").click()
    expect(page.get_by_text("REMS monitoring form recorded.")).to_be_visible()

    # The admin prints it and records the submission; the product sends nothing
    admin = new_context(viewport=DESKTOP).new_page()  # closed with the test
    sign_in(admin, live_server, "admin_a")
    admin.goto(f"{live_server.url}/worklist/rems-forms/")
    expect(admin.get_by_role("heading", name="REMS monitoring forms due")).to_be_visible()
    check_page(admin, shot, "esketamine-rems-worklist-desktop")
    admin.get_by_role("link", name=re.compile("Printable form")).click()
    expect(admin.locator(".rems-answers")).to_contain_text("EKT-2291")
    check_page(admin, shot, "esketamine-rems-print-desktop")
    admin.go_back()
    expect(admin.get_by_label("Date submitted")).to_have_value("")  # the date the admin sent it, typed
    admin.get_by_label("Date submitted").fill("2026-11-25")
    admin.get_by_role("button", name=re.compile("Mark submitted by")).click()
    expect(admin.get_by_role("status").filter(has_text="Marked submitted")).to_be_visible()
    expect(admin.get_by_text("No REMS monitoring forms waiting.")).to_be_visible()
