from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Clinical records"

    def ready(self) -> None:
        from records import signals  # noqa: F401  (login, logout and failed-login audit)
        from records.actions.protocols import protocols_install_defaults
        from records.permissions import sync_role_groups

        # After Django's own post_migrate receiver has created this app's permissions.
        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="records_sync_role_groups")
        post_migrate.connect(protocols_install_defaults, sender=self, dispatch_uid="records_protocols_install_defaults")
