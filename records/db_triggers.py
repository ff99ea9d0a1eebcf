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


def forbid_changes(table: str, message: str, events: tuple[str, ...] = ("UPDATE", "DELETE")):
    """A migration operation installing triggers that refuse `events` on `table`."""

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

    return migrations.RunPython(forwards, backwards)


SIGNED_MESSAGE = "This session is signed and locked: its records cannot be changed. Add an addendum instead."


def _run_by_vendor(sql_for):
    def forwards(apps, schema_editor):
        for statement in sql_for(schema_editor.connection.vendor)[0]:
            schema_editor.execute(statement)

    def backwards(apps, schema_editor):
        for statement in sql_for(schema_editor.connection.vendor)[1]:
            schema_editor.execute(statement)

    return migrations.RunPython(forwards, backwards)


def lock_with_session(
    table: str,
    session_table: str = "records_session",
    message: str = SIGNED_MESSAGE,
    *,
    columns: list[str] | None = None,
    cosignature: tuple[str, ...] = (),
):
    """Triggers refusing INSERT, UPDATE and DELETE on `table` rows whose session is signed.

    `table` must have a `session_id` column. An UPDATE is refused if either the
    old or the new session is signed, so a row cannot be moved out of a locked
    session. The `cosignature` columns (a later co-signature of the row, e.g. a
    verbal order's) may still be filled in once; `columns` is then the table's
    column list, which SQLite needs to compare the others one by one.
    """

    def signed(ref: str) -> str:
        return f"(SELECT signed_at FROM {session_table} WHERE id = {ref}.session_id) IS NOT NULL"  # noqa: S608

    frozen = [c for c in (columns or []) if c not in cosignature]
    if cosignature and not frozen:
        raise ValueError("Give the table's columns to allow a co-signature after signing.")

    def sql_for(vendor: str) -> tuple[list[str], list[str]]:
        if vendor == "sqlite":
            update = f"({signed('OLD')} OR {signed('NEW')})"
            if cosignature:
                changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
                once = " OR ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in cosignature)
                update = f"{update} AND ({changed} OR {once})"
            conditions = {"INSERT": signed("NEW"), "UPDATE": update, "DELETE": signed("OLD")}
            create = [
                f"CREATE TRIGGER {table}_locked_{event.lower()} BEFORE {event} ON {table} "
                f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END;"
                for event, condition in conditions.items()
            ]
            drop = [f"DROP TRIGGER IF EXISTS {table}_locked_{event.lower()};" for event in conditions]
            return create, drop
        if vendor == "postgresql":
            func = f"{table}_refuse_when_signed"
            refuse_update = "TRUE"
            if cosignature:
                strip = "".join(f" - '{c}'" for c in cosignature)
                once = " OR ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in cosignature)
                refuse_update = f"(to_jsonb(NEW){strip}) IS DISTINCT FROM (to_jsonb(OLD){strip}) OR {once}"
            create = f"""
                CREATE OR REPLACE FUNCTION {func}() RETURNS trigger AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        IF EXISTS (SELECT 1 FROM {session_table} WHERE id = NEW.session_id AND signed_at IS NOT NULL)
                        THEN
                            RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';
                        END IF;
                        RETURN NEW;
                    END IF;
                    IF TG_OP = 'DELETE' THEN
                        IF EXISTS (SELECT 1 FROM {session_table} WHERE id = OLD.session_id AND signed_at IS NOT NULL)
                        THEN
                            RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';
                        END IF;
                        RETURN OLD;
                    END IF;
                    IF EXISTS (SELECT 1 FROM {session_table}
                               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
                       AND ({refuse_update})
                    THEN
                        RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_locked BEFORE INSERT OR UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {func}();
            """  # noqa: S608 (DDL built from the migration's constant table names)
            drop = f"DROP TRIGGER IF EXISTS {table}_locked ON {table}; DROP FUNCTION IF EXISTS {func}();"
            return [create], [drop]
        raise NotImplementedError(f"No locking triggers for the {vendor} database.")

    return _run_by_vendor(sql_for)


def lock_signed_session(table: str, columns: list[str], mutable: tuple[str, ...], message: str = SIGNED_MESSAGE):
    """Triggers that freeze a signed session row except the `mutable` columns (the co-signature).

    Once signed, the status may only be signed or cosigned, a co-signature once
    given cannot change, and the row cannot be deleted. `columns` is the table's
    column list (SQLite has no row comparison; PostgreSQL compares whole rows).
    """
    frozen = [c for c in columns if c not in mutable and c != "status"]
    # Once co-signed, the co-signature columns and the status are frozen too.
    once_cosigned = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in (*mutable, "status"))
    once_cosigned_pg = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in (*mutable, "status"))

    def sql_for(vendor: str) -> tuple[list[str], list[str]]:
        if vendor == "sqlite":
            changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
            update = (
                f"CREATE TRIGGER {table}_signed_frozen BEFORE UPDATE ON {table} "
                f"WHEN OLD.signed_at IS NOT NULL AND ({changed} OR NEW.status NOT IN ('signed', 'cosigned') "
                f"OR (OLD.cosigned_at IS NOT NULL AND ({once_cosigned}))) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            )
            delete = (
                f"CREATE TRIGGER {table}_signed_no_delete BEFORE DELETE ON {table} "
                f"WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            )
            drop = [
                f"DROP TRIGGER IF EXISTS {table}_signed_frozen;",
                f"DROP TRIGGER IF EXISTS {table}_signed_no_delete;",
            ]
            return [update, delete], drop
        if vendor == "postgresql":
            func = f"{table}_refuse_change_when_signed"
            strip = "".join(f" - '{c}'" for c in (*mutable, "status"))
            create = f"""
                CREATE OR REPLACE FUNCTION {func}() RETURNS trigger AS $$
                BEGIN
                    IF OLD.signed_at IS NOT NULL THEN
                        IF TG_OP = 'DELETE'
                           OR (to_jsonb(NEW){strip}) IS DISTINCT FROM (to_jsonb(OLD){strip})
                           OR NEW.status NOT IN ('signed', 'cosigned')
                           OR (OLD.cosigned_at IS NOT NULL AND ({once_cosigned_pg}))
                        THEN
                            RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';
                        END IF;
                    END IF;
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_signed_frozen BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {func}();
            """
            drop = f"DROP TRIGGER IF EXISTS {table}_signed_frozen ON {table}; DROP FUNCTION IF EXISTS {func}();"
            return [create], [drop]
        raise NotImplementedError(f"No locking triggers for the {vendor} database.")

    return _run_by_vendor(sql_for)
