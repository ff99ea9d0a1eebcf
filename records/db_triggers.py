"""Database triggers that refuse changes, for SQLite and PostgreSQL.

Errors carry SQLSTATE 23001 (restrict_violation) on PostgreSQL so that both
databases surface them in Django as IntegrityError.
"""

from django.db import migrations


def _sqlite_forbid(table: str, event: str, message: str) -> tuple[str, str]:
    name = f"{table}_no_{event.lower()}"
    create = f"CREATE TRIGGER {name} BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END;"
    return create, f"DROP TRIGGER IF EXISTS {name};"


def _postgres_forbid(table: str, events: list[str], message: str) -> tuple[str, str]:
    func = f"{table}_refuse_change"
    create = f"""
        CREATE OR REPLACE FUNCTION {func}() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER {table}_no_change BEFORE {" OR ".join(events)} ON {table}
            FOR EACH ROW EXECUTE FUNCTION {func}();
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {func}();
    """
    drop = f"""
        DROP TRIGGER IF EXISTS {table}_no_change ON {table};
        DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
        DROP FUNCTION IF EXISTS {func}();
    """
    return create, drop


def forbid_changes(table: str, message: str, events: tuple[str, ...] = ("UPDATE", "DELETE"), *, reverse: bool = False):
    """A migration operation installing triggers that refuse `events` on `table`.

    With reverse=True it removes them instead (and puts them back when the
    migration is unapplied): for a migration that must rewrite the table's rows
    or, on SQLite, rebuild the table (which drops its triggers).
    """

    def sql_for(vendor: str) -> tuple[list[str], list[str]]:
        if vendor == "postgresql":
            create, drop = _postgres_forbid(table, list(events), message)
            return [create], [drop]
        if vendor == "sqlite":
            pairs = [_sqlite_forbid(table, event, message) for event in events]
            return [c for c, _ in pairs], [d for _, d in pairs]
        raise NotImplementedError(f"No append-only triggers for the {vendor} database.")

    def forwards(apps, schema_editor):
        for statement in sql_for(schema_editor.connection.vendor)[0]:
            schema_editor.execute(statement)

    def backwards(apps, schema_editor):
        for statement in sql_for(schema_editor.connection.vendor)[1]:
            schema_editor.execute(statement)

    if reverse:
        return migrations.RunPython(backwards, forwards)
    return migrations.RunPython(forwards, backwards)
