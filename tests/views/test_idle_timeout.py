"""Automatic sign-out after inactivity; background refreshes do not count as activity."""

import pytest
from django.urls import reverse

from records.models import AuditEvent

pytestmark = pytest.mark.django_db

START = "2026-11-23 10:00:00+00:00"


@pytest.fixture
def nurse_client(client, nurse, time_machine):
    time_machine.move_to(START, tick=False)
    client.force_login(nurse)
    assert client.get("/patients/").status_code == 200
    return client


def test_the_default_time_out_is_fifteen_minutes(settings):
    assert settings.IDLE_TIMEOUT_SECONDS == 15 * 60


def test_activity_within_the_limit_keeps_the_session(nurse_client, time_machine, settings):
    for _ in range(3):
        time_machine.shift(settings.IDLE_TIMEOUT_SECONDS - 5)
        assert nurse_client.get("/patients/").status_code == 200


def test_idle_past_the_limit_signs_out_says_why_and_returns_to_the_page(nurse_client, nurse, time_machine, settings):
    time_machine.shift(settings.IDLE_TIMEOUT_SECONDS + 1)
    response = nurse_client.get("/patients/?q=smith")
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=%2Fpatients%2F%3Fq%3Dsmith"
    assert "_auth_user_id" not in nurse_client.session
    login_page = nurse_client.get(response.url).content.decode()
    assert "You were signed out after 15 minutes without activity" in login_page
    assert AuditEvent.objects.filter(actor=nurse, action="timeout").count() == 1


def test_background_refreshes_do_not_count_as_activity(nurse_client, time_machine, settings):
    half = settings.IDLE_TIMEOUT_SECONDS // 2 + 1
    time_machine.shift(half)
    assert nurse_client.get("/patients/", headers={"X-Background-Refresh": "1"}).status_code == 200
    time_machine.shift(half)
    response = nurse_client.get("/patients/", headers={"X-Background-Refresh": "1"})
    assert response.status_code == 302
    assert "_auth_user_id" not in nurse_client.session


def test_htmx_requests_are_sent_to_the_login_page_whole(nurse_client, time_machine, settings):
    time_machine.shift(settings.IDLE_TIMEOUT_SECONDS + 1)
    response = nurse_client.get("/patients/", headers={"HX-Request": "true", "X-Background-Refresh": "1"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_keepalive_reports_the_time_left_without_counting_and_stay_signed_in_resets_it(
    nurse_client, time_machine, settings
):
    time_machine.shift(settings.IDLE_TIMEOUT_SECONDS - 50)
    status = nurse_client.get(reverse("session_keepalive"), headers={"X-Background-Refresh": "1"}).json()
    assert status["remaining"] == 50
    stay = nurse_client.post(reverse("session_keepalive")).json()
    assert stay["remaining"] == settings.IDLE_TIMEOUT_SECONDS
    time_machine.shift(settings.IDLE_TIMEOUT_SECONDS - 5)
    assert nurse_client.get("/patients/").status_code == 200


def test_the_page_carries_the_timer_settings_and_the_warning(nurse_client, settings):
    page = nurse_client.get("/patients/").content.decode()
    assert f'data-idle-timeout="{settings.IDLE_TIMEOUT_SECONDS}"' in page
    assert 'data-idle-warning="60"' in page
    assert "Stay signed in" in page
    assert "records/idle.js" in page


def test_the_time_out_is_a_setting(client, nurse, settings, time_machine):
    settings.IDLE_TIMEOUT_SECONDS = 120
    time_machine.move_to(START, tick=False)
    client.force_login(nurse)
    client.get("/patients/")
    time_machine.shift(121)
    assert client.get("/patients/").status_code == 302
