"""Re-authentication before changing a role or resetting someone's authenticator app."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.models import AuditEvent
from records.permissions import Role, role_of
from tests.conftest import PASSWORD, verified_device
from tests.e2e.conftest import current_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def change_role(client, account, **extra):
    return client.post(
        reverse("account_role", args=[account.pk]), {"role": "physician", "reason": "Qualified", **extra}
    )


def current_role(account):
    from records.models import User

    return role_of(User.objects.get(pk=account.pk))


def test_a_role_change_first_asks_for_the_password_and_keeps_the_fields(admin_client, nurse):
    response = change_role(admin_client, nurse)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Confirm it is you" in page
    assert "Before changing a role" in page
    assert 'name="role" value="physician"' in page and 'name="reason" value="Qualified"' in page
    assert current_role(nurse) == Role.NURSE


def test_a_wrong_password_changes_nothing_and_is_audited(admin_client, admin_user, nurse):
    response = change_role(admin_client, nurse, reauth_password="not-my-password")
    assert "That password or code is not right" in response.content.decode()
    assert current_role(nurse) == Role.NURSE
    assert AuditEvent.objects.filter(actor=admin_user, action="reauth_failed").count() == 1
    assert not AuditEvent.objects.filter(action="role_change").exists()


def test_the_right_password_completes_the_change_and_is_remembered_for_the_window(
    admin_client, admin_user, nurse, physician, time_machine, settings
):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    response = change_role(admin_client, nurse, reauth_password=PASSWORD)
    assert response.status_code == 302
    assert current_role(nurse) == Role.PHYSICIAN
    assert AuditEvent.objects.filter(actor=admin_user, action="reauth", reason="password for changing a role").exists()
    event = AuditEvent.objects.get(action="role_change")
    assert event.reason == "Qualified"

    time_machine.shift(settings.REAUTH_WINDOW_SECONDS - 10)
    admin_client.post(reverse("session_keepalive"))  # stay within the idle limit
    response = admin_client.post(reverse("account_role", args=[physician.pk]), {"role": "nurse", "reason": "Moved"})
    assert response.status_code == 302
    assert current_role(physician) == Role.NURSE

    time_machine.shift(20)
    response = admin_client.post(reverse("account_role", args=[physician.pk]), {"role": "admin", "reason": "Again"})
    assert "Confirm it is you" in response.content.decode()
    assert current_role(physician) == Role.NURSE


def test_an_authenticator_code_also_confirms(admin_client, admin_user, nurse):
    device = verified_device(admin_user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    response = change_role(admin_client, nurse, reauth_code=current_code(device))
    assert response.status_code == 302
    assert current_role(nurse) == Role.PHYSICIAN


def test_repeated_wrong_passwords_sign_out(admin_client, nurse, settings):
    for _ in range(settings.REAUTH_MAX_FAILURES):
        response = change_role(admin_client, nurse, reauth_password="wrong-wrong-wrong")
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in admin_client.session
    assert current_role(nurse) == Role.NURSE


def test_a_nurse_gets_403_not_a_password_prompt(client, nurse, physician):
    client.force_login(nurse)
    response = change_role(client, physician, reauth_password=PASSWORD)
    assert response.status_code == 403
    assert current_role(physician) == Role.PHYSICIAN


def test_requiring_re_enrolment_needs_re_authentication_and_is_audited(admin_client, admin_user, nurse):
    verified_device(nurse)
    url = reverse("account_mfa_reset", args=[nurse.pk])
    prompt = admin_client.post(url, {"reason": "Lost phone"})
    assert "Confirm it is you" in prompt.content.decode()
    assert TOTPDevice.objects.filter(user=nurse).exists()

    done = admin_client.post(url, {"reason": "Lost phone", "reauth_password": PASSWORD})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    event = AuditEvent.objects.get(action="mfa_reset")
    assert (event.actor, event.record_id, event.reason) == (admin_user, str(nurse.pk), "Lost phone")
    assert event.changes == {"mfa": ["totp", None]}


def test_after_a_reset_the_owner_must_enrol_again(client, admin_user, nurse):
    from records.actions.mfa import mfa_reset
    from tests.conftest import actor_for

    nurse_client = type(client)()
    nurse_client.force_login(nurse)
    assert nurse_client.get("/patients/").status_code == 200
    mfa_reset(actor=actor_for(admin_user), account=nurse, reason="Lost phone")
    response = nurse_client.get("/patients/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_enrol"))


def test_admins_cannot_reset_their_own_authenticator(admin_client, admin_user):
    verified_device(admin_user)
    response = admin_client.post(
        reverse("account_mfa_reset", args=[admin_user.pk]), {"reason": "Mine", "reauth_password": PASSWORD}
    )
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=admin_user).exists()


def test_the_reauth_page_returns_to_a_get_link(admin_client):
    page = admin_client.get(reverse("reauth") + "?next=/audit/")
    assert 'name="next" value="/audit/"' in page.content.decode()
    response = admin_client.post(reverse("reauth"), {"next": "/audit/", "reauth_password": PASSWORD})
    assert response.status_code == 302 and response.url == "/audit/"


def test_the_reauth_page_never_returns_to_another_site(admin_client):
    response = admin_client.post(reverse("reauth"), {"next": "https://evil.example/", "reauth_password": PASSWORD})
    assert response.url == reverse("home")


@pytest.mark.parametrize("back", ["0", "audit_log", "//evil.example/"])
def test_the_reauth_page_returns_home_for_a_next_that_is_not_a_path_here(admin_client, back):
    """A word in `next` was taken for a view's name (a 500)."""
    response = admin_client.post(reverse("reauth"), {"next": back, "reauth_password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")


def test_an_htmx_request_sends_the_whole_tab_to_the_confirmation_and_back(admin_client, nurse):
    response = admin_client.post(
        reverse("account_role", args=[nurse.pk]),
        {"role": "physician", "reason": "Qualified"},
        headers={"HX-Request": "true", "Referer": "http://testserver/accounts/"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("reauth") + "?next=http%3A%2F%2Ftestserver%2Faccounts%2F"
    assert current_role(nurse) == Role.NURSE


def test_the_account_list_uses_a_constant_number_of_queries(admin_client, make_user, django_assert_max_num_queries):
    make_user(Role.NURSE)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(reverse("account_list"))
    for _ in range(15):
        verified_device(make_user(Role.PHYSICIAN))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(reverse("account_list"))
    assert response.content.decode().count("Require re-enrolment") == 15
