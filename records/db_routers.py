"""Database routers.

VendorRouter lets a migration carry SQL for each database it supports: a
`RunSQL(..., hints={"vendor": "postgresql"})` runs only where the connection's
vendor matches, so the trigger SQL stays literal, frozen in the migration.
"""

from django.db import connections


class VendorRouter:
    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: object) -> bool | None:
        vendor = hints.get("vendor")
        if vendor is None:
            return None
        return connections[db].vendor == vendor
