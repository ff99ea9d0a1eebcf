"""Admin edits the clinic settings; a nurse reads them and schedules a session from the patient page."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from records.models import AuditEvent, ClinicSettings, Session
from tests.e2e.conftest import axe_violations, sign_in
from tests.e2e.test_session_flow import field


def test_admin_changes_interval_and_nurse_schedules(live_server, page, admin_user, nurse, physician, patient, shot):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "admin_a")
    page.get_by_role("link", name="Clinic settings").click()
    expect(page.get_by_role("heading", name="Clinic settings")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "clinic-settings-admin")
    field(page, "Vitals interval (minutes)").fill("10")
    page.get_by_label("Reason for the change").fill("New monitoring policy")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Clinic settings saved.")).to_be_visible()
    assert ClinicSettings.current().vitals_interval_minutes == 10
    assert AuditEvent.objects.get(record_type="clinicsettings").changes == {"vitals_interval_minutes": [15, 10]}
    page.get_by_role("button", name="Log out").click()

    sign_in(page, live_server, "nurse_a")
    page.get_by_role("link", name="Clinic settings").click()
    expect(page.get_by_text("10 minutes")).to_be_visible()
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    assert axe_violations(page) == []
    shot(page, "clinic-settings-nurse")

    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("link", name="Schedule a session").click()
    field(page, "Planned route").select_option("iv_infusion")
    when = timezone.localtime(timezone.now() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    field(page, "Scheduled time").fill(when)
    field(page, "Chair or room").fill("Chair 6")
    page.get_by_label("Primary nurse").select_option(label=nurse.printed_name)
    page.get_by_label("Supervising physician").select_option(label=physician.printed_name)
    assert axe_violations(page) == []
    shot(page, "session-schedule")
    page.get_by_role("button", name="Schedule session").click()
    expect(page.get_by_text("Session scheduled.")).to_be_visible()
    expect(page.locator(".status-badge").first).to_have_text("Scheduled")
    assert axe_violations(page) == []
    assert Session.objects.get().chair == "Chair 6"
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_role("cell", name="Chair 6")).to_be_visible()
    assert axe_violations(page) == []
