"""The board at the chairs' pace: 20 chairs on their protocols, one overdue, read on a tablet and a desktop."""

import re
from datetime import timedelta

import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from records.actions.protocols import checkpoint_missed_reason
from tests.conftest import PASSWORD, actor_for
from tests.e2e.conftest import axe_violations, log_in
from tests.views.test_protocol_views import chart, running

TABLET = {"width": 1280, "height": 800}
TABLET_PORTRAIT = {"width": 800, "height": 1280}
DESKTOP = {"width": 1920, "height": 1080}


def test_the_board_shows_who_needs_the_nurse_next(live_server, page, nurse, sessions, make_patient, shot):
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

    with time_machine.travel(base + timedelta(minutes=20), tick=True):
        page.set_viewport_size(TABLET)
        log_in(page, live_server, "nurse_a", PASSWORD)
        page.goto(f"{live_server.url}/sessions/today/")
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
        expect(countdown).to_have_attribute("data-skew", re.compile(r"-?\d+"), timeout=7000)
        expect(countdown).to_have_text(re.compile(r"^(in \d+ min|due now|due \d+ min ago)$"))
        assert axe_violations(page) == []
        shot(page, "protocol-board-tablet")
        page.set_viewport_size(TABLET_PORTRAIT)
        shot(page, "protocol-board-tablet-portrait")
        page.set_viewport_size(DESKTOP)
        shot(page, "protocol-board-desktop")
        assert axe_violations(page) == []

        # The nurse records why chair 2's checkpoint was missed: the board drops it at its next refresh.
        checkpoint_missed_reason(
            actor=actor_for(nurse), session=chairs[2], checkpoint_key="1.1", reason="Patient in the bathroom"
        )
        expect(board).to_contain_text("checkpoint overdue at 3 chairs", timeout=20000)
        expect(page.locator(".board-card", has_text="Chair 02")).not_to_contain_text("Overdue")
        assert page.evaluate("window.noReload") is True
