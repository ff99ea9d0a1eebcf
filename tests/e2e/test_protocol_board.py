"""The board at the chairs' pace: 20 chairs on their protocols, one overdue, read on a tablet and a desktop."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from records.actions.protocols import checkpoint_missed_reason
from records.models import MonitoringProtocol
from tests.conftest import actor_for
from tests.e2e.conftest import axe_violations, sign_in
from tests.views.test_protocol_views import chart, running

pytestmark = pytest.mark.usefixtures("default_protocols")

TABLET = {"width": 1280, "height": 800}
TABLET_PORTRAIT = {"width": 800, "height": 1280}
DESKTOP = {"width": 1920, "height": 1080}


def test_the_board_shows_who_needs_the_nurse_next(live_server, page, nurse, sessions, make_patient, shot, still_clocks):
    # Both clocks stand still: the board refreshes when the test moves them on, never of itself
    # between the nurse's write and the refresh that should show it.
    base = timezone.now()
    chairs = {}
    for n in range(1, 21):
        # Started a minute apart; chairs 2, 7, 12 and 17 miss their 15-minute reading.
        started = base - timedelta(minutes=n)
        with time_machine.travel(started, tick=False):
            session = running(sessions, make_patient(family_name=f"Chairpatient{n}"), nurse, f"Chair {n:02d}")
        for minutes in (14, 29):
            if n % 5 != 2 and started + timedelta(minutes=minutes) <= base + timedelta(minutes=20):
                with time_machine.travel(started + timedelta(minutes=minutes), tick=False):
                    chart(session, nurse)
        chairs[n] = session

    still_clocks.advance(20 * 60)
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "nurse_a", "/sessions/today/")
    page.evaluate("window.noReload = true")
    board = page.locator("#board")
    expect(board).to_contain_text("checkpoint overdue at 4 chairs")
    # The most pressing first: the chairs with an overdue checkpoint, in words (not colour alone).
    first = page.locator(".next-up-item").first
    expect(first).to_contain_text("Overdue: Every 15 min while running")
    expect(first).to_contain_text("Chair 17")  # the longest overdue of chairs 2, 7, 12, 17
    card = page.locator(".board-card", has_text="Chair 02")
    expect(card).to_contain_text("Overdue: Every 15 min while running")
    expect(card).to_contain_text("Since the start:")
    on_time = page.locator(".board-card", has_text="Chair 01")
    expect(on_time).to_contain_text("Next: Every 15 min while running")
    # The countdown is kept current in the page from the server's times.
    countdown = on_time.locator("[data-due]")
    still_clocks.advance(5)  # the countdown's tick
    expect(countdown).to_have_attribute("data-skew", re.compile(r"-?\d+"))
    expect(countdown).to_have_text(re.compile(r"^(in \d+ min|due now|due \d+ min ago)$"))
    assert still_clocks.axe_violations() == []
    shot(page, "protocol-board-tablet")
    page.set_viewport_size(TABLET_PORTRAIT)
    shot(page, "protocol-board-tablet-portrait")
    page.set_viewport_size(DESKTOP)
    shot(page, "protocol-board-desktop")
    assert still_clocks.axe_violations() == []

    # A refresh the page's timers sent while axe let its clock run has come back: the next one
    # leaves after the nurse's write.
    expect(board).not_to_have_class(re.compile(r"\bhtmx-request\b"))
    # The nurse records why chair 2's checkpoint was missed: the board drops it at its next refresh.
    checkpoint_missed_reason(
        actor=actor_for(nurse), session=chairs[2], checkpoint_key="1.1", reason="Patient in the bathroom"
    )
    still_clocks.advance(15)  # the board's refresh
    expect(board).to_contain_text("checkpoint overdue at 3 chairs")
    expect(page.locator(".board-card", has_text="Chair 02")).not_to_contain_text("Overdue")
    assert page.evaluate("window.noReload") is True


def test_the_chair_shows_the_next_checkpoint_and_takes_a_missed_reason(
    live_server, page, nurse, admin_user, sessions, patient, shot
):
    base = timezone.now()
    session = running(sessions, patient, nurse, "Chair 3")
    with time_machine.travel(base + timedelta(minutes=14), tick=False):
        chart(session, nurse)
    with time_machine.travel(base + timedelta(minutes=37), tick=True):
        page.set_viewport_size(TABLET)
        sign_in(page, live_server, "nurse_a")
        page.goto(f"{live_server.url}/sessions/{session.pk}/")
        monitoring = page.locator("#monitoring")
        expect(monitoring).to_contain_text("Monitoring: IV ketamine infusion")
        expect(monitoring).to_contain_text("Next: Every 15 min while running")
        expect(monitoring).to_contain_text("Overdue: Every 15 min while running")
        expect(page.locator(".checkpoint-asks")).to_contain_text("BP, HR, SpO2, RR, MOAA/S")
        assert axe_violations(page) == []
        shot(page, "protocol-session-tablet")
        row = page.locator("tr.checkpoint-overdue")
        row.get_by_text("Record why it was missed").click()
        row.get_by_label("Reason").fill("Patient asleep; cuff failed to cycle")
        with page.expect_navigation():
            row.get_by_role("button", name="Save reason").click()
        expect(page.locator("#monitoring")).to_contain_text("Missed: Patient asleep; cuff failed to cycle")
        page.set_viewport_size(DESKTOP)
        shot(page, "protocol-session-desktop")

        page.context.clear_cookies()
        sign_in(page, live_server, "admin_a")
        page.goto(f"{live_server.url}/clinic/protocols/")
        expect(page.locator("main, body").first).to_contain_text("40 min after the first device")
        assert axe_violations(page) == []
        shot(page, "protocol-list-desktop")
        page.get_by_role("link", name="Edit Intranasal esketamine").click()
        expect(page.get_by_label("Minimum observation from the first start (minutes)")).to_have_value("120")
        assert axe_violations(page) == []
        shot(page, "protocol-edit-desktop")
        # Saved as sent (the empty row for a new checkpoint stays none): the next version.
        page.get_by_label("Minimum observation from the first start (minutes)").fill("150")
        page.get_by_label("Reason for the change").fill("Longer observation after a review")
        with page.expect_navigation():
            page.get_by_role("button", name="Save protocol").click()
        expect(page.locator("body")).to_contain_text("Protocol saved.")
        expect(page.locator("body")).to_contain_text("minimum observation 150 min")
        version = MonitoringProtocol.objects.get(name="Intranasal esketamine").versions.order_by("-number").first()
        assert (version.number, len(version.checkpoints)) == (2, 3)
