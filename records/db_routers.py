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


class ReplicaRouter:
    """Reads on the primary, unless the code reading asked for the replica; writes always on the primary.

    records.replica.reads_from_replica() names the replica for the reads of one block,
    when it may be used; this router only follows it. Every write, and so every audit
    event, goes to the primary; nothing is ever migrated on the replica (it follows the
    primary's WAL, schema included).
    """

    def db_for_read(self, model: type, **hints: object) -> str | None:
        from records.replica import reading_from

        return reading_from.get()

    def db_for_write(self, model: type, **hints: object) -> str:
        return "default"

    def allow_relation(self, obj1: object, obj2: object, **hints: object) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: object) -> bool | None:
        from records.replica import REPLICA

        return False if db == REPLICA else None
