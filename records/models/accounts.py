from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A clinic account. Accounts are deactivated (is_active=False), never deleted."""

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        permissions = [("manage_accounts", "Can create accounts, assign roles and deactivate accounts")]

    @property
    def printed_name(self) -> str:
        """The name shown beside a signature and in the audit log."""
        return self.get_full_name() or self.username
