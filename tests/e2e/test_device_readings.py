"""A monitor's readings reach the nurse's session page by MLLP, and she decides on each from the keyboard."""

import contextlib
import re

import pytest
from django.utils import timezone
from hl7.client import MLLPClient
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from records.actions.context import Actor
from records.actions.devices import monitor_register
from records.devices.messages import ack_code, send, vitals_message
from records.models import DeviceReading, VitalsReading
from tests.e2e.conftest import axe_violations, sign_in
from tests.mllp import listener  # noqa: F401  (fixture: the listener as its own process)

pytestmark = pytest.mark.separate_process

TABLET = {"width": 1280, "height": 800}
DEVICE = "00A0C91E6BF6B001"


def send_reading(listener, **values):  # noqa: F811
    message = vitals_message(values, device_id=DEVICE, at=timezone.now().replace(microsecond=0))
    with MLLPClient(listener.host, listener.port) as client:
        code, text = ack_code(send(client, message))
    assert code == "AA", text


def nurse_on_a_monitored_session(live_server, page, patient, sessions):
    """A session in progress at Chair 4, whose monitor is registered, open on the nurse's tablet."""
    session = sessions.to(patient, "in_progress", chair="Chair 4")
    monitor_register(actor=Actor.system("tests"), device_id=DEVICE, chair="Chair 4")
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "nurse_a")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    return session, page.locator("#device-readings")


def test_monitor_reading_accepted_and_rejected_from_the_keyboard(
    live_server,
    page,
    listener,  # noqa: F811
    nurse,
    patient,
    sessions,
    shot,
):
    session, section = nurse_on_a_monitored_session(live_server, page, patient, sessions)
    expect(section).to_contain_text("No reading from the monitor awaits acceptance.")
    page.evaluate("window.noReload = true")

    # A reading sent by MLLP appears without a reload: the section asks every 2 seconds, so within
    # the 5 the nurse is promised (the wait below is longer only for a loaded machine).
    expect(section).to_have_attribute("hx-trigger", "every 2s")
    send_reading(listener, systolic=147, diastolic=91, mean_bp=110, heart_rate=88, spo2=96, respiratory_rate=16)
    expect(section).to_contain_text("147/91 (110)", timeout=20_000)
    expect(section).to_contain_text("1 awaiting acceptance")
    assert axe_violations(page) == []
    shot(page, "device-reading-pending")

    # Accepted with one key (chord): Alt+A accepts the oldest pending reading.
    page.keyboard.press("Alt+a")
    expect(section).to_contain_text("Reading from the monitor accepted and charted.")
    row = page.locator(".vitals-table tbody tr", has_text="147/91")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Monitor")
    expect(row).to_contain_text(f"accepted by {nurse.printed_name}")
    expect(page.locator(".vitals-chart svg[role=img]")).to_be_visible()
    chart_points = page.locator(".vitals-chart svg").inner_html()
    assert "147" in chart_points
    expect(section).to_contain_text("No reading from the monitor awaits acceptance.")
    # Focus waits on the section for the next decision.
    assert page.evaluate("document.activeElement.id") == "device-readings-heading"

    # A second one, rejected with a reason, from the keyboard.
    send_reading(listener, systolic=212, diastolic=61, heart_rate=140, spo2=88)
    expect(section).to_contain_text("212/61", timeout=20_000)
    page.keyboard.press("Tab")  # from the heading to the new reading's Accept button
    expect(page.locator("[data-device-accept]")).to_be_focused()
    page.keyboard.press("r")  # its reasons open, focus on the first
    expect(page.get_by_label("Artefact")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Reject reading")).to_be_focused()
    shot(page, "device-reading-reject")
    page.keyboard.press("Enter")
    expect(section).to_contain_text("Reading from the monitor rejected; not charted.")
    expect(section).to_contain_text("Rejected (Artefact)")

    # Neither appears twice; the rejected one is not on the chart.
    expect(page.locator(".vitals-table tbody tr", has_text="147/91")).to_have_count(1)
    expect(page.locator(".vitals-table tbody tr", has_text="212/61")).to_have_count(0)
    expect(page.locator("#device-readings tbody tr")).to_have_count(0)
    page.wait_for_timeout(2500)  # another poll or two: nothing comes back
    expect(page.locator("#device-readings tbody tr")).to_have_count(0)
    assert page.evaluate("window.noReload") is True
    assert axe_violations(page) == []
    shot(page, "device-readings-decided")

    assert list(DeviceReading.objects.order_by("measured_at", "id").values_list("state", flat=True)) == [
        "accepted",
        "rejected",
    ]
    device_rows = VitalsReading.objects.filter(session=session, source="device")
    assert list(device_rows.values_list("systolic", "device_id", "accepted_by")) == [(147, DEVICE, nurse.pk)]


def test_a_poll_in_flight_when_the_nurse_accepts_does_not_take_the_answer_away(
    live_server,
    page,
    listener,  # noqa: F811
    nurse,
    patient,
    sessions,
):
    """The section polls every 2 s; a poll sent before an accept, answered after it, showed the section as it was."""
    session, section = nurse_on_a_monitored_session(live_server, page, patient, sessions)
    send_reading(listener, systolic=147, diastolic=91, heart_rate=88, spo2=96)
    expect(section).to_contain_text("147/91", timeout=5000)

    # The next poll is held on its way to the server while the nurse accepts.
    polls = re.compile(rf"/sessions/{session.pk}/device-readings/\?v=")
    held = []
    page.route(polls, lambda route: held.append(route))
    with page.expect_request(lambda request: bool(polls.search(request.url))) as poll:
        pass
    page.keyboard.press("Alt+a")
    expect(section).to_contain_text("Reading from the monitor accepted and charted.")

    # Let it go: it was aborted, so its answer (the section before the accept) is never shown.
    page.unroute(polls)
    for route in held:
        with contextlib.suppress(PlaywrightError):
            route.continue_()
    assert poll.value.response() is None
    assert poll.value.failure is not None
    expect(section).to_contain_text("Reading from the monitor accepted and charted.")
    assert VitalsReading.objects.filter(session=session, source="device").count() == 1
