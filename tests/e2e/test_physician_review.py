"""The physician's review in a real browser: worklist, decision, co-signature, history and trend, PDF."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from records.actions.intake import intake_record
from records.actions.outcomes import outcome_record
from records.models import AuditEvent, Order, Screening
from records.views import review
from tests.charting import chart_session
from tests.conftest import PASSWORD, actor_for
from tests.e2e.conftest import axe_violations, sign_in

TABLET = {"width": 1280, "height": 800}
DESKTOP = {"width": 1600, "height": 1000}


def check_page(page, shot, name):
    violations = axe_violations(page)
    print(name, violations)
    assert violations == [], name
    shot(page, name)


def test_physician_clears_the_worklist_and_reviews_a_course(
    live_server, page, nurse, physician, make_patient, sessions, shot, monkeypatch
):
    # Two sessions a trend period (20 in use): the three sessions below span two periods.
    monkeypatch.setattr(review, "TREND_SESSIONS", 2)
    # A patient on a course: intake, three signed sessions, outcomes reported along the way.
    course_patient = make_patient(family_name="Okoro", given_name="Ada", mrn="E2E-COURSE")
    intake_record(
        actor=actor_for(physician),
        patient=course_patient,
        diagnosis="Chronic migraine without aura",
        baseline_headache_days=19,
        preventive_treatments=[{"name": "Topiramate", "why_stopped": "Cognitive side effects"}],
    )
    for days, headache_days, pain in ((70, 17, 7), (40, 12, 6), (10, 8, 5)):
        start = timezone.now() - timedelta(days=days)
        chart_session(nurse=nurse, physician=physician, patient=course_patient, start=start, pain_before=pain)
        outcome_record(
            actor=actor_for(nurse), patient=course_patient, reported_on=start.date(), headache_days=headache_days
        )
    # Today: a held screening, and a verbal order waiting for this physician's co-signature.
    held = sessions.to(make_patient(family_name="Vance", given_name="Iris"), "held")
    order = sessions.order(
        sessions.to(make_patient(family_name="Quinn", given_name="Theo"), "cleared"),
        received_as="verbal",
        read_back_confirmed=True,
    )

    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "physician_a")

    # The physician lands on the worklist.
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    held_list = page.locator("#held-screenings")
    expect(held_list.get_by_role("link", name="VANCE, Iris", exact=True)).to_be_visible()
    orders_list = page.locator("#orders-to-cosign")
    expect(orders_list.get_by_role("link", name="QUINN, Theo", exact=True)).to_be_visible()
    expect(orders_list.get_by_text("Verbal, read back confirmed")).to_be_visible()
    check_page(page, shot, "worklist-tablet")

    # Decide the held screening.
    held_list.get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Proceed", exact=True).check()
    page.get_by_label(re.compile("Justification")).fill("History of psychosis in 2009, none since; discussed, proceed.")
    check_page(page, shot, "worklist-decision")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    assert Screening.objects.get(session=held).decided_by == physician

    # Back on the worklist: co-sign the verbal order.
    page.get_by_role("link", name="Worklist").click()
    expect(page.get_by_text("No held screenings.")).to_be_visible()
    page.locator("#orders-to-cosign").get_by_role(
        "button", name=re.compile("Co-sign as ordered by Omar Haddad")
    ).click()
    # Co-signing asks the physician to confirm it is them.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(re.compile("Order co-signed: Ketamine"))).to_be_visible()
    expect(page.get_by_text("No orders waiting for a co-signature.")).to_be_visible()
    assert Order.objects.get(pk=order.pk).cosigned_by == physician
    check_page(page, shot, "worklist-cleared")

    # The patient's history with its trend charts.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/patients/{course_patient.pk}/history/")
    expect(page.get_by_role("heading", name="OKORO, Ada")).to_be_visible()
    expect(page.get_by_role("img", name="Headache days per 30 days against the baseline at intake")).to_be_visible()
    expect(page.get_by_role("img", name="Pain before and after each session")).to_be_visible()
    expect(page.get_by_role("img", name="Pre-session blood pressure per session")).to_be_visible()
    expect(page.get_by_text("3 sessions", exact=True)).to_be_visible()
    expect(page.locator("#trend-period")).to_contain_text("Sessions 1 to 2 of 3, the latest")
    check_page(page, shot, "history-desktop")
    page.set_viewport_size(TABLET)
    shot(page, "history-tablet")
    # The earlier period of the trends, its charts and the outcomes reported then; the timeline stays whole.
    page.get_by_role("link", name="Earlier sessions").click()
    expect(page.locator("#trend-period")).to_contain_text("Session 3 of 3")
    expect(page.get_by_role("img", name="Pain before and after each session")).to_be_visible()
    expect(page.get_by_text("3 sessions", exact=True)).to_be_visible()
    check_page(page, shot, "history-earlier-period-tablet")
    page.get_by_label("Period", exact=True).select_option(index=0)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#trend-period")).to_contain_text("the latest")
    page.set_viewport_size(DESKTOP)

    # Download the newest session's PDF.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Print \\(PDF\\)")).first.click()
    download = download_info.value
    assert re.fullmatch(r"session-E2E-COURSE-\d{8}-\d+\.pdf", download.suggested_filename)
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    assert AuditEvent.objects.filter(action="cosign", actor=physician, record_type="order").exists()
    assert AuditEvent.objects.filter(action="screening_decision", actor=physician).exists()
    assert AuditEvent.objects.filter(
        action="print", actor=physician, patient=course_patient, record_type="session"
    ).exists()


def test_physician_records_the_intake_and_outcomes_in_the_browser(live_server, page, physician, patient, shot):
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "physician_a")
    page.goto(f"{live_server.url}/patients/{patient.pk}/intake/")
    expect(page.get_by_text("No intake assessment recorded yet.")).to_be_visible()
    check_page(page, shot, "intake-empty")

    page.get_by_role("link", name="Record assessment").click()
    page.get_by_label("Diagnosis").fill("Chronic migraine with aura")
    page.get_by_label("Baseline headache days per month").fill("22")
    page.get_by_label("Treatment 1", exact=True).fill("Amitriptyline")
    page.get_by_label("Why treatment 1 was stopped").fill("Weight gain")
    check_page(page, shot, "intake-form")
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_text("Intake assessment saved.")).to_be_visible()
    expect(page.get_by_text("Version 1: Omar Haddad", exact=False)).to_be_visible()
    check_page(page, shot, "intake")

    page.get_by_role("link", name="Record outcomes").first.click()
    today = timezone.localdate().isoformat()
    page.get_by_label("Reported on").fill(today)
    page.get_by_label("Headache days in the last 30 days").fill("31")
    page.get_by_role("button", name="Record outcomes").click()
    expect(page.get_by_text("Headache days in the last 30 days: a whole number from 0 to 30.").first).to_be_visible()
    check_page(page, shot, "outcome-form-error")
    page.get_by_label("Headache days in the last 30 days").fill("14")
    page.get_by_label("HIT-6 total").fill("61")
    page.get_by_label("HIT-6 completed on").fill(today)
    page.get_by_role("button", name="Record outcomes").click()
    expect(page.get_by_text("Outcomes recorded.")).to_be_visible()
    expect(page.get_by_role("img", name="Headache days per 30 days against the baseline at intake")).to_be_visible()
    check_page(page, shot, "history-after-outcome")
