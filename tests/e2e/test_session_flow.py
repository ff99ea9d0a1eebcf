"""The nurse's whole session at the chair, with the physician's decision, in a real browser."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from records.actions.vitals import vitals_record
from records.models import AuditEvent, Session
from tests.conftest import PASSWORD, actor_for
from tests.e2e.conftest import (
    axe_violations,
    log_in,
    press_enter_and_wait_for_the_vitals_answer,
    sign_in,
    vitals_answer_awaited,
)

TABLET = {"width": 1280, "height": 800}


def local(minutes_ago: int) -> str:
    return timezone.localtime(timezone.now() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M")


def chart_reading(page, measured_at: str, phase: str, values: list[str]):
    """Type one flowsheet row from the keyboard: Tab between fields in flowsheet order, Enter saves.

    First the page's scripts must have run (its load event): a row typed before htmx has taken the form
    is posted as a plain form, and the whole page comes back instead of the answer in place.
    """
    page.wait_for_load_state("load")
    page.get_by_label("Measured at").fill(measured_at)
    page.get_by_label("Phase").select_option(phase)
    page.get_by_label("Systolic", exact=True).focus()
    for i, value in enumerate(values):
        if value:
            page.keyboard.type(value)
        if i < len(values) - 1:
            page.keyboard.press("Tab")
    press_enter_and_wait_for_the_vitals_answer(page)


def field(page, name: str):
    """A form field by its label (required fields carry an asterisk)."""
    escaped = re.sub(r"([()\[\].*+?^$|{}\\])", r"\\\1", name)  # JavaScript-compatible escaping
    return page.get_by_label(re.compile(rf"^\s*{escaped}\*?\s*$"))


def check_page(page, shot, name):
    assert axe_violations(page) == [], name
    shot(page, name)


def test_whole_session_at_the_chair(live_server, page, new_context, nurse, physician, patient, sessions, shot):
    session = sessions.schedule(patient, scheduled_at=timezone.now(), chair="Chair 2")
    page.set_viewport_size(TABLET)
    log_in(page, live_server, "nurse_a", PASSWORD)

    # Today's board -> the session
    page.get_by_role("link", name="Today").click()
    expect(page.get_by_role("heading", name=re.compile("Today's sessions"))).to_be_visible()
    check_page(page, shot, "session-board")
    page.get_by_role("link", name=patient.display_name).click()

    # Arrive and screen: one positive answer holds the session
    page.get_by_role("button", name="Check in (arrived)").click()
    expect(page.get_by_text("Patient checked in.")).to_be_visible()
    page.get_by_role("button", name="Begin screening").click()
    expect(page.get_by_role("heading", name="Contraindication screening")).to_be_visible()
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
    field(page, "Systolic BP now (mmHg)").fill("142")
    field(page, "Diastolic BP now (mmHg)").fill("88")
    page.get_by_role("group", name="History of hypertension").get_by_label("Yes", exact=True).check()
    page.get_by_role("group", name="Uncontrolled hypertension").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="History of psychosis").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Current psychotic symptoms").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Pregnancy").get_by_label("Not pregnant: negative test today").check()
    page.get_by_label("Test result, or why a test does not apply").fill("Urine hCG negative 09:05")
    check_page(page, shot, "session-screening")
    page.get_by_role("button", name="Record screening").click()
    expect(page.get_by_text("Screening held for physician review")).to_be_visible()
    expect(page.get_by_role("button", name="Start administration")).to_have_count(0)

    # The physician decides to proceed, in their own browser (closed with the test, polls and all)
    doctor = new_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(doctor, live_server, "physician_a")
    doctor.goto(f"{live_server.url}/sessions/{session.pk}/")
    doctor.get_by_role("link", name="Decide on the held screening").click()
    doctor.get_by_label("Proceed", exact=True).check()
    doctor.get_by_label(re.compile("Justification")).fill("Hypertension controlled on amlodipine; BP 142/88 today.")
    check_page(doctor, shot, "session-decision")
    doctor.get_by_role("button", name="Record decision").click()
    expect(doctor.get_by_text("Decision recorded.")).to_be_visible()

    # The nurse documents a verbal order: nothing pre-filled
    page.reload()
    expect(page.locator(".status-badge").first).to_have_text("Cleared")
    page.get_by_role("link", name="Document an order").click()
    expect(field(page, "Dose")).to_have_value("")
    expect(field(page, "Dose unit")).to_have_value("")
    page.get_by_label("Ordering physician").select_option(label=physician.printed_name)
    page.get_by_label("Verbal", exact=True).check()
    page.get_by_label(re.compile("Read back and confirmed")).check()
    field(page, "Medication").fill("Ketamine")
    field(page, "Dose").fill(".5")
    field(page, "Dose unit").select_option("mg/kg/h")
    field(page, "Route").select_option("iv_infusion")
    page.get_by_label("Rate, duration or frequency as written").fill("over 40 minutes")
    field(page, "Full order text, verbatim").fill("Ketamine 0.5 mg/kg/h IV over 40 minutes")
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_text("write 0.5, not .5")).to_be_visible()
    field(page, "Dose").fill("0.5")
    check_page(page, shot, "session-order")
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_text("Order documented.")).to_be_visible()
    expect(page.locator("#orders .dose").first).to_have_text("0.5 mg/kg/h")

    # Start, chart readings from the keyboard without a reload
    page.get_by_label("Site or line").fill("L forearm, 22G")
    page.get_by_label("Lot number").fill("KET-2291")
    page.get_by_role("button", name="Start administration").click()
    expect(page.get_by_text("Administration started.")).to_be_visible()
    page.evaluate("window.noReload = true")
    chart_reading(page, local(0), "during", ["138", "86", "84", "98", "14", "36.8", "3", "0", "mild", "", ""])
    expect(page.locator(".vitals-table tbody tr")).to_have_count(2)
    expect(page.get_by_label("Systolic", exact=True)).to_be_focused()
    chart_reading(page, local(0), "during", ["166", "96", "96", "97", "16", "", "2", "-1", "moderate", "", "nausea"])
    expect(page.locator(".vitals-table tbody tr")).to_have_count(3)
    assert page.evaluate("window.noReload") is True
    expect(page.locator(".vitals-table .flag").first).to_be_visible()

    # Pause for nausea, record it, resume, stop
    page.get_by_label("Reason to pause").fill("Nausea")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Administration paused.")).to_be_visible()
    field(page, "Type").select_option("nausea_vomiting")
    page.get_by_role("group", name="Severity").get_by_label("Mild", exact=True).check()
    field(page, "Action taken").fill("Ondansetron 4 mg IV per order")
    page.get_by_role("button", name="Save side effect").click()
    expect(page.get_by_text("Side effect recorded.")).to_be_visible()
    page.get_by_label("Reason to resume").fill("Nausea settled")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Administration resumed.")).to_be_visible()
    page.get_by_label("Amount given").fill("35")
    page.get_by_label("Unit", exact=True).select_option("mg")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Administration stopped.")).to_be_visible()
    expect(page.locator(".status-badge").first).to_have_text("Recovery")

    # Post-session vitals, discharge, sign
    # Then MOAA/S 5 and the six CADSS-6 items 0: the discharge waits for both (records.discharge_criteria).
    chart_reading(
        page,
        local(0),
        "post",
        ["128", "80", "76", "98", "14", "", "1", "0", "none", "", "", "5", "0", "0", "0", "0", "0", "0"],
    )
    expect(page.locator(".vitals-table tbody tr")).to_have_count(4)
    check_page(page, shot, "session-recovery-tablet")
    page.reload()
    page.get_by_role("link", name="Discharge").click()
    for label in (
        "Alert and oriented",
        "Vitals back near baseline",
        "Walking steadily",
        "Escort present, and the patient is not driving",
    ):
        field(page, label).check()
    check_page(page, shot, "session-discharge")
    page.get_by_role("button", name="Discharge patient").click()
    expect(page.get_by_text("Patient discharged.")).to_be_visible()
    page.get_by_role("button", name=re.compile("Sign as charted by")).click()
    # Signing asks the nurse to confirm it is them.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    check_page(page, shot, "session-sign-confirm")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Session signed and locked.")).to_be_visible()

    signature = page.locator("#signatures .signature").first
    expect(signature).to_contain_text(nurse.printed_name)
    expect(signature).to_contain_text("charted by")
    expect(page.locator(".vitals-chart svg[role=img]")).to_be_visible()
    expect(page.get_by_label("Systolic", exact=True)).to_have_count(0)
    check_page(page, shot, "session-signed-tablet")
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, "session-signed-desktop")

    session.refresh_from_db()
    assert session.status == "signed"
    assert session.readings.count() == 4
    kinds = list(session.administration_events.values_list("kind", flat=True))
    assert kinds == ["start", "pause", "resume", "stop"]
    assert AuditEvent.objects.filter(action="screening_decision", actor=physician).exists()
    assert Session.objects.get(pk=session.pk).signed_by == nurse


def test_a_reading_whose_next_row_is_not_on_the_page_still_shows_in_order(live_server, page, nurse, patient, sessions):
    """The answer puts the new row before the reading measured after it; when someone else charted that one
    after the page was loaded, the page reads its rows again rather than leave the new one out."""
    session = sessions.to(patient, "arrived", chair="Chair 5")
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "nurse_a")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    expect(page.locator(".vitals-table tbody")).to_contain_text("No readings yet.")
    minute = timezone.localtime().replace(second=0, microsecond=0)
    # Charted elsewhere, half a minute into this minute, after this page was loaded.
    vitals_record(
        actor=actor_for(nurse),
        session=session,
        measured_at=minute.replace(second=30),
        phase="pre",
        systolic=141,
        diastolic=87,
    )
    # Typed for the same minute, so measured before that one.
    chart_reading(page, minute.strftime("%Y-%m-%dT%H:%M"), "pre", ["128", "82"])
    rows = page.locator(".vitals-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("128/82")
    expect(rows.nth(1)).to_contain_text("141/87")


def test_a_nurse_who_moved_on_before_the_answer_came_keeps_the_focus_and_what_she_typed(
    live_server, page, patient, sessions
):
    """After a saved reading the entry row takes the focus back, for the next row; but not from a field the nurse
    moved to while the answer was on its way: what she types there stays there, none of it in Systolic."""
    session = sessions.to(patient, "in_progress", chair="Chair 5")
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "nurse_a", f"/sessions/{session.pk}/")
    page.wait_for_load_state("load")
    page.get_by_label("Measured at").fill(local(0))
    page.get_by_label("Phase").select_option("during")
    page.get_by_label("Systolic", exact=True).fill("131")
    page.get_by_label("Diastolic", exact=True).fill("79")
    held = []
    page.route("**/sessions/*/vitals/", lambda route: held.append(route))  # held until the nurse has moved on
    reason = page.get_by_label("Reason to pause")
    with vitals_answer_awaited(page):
        with page.expect_request("**/sessions/*/vitals/"):
            page.get_by_label("Diastolic", exact=True).press("Enter")
        reason.click()
        page.keyboard.type("Nau")
        for _ in range(1000):  # each round trip lets Playwright hand the held request over
            if held:
                break
            page.evaluate("0")
        held[0].continue_()
    page.keyboard.type("sea")

    expect(page.locator(".vitals-table tbody tr", has_text="131/79")).to_have_count(1)
    expect(reason).to_be_focused()
    expect(reason).to_have_value("Nausea")
    expect(page.get_by_label("Systolic", exact=True)).to_have_value("")
