import pytest
from django.urls import reverse

from records.models import AuditEvent, User
from records.permissions import role_of
from tests.conftest import confirm_identity

pytestmark = pytest.mark.django_db

NEW = {
    "username": "new.nurse",
    "first_name": "Grace",
    "last_name": "Otieno",
    "email": "",
    "role": "nurse",
    "password": "Temporary-pass-123",
}


def test_admin_creates_an_account_with_a_role(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("account_new"), NEW)
    assert response.status_code == 302
    account = User.objects.get(username="new.nurse")
    assert role_of(account).value == "nurse"
    event = AuditEvent.objects.get(action="create", record_type="user", record_id=str(account.pk))
    assert event.actor == admin_user
    assert event.changes["role"] == [None, "nurse"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "bad name!", "Use letters, digits"),
        ("role", "superuser", "Select a valid choice"),
        ("password", "short", "at least 12 characters"),
        ("first_name", "", "This field is required"),
    ],
)
def test_bad_account_input_names_the_field(client, admin_user, field, value, message):
    client.force_login(admin_user)
    count = User.objects.count()
    response = client.post(reverse("account_new"), {**NEW, field: value})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert User.objects.count() == count


def test_role_change_needs_a_reason_and_is_audited(client, admin_user, nurse):
    client.force_login(admin_user)
    confirm_identity(client)
    client.post(reverse("account_role", args=[nurse.pk]), {"role": "physician", "reason": ""})
    assert role_of(User.objects.get(pk=nurse.pk)).value == "nurse"

    client.post(reverse("account_role", args=[nurse.pk]), {"role": "physician", "reason": "Qualified as NP"})
    assert role_of(User.objects.get(pk=nurse.pk)).value == "physician"
    event = AuditEvent.objects.get(action="role_change")
    assert (event.changes, event.reason, event.actor) == (
        {"role": ["nurse", "physician"]},
        "Qualified as NP",
        admin_user,
    )


def test_admin_cannot_change_own_role_or_deactivate_self(client, admin_user):
    client.force_login(admin_user)
    confirm_identity(client)
    response = client.post(reverse("account_role", args=[admin_user.pk]), {"role": "nurse", "reason": "x"}, follow=True)
    assert "cannot change your own role" in response.content.decode()
    response = client.post(reverse("account_deactivate", args=[admin_user.pk]), {"reason": "x"}, follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).is_active


def test_deactivate_and_reactivate_keep_the_account(client, admin_user, nurse):
    client.force_login(admin_user)
    client.post(reverse("account_deactivate", args=[nurse.pk]), {"reason": "Left the clinic"})
    assert User.objects.get(pk=nurse.pk).is_active is False
    client.post(reverse("account_reactivate", args=[nurse.pk]), {"reason": "Returned"})
    assert User.objects.get(pk=nurse.pk).is_active is True
    assert list(
        AuditEvent.objects.filter(record_type="user", record_id=str(nurse.pk))
        .exclude(action="create")
        .order_by("id")
        .values_list("action", "reason")
    ) == [("deactivate", "Left the clinic"), ("reactivate", "Returned")]


def test_nurse_cannot_create_accounts(client, nurse):
    client.force_login(nurse)
    assert client.post(reverse("account_new"), NEW).status_code == 403
    assert not User.objects.filter(username="new.nurse").exists()
