"""Pages for monitor readings: the polled sections, accept and reject, the unmatched list, the monitors page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from records.actions.context import Actor
from records.actions.devices import LISTENER, device_reading_receive, monitor_register
from records.models import AuditEvent, DeviceReading, Monitor, VitalsReading
from tests.views.test_review_views import pdf_text

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LISTENER_ACTOR = Actor(user=None, role="system", username=LISTENER)


@pytest.fixture
def chair4(patient, sessions, system_actor):
    session = sessions.to(patient, "in_progress", chair="Chair 4")
    monitor_register(actor=system_actor, device_id="MON-4", chair="Chair 4")
    return session


def offer(values, at=None, device="MON-4"):
    return device_reading_receive(
        actor=LISTENER_ACTOR,
        identities=[device],
        measured_at=at or timezone.now(),
        values=values,
        message_control_id="M1",
    ).reading


def test_session_page_shows_pending_readings_for_the_nurse_to_decide(client_for, nurse, chair4):
    reading = offer({"systolic": 173, "diastolic": 99, "mean_bp": 124, "heart_rate": 91, "spo2": 95})
    page = client_for(nurse).get(reverse("session_detail", args=[chair4.pk])).content.decode()
    section = page[page.index('id="device-readings"') : page.index('id="vitals"')]
    assert "1 awaiting acceptance" in section
    assert "173/99 (124)" in section
    assert f'id="device-accept-{reading.pk}"' in section and 'aria-keyshortcuts="Alt+A"' in section
    assert "Cuff off" in section and "Patient moving" in section and "Artefact" in section
    # Offered, not charted: the vitals table and its chart do not have it.
    vitals = page[page.index('id="vitals"') :]
    assert "173/99" not in vitals


def test_physician_sees_pending_readings_without_deciding(client_for, physician, chair4):
    offer({"heart_rate": 91})
    page = client_for(physician).get(reverse("session_detail", args=[chair4.pk])).content.decode()
    assert "1 awaiting acceptance" in page
    assert "data-device-accept" not in page


def test_poll_answers_204_until_something_changes(client_for, nurse, chair4):
    client = client_for(nurse)
    url = reverse("session_device_readings", args=[chair4.pk])
    first = client.get(url, headers={**HTMX, "X-Background-Refresh": "1"})
    version = re.search(r"\?v=(\w+)", first.content.decode()).group(1)
    assert client.get(f"{url}?v={version}", headers=HTMX).status_code == 204
    offer({"spo2": 96})
    changed = client.get(f"{url}?v={version}", headers=HTMX)
    assert changed.status_code == 200 and "1 awaiting acceptance" in changed.content.decode()
    # Background polls are not reads of a new page: no view events pile up.
    assert not AuditEvent.objects.filter(action="view", record_type="session").exists()


def test_accept_with_htmx_returns_the_section_and_the_flowsheet(client_for, nurse, chair4):
    reading = offer({"systolic": 131, "diastolic": 83, "heart_rate": 77})
    response = client_for(nurse).post(
        reverse("session_device_reading_accept", args=[chair4.pk]), {"reading": reading.pk}, headers=HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "accepted and charted" in body
    assert '<section hx-swap-oob="true"' in body and 'id="vitals"' in body
    charted = VitalsReading.objects.get(source="device")
    assert f'id="reading-{charted.pk}"' in body and "131/83" in body and "Monitor</span> MON-4" in body
    assert "accepted by Nina Reyes" in body


def test_reject_without_htmx_redirects_with_the_outcome(client_for, nurse, chair4):
    reading = offer({"heart_rate": 150})
    client = client_for(nurse)
    url = reverse("session_device_reading_reject", args=[chair4.pk])
    refused = client.post(url, {"reading": reading.pk, "reason": "other", "note": ""}, follow=True)
    assert "Not done: Say why the reading is rejected." in refused.content.decode()
    response = client.post(url, {"reading": reading.pk, "reason": "patient_moving"})
    assert response.status_code == 302 and response.url.endswith("#device-readings")
    reading.refresh_from_db()
    assert (reading.state, reading.reject_reason) == ("rejected", "patient_moving")
    page = client.get(reverse("session_detail", args=[chair4.pk])).content.decode()
    assert "Rejected (Patient moving) by Nina Reyes" in page


def test_reading_of_another_session_is_404(client_for, nurse, chair4, make_patient, sessions, system_actor):
    other = sessions.to(make_patient(), "in_progress", chair="Chair 5")
    monitor_register(actor=system_actor, device_id="MON-5", chair="Chair 5")
    foreign = offer({"heart_rate": 70}, device="MON-5")
    response = client_for(nurse).post(
        reverse("session_device_reading_accept", args=[chair4.pk]), {"reading": foreign.pk}
    )
    assert response.status_code == 404
    assert foreign.session == other


def test_pending_readings_never_reach_the_print(client_for, nurse, chair4):
    offer({"systolic": 177, "diastolic": 97})
    response = client_for(nurse).get(reverse("session_pdf", args=[chair4.pk]))
    text = pdf_text(response.content)
    assert "177/97" not in text
    assert "130/80" in text  # the typed reading is there


def test_accepted_reading_is_marked_as_from_the_monitor_in_the_print(client_for, nurse, chair4):
    reading = offer({"systolic": 144, "diastolic": 92})
    client = client_for(nurse)
    client.post(reverse("session_device_reading_accept", args=[chair4.pk]), {"reading": reading.pk})
    text = pdf_text(client.get(reverse("session_pdf", args=[chair4.pk])).content)
    assert "144/92" in text
    assert "Monitor MON-4, accepted by Nina Reyes" in " ".join(text.split())
    assert "(typed)" in text


def test_board_lists_sessions_with_pending_readings(client_for, nurse, chair4, patient):
    client = client_for(nurse)
    board = client.get(reverse("session_board")).content.decode()
    assert "No reading from a monitor awaits acceptance." in board
    offer({"heart_rate": 88, "spo2": 97})
    panel = client.get(reverse("session_board_device_readings"), headers=HTMX).content.decode()
    assert f"Chair 4 · {patient.display_name}" in panel
    assert "1 reading awaiting acceptance" in panel and "HR 88" in panel
    version = re.search(r"\?v=(\w+)", panel).group(1)
    assert client.get(reverse("session_board_device_readings") + f"?v={version}").status_code == 204


def test_unmatched_readings_assigned_or_dismissed(client_for, nurse, patient, sessions, system_actor):
    monitor_register(actor=system_actor, device_id="MON-9", chair="Chair 9")
    early = offer({"heart_rate": 101}, device="MON-9")
    other = offer({"heart_rate": 99}, device="MON-9", at=timezone.now() - timedelta(seconds=30))
    session = sessions.to(patient, "in_progress", chair="Chair 2")
    client = client_for(nurse)
    page = client.get(reverse("device_readings_unmatched")).content.decode()
    assert "No session in Chair 9" in page and f"Chair 2 · {patient.display_name}" in page
    assert AuditEvent.objects.filter(action="view", record_type="unmatched_device_readings").count() == 1

    client.post(reverse("device_reading_assign"), {"reading": early.pk, "session": session.pk})
    early.refresh_from_db()
    assert early.session == session and early.state == "pending"
    refused = client.post(reverse("device_reading_dismiss"), {"reading": other.pk, "reason": ""}, follow=True)
    assert "Not done" in refused.content.decode()
    client.post(reverse("device_reading_dismiss"), {"reading": other.pk, "reason": "Monitor self-test"})
    other.refresh_from_db()
    assert (other.state, other.decision_note) == ("dismissed", "Monitor self-test")
    assert "No unmatched readings." in client.get(reverse("device_readings_unmatched")).content.decode()


def test_admin_registers_and_retires_monitors(client_for, admin_user):
    client = client_for(admin_user)
    bad = client.post(reverse("monitor_list"), {"device_id": "two words", "chair": "Chair 1"})
    assert bad.status_code == 400 and "no spaces" in bad.content.decode()
    response = client.post(reverse("monitor_list"), {"device_id": "0123456789ABCDEF", "chair": "Chair 3"}, follow=True)
    assert "Monitor 0123456789ABCDEF registered at Chair 3." in response.content.decode()
    monitor = Monitor.objects.get()
    assert monitor.registered_by == admin_user
    client.post(reverse("monitor_set_active", args=[monitor.pk]), {"active": "0"})
    monitor.refresh_from_db()
    assert monitor.active is False
    actions = list(AuditEvent.objects.filter(record_type="monitor").order_by("seq").values_list("action", flat=True))
    assert actions == ["create", "deactivate"]


def test_no_device_reading_without_a_nurse_decision_reaches_the_flowsheet(client_for, nurse, chair4):
    for hr in (61, 62, 63):
        offer({"heart_rate": hr}, at=timezone.now() - timedelta(seconds=hr))
    assert DeviceReading.objects.filter(state="pending").count() == 3
    assert not VitalsReading.objects.filter(source="device").exists()


def test_refusal_with_htmx_is_shown_in_the_section(client_for, nurse, chair4):
    reading = offer({"heart_rate": 120})
    client = client_for(nurse)
    client.post(
        reverse("session_device_reading_reject", args=[chair4.pk]), {"reading": reading.pk, "reason": "artefact"}
    )
    response = client.post(
        reverse("session_device_reading_accept", args=[chair4.pk]), {"reading": reading.pk}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Not done: Cannot accept: this reading was already rejected." in response.content.decode()
    assert not VitalsReading.objects.filter(source="device").exists()
