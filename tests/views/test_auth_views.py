import pytest
from django.urls import reverse

from records.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_is_public_and_everything_else_needs_login(client):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("patient_list"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('patient_list')}"


def test_login_and_logout_are_audited_with_role_ip_and_agent(client, nurse):
    response = client.post(
        reverse("login"),
        {"username": "nurse_a", "password": PASSWORD},
        HTTP_USER_AGENT="TabletBrowser/1.0",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    login = AuditEvent.objects.get(action="login")
    assert (login.actor, login.actor_role, login.ip_address, login.user_agent) == (
        nurse,
        "nurse",
        "10.1.2.3",
        "TabletBrowser/1.0",
    )

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor=nurse).count() == 1
    assert client.get(reverse("patient_list")).status_code == 302


def test_failed_login_is_audited_without_saying_whether_the_user_exists(client, nurse):
    wrong_password = client.post(reverse("login"), {"username": "nurse_a", "password": "wrong-password-1"})
    no_such_user = client.post(reverse("login"), {"username": "ghost", "password": "wrong-password-1"})

    assert wrong_password.status_code == no_such_user.status_code == 200
    assert wrong_password.context["form"].non_field_errors() == no_such_user.context["form"].non_field_errors()
    failures = AuditEvent.objects.filter(action="login_failed").order_by("id")
    assert [(e.actor_username, e.actor_id) for e in failures] == [("nurse_a", None), ("ghost", None)]


def test_deactivated_account_cannot_log_in(client, make_user, admin_user):
    from records.actions.accounts import account_set_active
    from tests.conftest import actor_for

    user = make_user("nurse", "leaver")
    account_set_active(actor=actor_for(admin_user), account=user, active=False, reason="Left the clinic")
    response = client.post(reverse("login"), {"username": "leaver", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_change_goes_through_the_action_and_is_audited(client, nurse):
    client.force_login(nurse)
    new = "Another-long-pass-77"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password(new)
    assert AuditEvent.objects.filter(action="password_change", actor=nurse).count() == 1
    # still signed in after the change
    assert client.get(reverse("patient_list")).status_code == 200


def test_short_password_is_refused_with_the_rule(client, nurse):
    client.force_login(nurse)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)


def test_home_sends_each_role_to_its_start_page(client, nurse, admin_user, make_user):
    client.force_login(nurse)
    assert client.get(reverse("home")).url == reverse("patient_list")
    client.force_login(admin_user)
    assert client.get(reverse("home")).url == reverse("audit_log")
    client.force_login(make_user("nurse", "norole"))
    from django.contrib.auth.models import Group

    Group.objects.get(name="nurse").user_set.remove(client.session["_auth_user_id"])
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "no role" in response.content.decode()
