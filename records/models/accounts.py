from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from records.models.base import RecordModel

if TYPE_CHECKING:
    from records.permissions import Role


class User(AbstractUser):
    """A clinic account. Accounts are deactivated (is_active=False), never deleted."""

    # Set when an admin creates the account with a temporary password: the
    # owner must choose their own before doing anything else.
    must_change_password = models.BooleanField(default=False)
    # Not a column: the role, cached on the instance by records.permissions.role_of
    # (False, or absent, until it is looked up).
    _clinic_role: "Role | Literal[False] | None"

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        permissions = [("manage_accounts", "Can create accounts, assign roles and deactivate accounts")]

    @property
    def printed_name(self) -> str:
        """The name shown beside a signature and in the audit log."""
        return self.get_full_name() or self.username


class RecoveryCode(RecordModel):
    """A one-time code that replaces the authenticator app once, e.g. after losing the phone.

    Only a hash is stored (Django's password hashers); the codes are shown once,
    at enrolment. A used code keeps its row with the time it was used.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"], name="recovery_code_user_idx")]

    def __str__(self) -> str:
        return f"Recovery code of {self.user_id} ({'used' if self.used_at else 'unused'})"
