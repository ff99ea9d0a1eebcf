"""An intranasal esketamine session on the clinic's protocol, in a real browser: the 40-minute checkpoint turns
due and then done, and the discharge waits for the two hours of observation and the before-discharge reading."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from records.models import Session
from tests.charting import ESKETAMINE_ORDER
from tests.e2e.conftest import press_enter_and_wait_for_the_vitals_answer, sign_in
from tests.e2e.test_esketamine_session import CHECKLIST, TABLET
from tests.e2e.test_session_flow import check_page, field

pytestmark = pytest.mark.usefixtures("default_protocols")

CADSS6 = ("Slow motion", "Unreal, dreamlike", "Disconnected from body", "Body feels changed", "Spacing out")


def chart(page, phase: str, systolic: str, diastolic: str, spo2: str, moaas: str, cadss: str):
    """One reading in the entry row: what the checkpoint asks for (BP, SpO2, MOAA/S, CADSS-6), Enter saves."""
    page.wait_for_load_state("load")  # htmx has taken the form (see test_session_flow.chart_reading)
    vitals = page.locator("#vitals")
    vitals.get_by_label("Phase").select_option(phase)
    vitals.get_by_label("Systolic", exact=True).fill(systolic)
    vitals.get_by_label("Diastolic", exact=True).fill(diastolic)
    vitals.get_by_label("SpO2", exact=True).fill(spo2)
    vitals.get_by_label("Sedation (MOAA/S)").select_option(moaas)
    for item in CADSS6:
        vitals.get_by_label(item, exact=True).fill(cadss)
    vitals.get_by_label("Gaps in memory", exact=True).fill(cadss)
    press_enter_and_wait_for_the_vitals_answer(page)


def test_the_40_minute_checkpoint_and_the_two_hours_before_discharge(
    live_server, page, nurse, patient, sessions, _clinic_day, shot
):
    clock = _clinic_day
    session = sessions.to(patient, "in_progress", order=ESKETAMINE_ORDER, planned_route="intranasal", chair="Chair 5")
    page.set_viewport_size(TABLET)

    # 37 minutes after the first device: the 40-minute checkpoint is due, and the entry row asks for it.
    clock.shift(timedelta(minutes=37))
    sign_in(page, live_server, "nurse_a")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    monitoring = page.locator("#monitoring")
    expect(monitoring).to_contain_text("Monitoring: Intranasal esketamine")
    expect(monitoring).to_contain_text("Next: 40 min after the first device")
    checkpoint = monitoring.locator("tr", has_text="40 min after the first device")
    expect(checkpoint.locator(".checkpoint-state")).to_have_text("Due")
    expect(page.locator(".checkpoint-asks")).to_contain_text("BP, SpO2, MOAA/S, CADSS-6")
    check_page(page, shot, "esketamine-protocol-due-tablet")

    chart(page, "during", "152", "90", "97", "4", "1")
    expect(checkpoint.locator(".checkpoint-state")).to_have_text("Done")

    # Stopped, recovered on the scales, but the two hours have not passed: the discharge waits.
    page.get_by_label("Amount given").fill("56")
    page.get_by_label("Unit", exact=True).select_option("mg")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator(".status-badge").first).to_have_text("Recovery")
    page.get_by_role("link", name="Discharge", exact=True).click()
    for label in CHECKLIST:
        field(page, label).check()
    page.get_by_role("button", name="Discharge patient").click()
    refusal = page.get_by_role("alert").filter(has_text="Cannot discharge yet.")
    expect(refusal).to_contain_text("Minimum observation of 120 min")
    expect(refusal).to_contain_text("Before discharge")
    assert Session.objects.get(pk=session.pk).status == "recovery"

    # Past the two hours, the before-discharge reading: the discharge is allowed.
    clock.shift(timedelta(minutes=85))
    page.context.clear_cookies()  # signed out by then (idle); she logs in again
    sign_in(page, live_server, "nurse_a")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    chart(page, "post", "130", "82", "98", "5", "0")
    expect(monitoring.locator("tr", has_text="Before discharge").locator(".checkpoint-state")).to_have_text("Done")
    expect(page.locator("#discharge-criteria")).to_contain_text("criteria are met")
    check_page(page, shot, "esketamine-protocol-ready-tablet")
    page.get_by_role("link", name="Discharge", exact=True).click()
    for label in CHECKLIST:
        field(page, label).check()
    page.get_by_role("button", name="Discharge patient").click()
    expect(page.get_by_text("Patient discharged.")).to_be_visible()
    assert Session.objects.get(pk=session.pk).status == "discharged"
