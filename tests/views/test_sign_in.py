"""Signing in: password, then the authenticator code; enrolment; recovery codes; lock-out; first password."""

import base64
import re

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.actions.accounts import account_create
from records.models import AuditEvent, RecoveryCode
from records.permissions import Role
from tests.conftest import PASSWORD, actor_for, verified_device
from tests.e2e.conftest import current_code

pytestmark = pytest.mark.django_db

REMOTE = {"REMOTE_ADDR": "10.0.0.7"}


def post_login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **{**REMOTE, **extra})


def fresh(device):
    """Let the current code be used again (each code is accepted once)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    return current_code(device)


def test_password_alone_leads_only_to_the_code_page(client, nurse):
    verified_device(nurse)
    response = post_login(client, "nurse_a", PASSWORD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_verify"))
    for name in ("patient_list", "audit_log", "password_change"):
        refused = client.get(reverse(name))
        assert refused.status_code == 302, name
        assert refused.url.startswith(reverse("mfa_verify")), name


def test_the_right_code_completes_the_sign_in_with_a_new_session_key(client, nurse):
    device = verified_device(nurse)
    post_login(client, "nurse_a", PASSWORD)
    key_after_password = client.session.session_key
    response = client.post(reverse("mfa_verify") + "?next=/patients/", {"code": fresh(device)}, **REMOTE)
    assert response.status_code == 302
    assert response.url == "/patients/"
    assert client.session.session_key != key_after_password
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(actor=nurse, action="mfa_verify").count() == 1


def test_a_wrong_or_replayed_code_is_refused_and_audited(client, nurse):
    device = verified_device(nurse)
    post_login(client, "nurse_a", PASSWORD)
    code = fresh(device)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    response = client.post(reverse("mfa_verify"), {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(actor=nurse, action="mfa_failed").count() == 1
    # A code already used (replay) is refused too.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    client.post(reverse("mfa_verify"), {"code": code})
    client.post(reverse("logout"))
    post_login(client, "nurse_a", PASSWORD)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    assert "That code is not right" in client.post(reverse("mfa_verify"), {"code": code}).content.decode()


def test_too_many_wrong_codes_sign_the_person_out(client, nurse, settings):
    device = verified_device(nurse)
    post_login(client, "nurse_a", PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        response = client.post(reverse("mfa_verify"), {"code": "000000"})
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_enrolment_shows_a_qr_code_once_and_recovery_codes_once_stored_hashed(client, make_user):
    user = make_user(Role.PHYSICIAN, "new_doc")
    response = post_login(client, "new_doc", PASSWORD)
    assert response.url.startswith(reverse("mfa_enrol"))
    page = client.get(reverse("mfa_enrol")).content.decode()
    assert "<svg" in page and 'aria-label="QR code for your authenticator app"' in page
    first_key = re.search(r"data-otp-key>([A-Z2-7 ]+)<", page).group(1)
    second = client.get(reverse("mfa_enrol")).content.decode()
    key = re.search(r"data-otp-key>([A-Z2-7 ]+)<", second).group(1)
    assert key != first_key  # never the same key twice
    # Opening the page saves nothing: the key is kept in the login session until a code confirms it.
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(actor=user, action="mfa_enrol").exists()

    wrong = client.post(reverse("mfa_enrol"), {"token": "12"})
    assert "Enter the 6-digit code" in wrong.content.decode()
    assert re.search(r"data-otp-key>([A-Z2-7 ]+)<", wrong.content.decode()).group(1) == key  # no new scan
    unsaved = TOTPDevice(key=base64.b32decode(key.replace(" ", "")).hex())
    code = current_code(unsaved)
    not_matching = client.post(reverse("mfa_enrol"), {"token": f"{(int(code) + 500000) % 1000000:06d}"})
    assert "That code does not match" in not_matching.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    done = client.post(reverse("mfa_enrol"), {"token": code})
    assert done.status_code == 200
    codes = re.findall(r"<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code>", done.content.decode())
    assert len(codes) == 10
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.key == unsaved.key
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(code.replace("-", "") in h or code in h for code in codes for h in stored)
    assert all(identify_hasher(h) for h in stored)
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(actor=user, action="mfa_enrol").exists()
    # Shown once: the page now sends a signed-in user on.
    assert client.get(reverse("mfa_enrol")).status_code == 302


def test_a_recovery_code_works_once(client, nurse):
    from records.actions.mfa import _new_recovery_codes

    verified_device(nurse)
    codes = _new_recovery_codes(nurse)
    post_login(client, "nurse_a", PASSWORD)
    response = client.post(reverse("mfa_verify"), {"code": codes[0].lower()})
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200
    client.post(reverse("logout"))
    post_login(client, "nurse_a", PASSWORD)
    again = client.post(reverse("mfa_verify"), {"code": codes[0]})
    assert "That code is not right" in again.content.decode()
    assert RecoveryCode.objects.filter(user=nurse, used_at__isnull=False).count() == 1


@pytest.mark.parametrize(
    ("demo_mode", "exempt", "skips"),
    [
        (False, (), False),
        (True, ("nurse", "physician", "admin"), True),
        # The list alone exempts no one: the middleware checks demo mode too.
        (False, ("nurse", "physician", "admin"), False),
        (True, ("physician", "admin"), False),
    ],
)
def test_demo_accounts_skip_the_code_only_in_demo_mode(client, make_user, settings, demo_mode, exempt, skips):
    settings.DEMO_MODE = demo_mode
    settings.MFA_EXEMPT_USERNAMES = exempt  # as clinic/settings.py sets it from DEMO_MODE
    make_user(Role.NURSE, "nurse")  # the demo account's username
    response = post_login(client, "nurse", PASSWORD)
    follow = client.get("/patients/")
    if skips:
        assert follow.status_code == 200
    else:
        assert response.url.startswith(reverse("mfa_enrol"))
        assert follow.status_code == 302


def test_login_page_says_demo_accounts_skip_the_code_in_demo_mode(client, settings):
    settings.DEMO_MODE = True
    assert "skip the authenticator-app step" in client.get(reverse("login")).content.decode()
    settings.DEMO_MODE = False
    assert "skip the authenticator-app step" not in client.get(reverse("login")).content.decode()


def test_new_session_key_at_password_step(client, nurse):
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-chosen"
    post_login(client, "nurse_a", PASSWORD)
    assert client.session.session_key != "attacker-chosen"


class TestLockout:
    def test_locked_out_after_the_failure_limit_with_the_same_message_for_unknown_usernames(
        self, client, nurse, settings
    ):
        pages = {}
        for username in ("nurse_a", "nobody_here"):
            for _ in range(settings.AXES_FAILURE_LIMIT - 1):
                assert post_login(client, username, "wrong-password-123").status_code == 200
            locked = post_login(client, username, "wrong-password-123")
            assert locked.status_code == 429
            pages[username] = locked.content.decode().replace(username, "USERNAME")
            assert "Too many failed log-ins" in pages[username]
        assert _message(pages["nurse_a"]) == _message(pages["nobody_here"])
        # Even the right password is refused while locked out.
        assert post_login(client, "nurse_a", PASSWORD).status_code == 429
        assert "_auth_user_id" not in client.session
        lockouts = AuditEvent.objects.filter(action="lockout")
        assert set(lockouts.values_list("actor_username", flat=True)) == {"nurse_a", "nobody_here"}
        assert lockouts.first().ip_address == "10.0.0.7"

    def test_lockout_is_per_username_and_address(self, client, nurse, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            post_login(client, "nurse_a", "wrong-password-123")
        assert post_login(client, "nurse_a", PASSWORD, REMOTE_ADDR="10.0.0.8").status_code == 302

    def test_lockout_ends_after_the_cool_off(self, client, nurse, settings, time_machine):
        time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            post_login(client, "nurse_a", "wrong-password-123")
        assert post_login(client, "nurse_a", PASSWORD).status_code == 429
        time_machine.shift(settings.AXES_COOLOFF_TIME.total_seconds() + 1)
        assert post_login(client, "nurse_a", PASSWORD).status_code == 302


def _message(page: str) -> str:
    return re.search(r'id="locked-out">(.*?)<', page).group(1)


class TestFirstPasswordChange:
    def test_an_account_an_admin_creates_must_change_its_password_first(self, client, admin_user):
        account = account_create(
            actor=actor_for(admin_user),
            username="temp_nurse",
            first_name="Tess",
            last_name="Mora",
            role=Role.NURSE,
            password="Temporary-pass-77",
        )
        assert account.must_change_password
        client.force_login(account)
        response = client.get("/patients/")
        assert response.status_code == 302 and response.url == reverse("password_change")
        page = client.get(reverse("password_change")).content.decode()
        assert "Choose your own password" in page
        same = client.post(
            reverse("password_change"),
            {
                "old_password": "Temporary-pass-77",
                "new_password1": "Temporary-pass-77",
                "new_password2": "Temporary-pass-77",
            },
        )
        assert "different from the current one" in same.content.decode()
        changed = client.post(
            reverse("password_change"),
            {
                "old_password": "Temporary-pass-77",
                "new_password1": "Own-chosen-pass-88",
                "new_password2": "Own-chosen-pass-88",
            },
        )
        assert changed.status_code == 302
        account.refresh_from_db()
        assert not account.must_change_password
        assert client.get("/patients/").status_code == 200

    def test_accounts_made_by_set_up_commands_need_no_change(self, nurse):
        assert not nurse.must_change_password

    def test_the_admin_form_creates_an_account_that_must_change_its_password(self, client, admin_user):
        client.force_login(admin_user)
        client.post(
            reverse("account_new"),
            {
                "username": "via_form",
                "first_name": "Via",
                "last_name": "Form",
                "role": "nurse",
                "password": "Temporary-pass-77",
            },
        )
        from records.models import User

        assert User.objects.get(username="via_form").must_change_password


def test_a_very_long_username_is_a_failed_log_in_not_a_server_error(client):
    """django-axes' username column holds 255 characters; PostgreSQL refused longer ones."""
    response = post_login(client, "n" * 5000, "whatever-password")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="login_failed", actor_username="n" * 150).exists()
