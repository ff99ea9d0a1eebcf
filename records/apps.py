from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Clinical records"

    def ready(self) -> None:
        from records import signals  # noqa: F401  (login, logout and failed-login audit)
