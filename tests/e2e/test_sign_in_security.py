"""In a real browser: set up the authenticator app, log in with a code, get locked out, get signed out when idle."""

import base64
import re
import time

import pytest
import time_machine
from django_otp.oath import TOTP
from playwright.sync_api import expect

from records.models import AuditEvent, RecoveryCode
from records.permissions import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import axe_violations, current_code, log_in


def code_for_key(key_text: str, *, steps: int = 0) -> str:
    """What an authenticator app shows now for the key typed by hand (steps: 30 s steps later or earlier)."""
    key = base64.b32decode(key_text.replace(" ", ""))
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps
    return f"{totp.token():06d}"


@pytest.fixture
def stopped_clock():
    """The clock stopped one second into a 30 s step of the authenticator codes; `.shift(30)` moves a step on.

    A code is checked against the step the server is in when the request arrives. With the clock
    running, an enrolment code typed just before a step ended was accepted one step late, the device
    learnt a drift of -1 step, and the next step's code was then refused. The live server runs in this
    process and sees this clock, so the code typed is the one it expects, however slow the machine.
    """
    with time_machine.travel(time.time() // 30 * 30 + 1, tick=False) as clock:
        yield clock


def test_enrol_the_app_then_log_in_with_a_code(live_server, page, make_user, shot, stopped_clock):
    user = make_user(Role.PHYSICIAN, "dr_new", first_name="Rosa", last_name="Park")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("dr_new")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "mfa-enrol")
    key = page.locator("[data-otp-key]").inner_text()
    page.get_by_label("Code from the app").fill(code_for_key(key))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10
    assert axe_violations(page) == []
    shot(page, "mfa-recovery-codes")
    page.get_by_role("link", name="I have kept my codes: continue").click()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").fill("dr_new")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Authenticator code")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "mfa-verify")
    # Wrong: none of the codes of this step or the ones either side (the server allows one step of drift).
    near = {code_for_key(key, steps=steps) for steps in (-1, 0, 1)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in near)
    page.get_by_label("Authenticator code").fill(wrong)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    expect(page.get_by_role("heading", name="Worklist")).not_to_be_visible()

    # The enrolment code was used already (django-otp refuses a replay); the app's next code is accepted.
    # 30 s on is also past the second django-otp makes the next try wait after a wrong code.
    stopped_clock.shift(30)
    page.get_by_label("Authenticator code").fill(code_for_key(key))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    actions = list(AuditEvent.objects.filter(actor=user).order_by("id").values_list("action", flat=True))
    assert actions[:2] == ["login", "mfa_enrol"]
    second_factor = [a for a in actions if a.startswith("mfa_")]
    assert second_factor == ["mfa_enrol", "mfa_failed", "mfa_verify"]


def test_locked_out_after_repeated_failures(live_server, page, nurse, shot, settings):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page.get_by_label("Username").fill("nurse_a")
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("The username and password do not match an active account")).to_be_visible()
    page.get_by_label("Username").fill("nurse_a")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed log-ins")
    assert axe_violations(page) == []
    shot(page, "login-locked-out")

    # The right password does not get in during the cool-off.
    page.get_by_label("Username").fill("nurse_a")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed log-ins")
    expect(page.get_by_role("heading", name="Authenticator code")).not_to_be_visible()
    assert AuditEvent.objects.filter(action="lockout", actor_username="nurse_a").exists()


def test_warned_then_signed_out_when_idle_and_unsaved_entries_come_back(
    live_server, page, nurse, shot, settings, still_clocks
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "nurse_a", PASSWORD)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()

    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Family name").fill("Unsaved")
    page.get_by_label("Allergies").fill("Latex (hives)")

    # A minute before the time-out the page warns.
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_hidden()
    still_clocks.advance(settings.IDLE_TIMEOUT_SECONDS - settings.IDLE_WARNING_SECONDS + 1)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("You will be signed out in")
    assert still_clocks.axe_violations() == []
    shot(page, "idle-warning")
    warning.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()

    # Now let it run out.
    still_clocks.advance(settings.IDLE_TIMEOUT_SECONDS + 1)
    expect(page).to_have_url(re.compile(r"/login/\?next=/patients/new/"))
    expect(page.get_by_text("You were signed out after")).to_be_visible()
    expect(page.get_by_text("Entries you had not saved are kept in this browser tab")).to_be_visible()
    shot(page, "idle-signed-out")
    assert AuditEvent.objects.filter(actor=nurse, action="timeout").exists()

    page.get_by_label("Username").fill("nurse_a")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=nurse, confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    page.get_by_label("Authenticator code").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/patients/new/$"))
    restored = page.locator("[data-unsaved-restored]")
    expect(restored).to_be_visible()
    expect(restored).to_contain_text("Family name")
    expect(restored).to_contain_text("Allergies")
    expect(page.get_by_label("Family name")).to_have_value("Unsaved")
    expect(page.get_by_label("Allergies")).to_have_value("Latex (hives)")
    assert still_clocks.axe_violations() == []
    shot(page, "idle-entries-restored")

    # Put back once only.
    page.reload()
    expect(page.locator("[data-unsaved-restored]")).to_be_hidden()


def test_pages_run_under_the_content_security_policy_without_violations(live_server, page, nurse):
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    log_in(page, live_server, "nurse_a", PASSWORD)
    for path in ("/patients/", "/patients/new/", "/password/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main")).to_be_visible()
    # htmx is loaded and allowed to run.
    assert page.evaluate("typeof window.htmx") == "object"
    assert violations == []


def test_admin_confirms_with_the_password_before_changing_a_role(live_server, page, admin_user, nurse, shot):
    from records.permissions import role_of

    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "admin_a", PASSWORD)
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "accounts-with-authenticator")

    page.get_by_label("New role for nurse_a").select_option("physician")
    page.get_by_label("Reason for role change").first.fill("Now a physician")
    page.get_by_role("button", name="Change").first.click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.get_by_text("Before changing a role")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "reauth-confirm")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Nina Reyes is now Physician.")).to_be_visible()
    nurse.refresh_from_db()
    nurse._clinic_role = False
    assert role_of(nurse) == Role.PHYSICIAN
