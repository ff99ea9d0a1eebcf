"""The database's own guards: triggers that refuse changes, frozen as literal SQL per database.

Every statement below is plain SQL for one database; the hint {"vendor": ...} makes
records.db_routers.VendorRouter run it only on that database. Nothing here imports
application code, so this migration means the same thing forever (and squashes).

Errors carry SQLSTATE 23001 (restrict_violation) on PostgreSQL, so both databases
surface a refused change in Django as IntegrityError.

tests/test_database_guards.py lists every trigger by name for both databases.
"""

from django.db import migrations

# (table, why, SQLite (forward, reverse), PostgreSQL (forward, reverse))
GUARDS = [
    (
        "records_auditevent",
        "The audit log is append-only (UPDATE, DELETE and, on PostgreSQL, TRUNCATE refused).",
        (
            [
                """CREATE TRIGGER records_auditevent_no_update BEFORE UPDATE ON records_auditevent BEGIN SELECT RAISE(ABORT, 'The audit log is append-only: events cannot be changed or deleted.'); END;""",
                """CREATE TRIGGER records_auditevent_no_delete BEFORE DELETE ON records_auditevent BEGIN SELECT RAISE(ABORT, 'The audit log is append-only: events cannot be changed or deleted.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_auditevent_no_update;",
                "DROP TRIGGER IF EXISTS records_auditevent_no_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: events cannot be changed or deleted.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_auditevent_no_change BEFORE UPDATE OR DELETE ON records_auditevent
    FOR EACH ROW EXECUTE FUNCTION records_auditevent_refuse_change();
CREATE TRIGGER records_auditevent_no_truncate BEFORE TRUNCATE ON records_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION records_auditevent_refuse_change();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_auditevent_no_change ON records_auditevent;
DROP TRIGGER IF EXISTS records_auditevent_no_truncate ON records_auditevent;
DROP FUNCTION IF EXISTS records_auditevent_refuse_change();
""",
            ],
        ),
    ),
    (
        "records_auditverification",
        "Verification runs are append-only.",
        (
            [
                """CREATE TRIGGER records_auditverification_no_update BEFORE UPDATE ON records_auditverification BEGIN SELECT RAISE(ABORT, 'Verification runs are append-only: they cannot be changed or deleted.'); END;""",
                """CREATE TRIGGER records_auditverification_no_delete BEFORE DELETE ON records_auditverification BEGIN SELECT RAISE(ABORT, 'Verification runs are append-only: they cannot be changed or deleted.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_auditverification_no_update;",
                "DROP TRIGGER IF EXISTS records_auditverification_no_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_auditverification_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Verification runs are append-only: they cannot be changed or deleted.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_auditverification_no_change BEFORE UPDATE OR DELETE ON records_auditverification
    FOR EACH ROW EXECUTE FUNCTION records_auditverification_refuse_change();
CREATE TRIGGER records_auditverification_no_truncate BEFORE TRUNCATE ON records_auditverification
    FOR EACH STATEMENT EXECUTE FUNCTION records_auditverification_refuse_change();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_auditverification_no_change ON records_auditverification;
DROP TRIGGER IF EXISTS records_auditverification_no_truncate ON records_auditverification;
DROP FUNCTION IF EXISTS records_auditverification_refuse_change();
""",
            ],
        ),
    ),
    (
        "records_intakerevision",
        "Intake revisions are kept as written.",
        (
            [
                """CREATE TRIGGER records_intakerevision_no_update BEFORE UPDATE ON records_intakerevision BEGIN SELECT RAISE(ABORT, 'Intake revisions are kept as written: they cannot be changed or deleted.'); END;""",
                """CREATE TRIGGER records_intakerevision_no_delete BEFORE DELETE ON records_intakerevision BEGIN SELECT RAISE(ABORT, 'Intake revisions are kept as written: they cannot be changed or deleted.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_intakerevision_no_update;",
                "DROP TRIGGER IF EXISTS records_intakerevision_no_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_intakerevision_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Intake revisions are kept as written: they cannot be changed or deleted.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_intakerevision_no_change BEFORE UPDATE OR DELETE ON records_intakerevision
    FOR EACH ROW EXECUTE FUNCTION records_intakerevision_refuse_change();
CREATE TRIGGER records_intakerevision_no_truncate BEFORE TRUNCATE ON records_intakerevision
    FOR EACH STATEMENT EXECUTE FUNCTION records_intakerevision_refuse_change();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_intakerevision_no_change ON records_intakerevision;
DROP TRIGGER IF EXISTS records_intakerevision_no_truncate ON records_intakerevision;
DROP FUNCTION IF EXISTS records_intakerevision_refuse_change();
""",
            ],
        ),
    ),
    (
        "records_intakeassessment",
        "An intake assessment is revised (UPDATE), never deleted.",
        (
            [
                """CREATE TRIGGER records_intakeassessment_no_delete BEFORE DELETE ON records_intakeassessment BEGIN SELECT RAISE(ABORT, 'An intake assessment is never deleted; revise it instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_intakeassessment_no_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_intakeassessment_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'An intake assessment is never deleted; revise it instead.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_intakeassessment_no_change BEFORE DELETE ON records_intakeassessment
    FOR EACH ROW EXECUTE FUNCTION records_intakeassessment_refuse_change();
CREATE TRIGGER records_intakeassessment_no_truncate BEFORE TRUNCATE ON records_intakeassessment
    FOR EACH STATEMENT EXECUTE FUNCTION records_intakeassessment_refuse_change();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_intakeassessment_no_change ON records_intakeassessment;
DROP TRIGGER IF EXISTS records_intakeassessment_no_truncate ON records_intakeassessment;
DROP FUNCTION IF EXISTS records_intakeassessment_refuse_change();
""",
            ],
        ),
    ),
    (
        "records_outcomereport",
        "Patient-reported outcomes are kept as recorded.",
        (
            [
                """CREATE TRIGGER records_outcomereport_no_update BEFORE UPDATE ON records_outcomereport BEGIN SELECT RAISE(ABORT, 'Patient-reported outcomes are kept as recorded.'); END;""",
                """CREATE TRIGGER records_outcomereport_no_delete BEFORE DELETE ON records_outcomereport BEGIN SELECT RAISE(ABORT, 'Patient-reported outcomes are kept as recorded.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_outcomereport_no_update;",
                "DROP TRIGGER IF EXISTS records_outcomereport_no_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_outcomereport_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Patient-reported outcomes are kept as recorded.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_outcomereport_no_change BEFORE UPDATE OR DELETE ON records_outcomereport
    FOR EACH ROW EXECUTE FUNCTION records_outcomereport_refuse_change();
CREATE TRIGGER records_outcomereport_no_truncate BEFORE TRUNCATE ON records_outcomereport
    FOR EACH STATEMENT EXECUTE FUNCTION records_outcomereport_refuse_change();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_outcomereport_no_change ON records_outcomereport;
DROP TRIGGER IF EXISTS records_outcomereport_no_truncate ON records_outcomereport;
DROP FUNCTION IF EXISTS records_outcomereport_refuse_change();
""",
            ],
        ),
    ),
    (
        "records_vitalsreading",
        "Rows of a signed session are locked: no insert, update or delete.",
        (
            [
                """CREATE TRIGGER records_vitalsreading_locked_insert BEFORE INSERT ON records_vitalsreading WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_vitalsreading_locked_update BEFORE UPDATE ON records_vitalsreading WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_vitalsreading_locked_delete BEFORE DELETE ON records_vitalsreading WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_vitalsreading_locked_insert;",
                "DROP TRIGGER IF EXISTS records_vitalsreading_locked_update;",
                "DROP TRIGGER IF EXISTS records_vitalsreading_locked_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_vitalsreading_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session
               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
       AND (TRUE)
    THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_vitalsreading_locked BEFORE INSERT OR UPDATE OR DELETE ON records_vitalsreading
    FOR EACH ROW EXECUTE FUNCTION records_vitalsreading_refuse_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_vitalsreading_locked ON records_vitalsreading; DROP FUNCTION IF EXISTS records_vitalsreading_refuse_when_signed();""",
            ],
        ),
    ),
    (
        "records_screening",
        "Rows of a signed session are locked: no insert, update or delete.",
        (
            [
                """CREATE TRIGGER records_screening_locked_insert BEFORE INSERT ON records_screening WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_screening_locked_update BEFORE UPDATE ON records_screening WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_screening_locked_delete BEFORE DELETE ON records_screening WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_screening_locked_insert;",
                "DROP TRIGGER IF EXISTS records_screening_locked_update;",
                "DROP TRIGGER IF EXISTS records_screening_locked_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_screening_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session
               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
       AND (TRUE)
    THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_screening_locked BEFORE INSERT OR UPDATE OR DELETE ON records_screening
    FOR EACH ROW EXECUTE FUNCTION records_screening_refuse_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_screening_locked ON records_screening; DROP FUNCTION IF EXISTS records_screening_refuse_when_signed();""",
            ],
        ),
    ),
    (
        "records_administration",
        "Rows of a signed session are locked: no insert, update or delete.",
        (
            [
                """CREATE TRIGGER records_administration_locked_insert BEFORE INSERT ON records_administration WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_administration_locked_update BEFORE UPDATE ON records_administration WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_administration_locked_delete BEFORE DELETE ON records_administration WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_administration_locked_insert;",
                "DROP TRIGGER IF EXISTS records_administration_locked_update;",
                "DROP TRIGGER IF EXISTS records_administration_locked_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_administration_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session
               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
       AND (TRUE)
    THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_administration_locked BEFORE INSERT OR UPDATE OR DELETE ON records_administration
    FOR EACH ROW EXECUTE FUNCTION records_administration_refuse_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_administration_locked ON records_administration; DROP FUNCTION IF EXISTS records_administration_refuse_when_signed();""",
            ],
        ),
    ),
    (
        "records_administrationevent",
        "Rows of a signed session are locked: no insert, update or delete.",
        (
            [
                """CREATE TRIGGER records_administrationevent_locked_insert BEFORE INSERT ON records_administrationevent WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_administrationevent_locked_update BEFORE UPDATE ON records_administrationevent WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_administrationevent_locked_delete BEFORE DELETE ON records_administrationevent WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_administrationevent_locked_insert;",
                "DROP TRIGGER IF EXISTS records_administrationevent_locked_update;",
                "DROP TRIGGER IF EXISTS records_administrationevent_locked_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_administrationevent_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session
               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
       AND (TRUE)
    THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_administrationevent_locked BEFORE INSERT OR UPDATE OR DELETE ON records_administrationevent
    FOR EACH ROW EXECUTE FUNCTION records_administrationevent_refuse_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_administrationevent_locked ON records_administrationevent; DROP FUNCTION IF EXISTS records_administrationevent_refuse_when_signed();""",
            ],
        ),
    ),
    (
        "records_sideeffect",
        "Rows of a signed session are locked: no insert, update or delete.",
        (
            [
                """CREATE TRIGGER records_sideeffect_locked_insert BEFORE INSERT ON records_sideeffect WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_sideeffect_locked_update BEFORE UPDATE ON records_sideeffect WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_sideeffect_locked_delete BEFORE DELETE ON records_sideeffect WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_sideeffect_locked_insert;",
                "DROP TRIGGER IF EXISTS records_sideeffect_locked_update;",
                "DROP TRIGGER IF EXISTS records_sideeffect_locked_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_sideeffect_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session
               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
       AND (TRUE)
    THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_sideeffect_locked BEFORE INSERT OR UPDATE OR DELETE ON records_sideeffect
    FOR EACH ROW EXECUTE FUNCTION records_sideeffect_refuse_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_sideeffect_locked ON records_sideeffect; DROP FUNCTION IF EXISTS records_sideeffect_refuse_when_signed();""",
            ],
        ),
    ),
    (
        "records_discharge",
        "Rows of a signed session are locked: no insert, update or delete.",
        (
            [
                """CREATE TRIGGER records_discharge_locked_insert BEFORE INSERT ON records_discharge WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_discharge_locked_update BEFORE UPDATE ON records_discharge WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_discharge_locked_delete BEFORE DELETE ON records_discharge WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_discharge_locked_insert;",
                "DROP TRIGGER IF EXISTS records_discharge_locked_update;",
                "DROP TRIGGER IF EXISTS records_discharge_locked_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_discharge_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session
               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
       AND (TRUE)
    THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_discharge_locked BEFORE INSERT OR UPDATE OR DELETE ON records_discharge
    FOR EACH ROW EXECUTE FUNCTION records_discharge_refuse_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_discharge_locked ON records_discharge; DROP FUNCTION IF EXISTS records_discharge_refuse_when_signed();""",
            ],
        ),
    ),
    (
        "records_order",
        "Orders of a signed session are locked; the ordering physician's co-signature may still be added once.",
        (
            [
                """CREATE TRIGGER records_order_locked_insert BEFORE INSERT ON records_order WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_order_locked_update BEFORE UPDATE ON records_order WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) AND (NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.ordering_physician_id IS NOT OLD.ordering_physician_id OR NEW.outside_prescriber IS NOT OLD.outside_prescriber OR NEW.received_as IS NOT OLD.received_as OR NEW.read_back_confirmed IS NOT OLD.read_back_confirmed OR NEW.medication IS NOT OLD.medication OR NEW.dose_value IS NOT OLD.dose_value OR NEW.dose_unit IS NOT OLD.dose_unit OR NEW.route IS NOT OLD.route OR NEW.rate_text IS NOT OLD.rate_text OR NEW.order_text IS NOT OLD.order_text OR NEW.received_at IS NOT OLD.received_at OR NEW.documented_by_id IS NOT OLD.documented_by_id OR NEW.documented_at IS NOT OLD.documented_at OR NEW.cosign_due_at IS NOT OLD.cosign_due_at OR (OLD.cosigned_by_id IS NOT NULL AND NEW.cosigned_by_id IS NOT OLD.cosigned_by_id) OR (OLD.cosigned_at IS NOT NULL AND NEW.cosigned_at IS NOT OLD.cosigned_at)) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_order_locked_delete BEFORE DELETE ON records_order WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_order_locked_insert;",
                "DROP TRIGGER IF EXISTS records_order_locked_update;",
                "DROP TRIGGER IF EXISTS records_order_locked_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_order_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session
               WHERE id IN (OLD.session_id, NEW.session_id) AND signed_at IS NOT NULL)
       AND ((to_jsonb(NEW) - 'cosigned_by_id' - 'cosigned_at') IS DISTINCT FROM (to_jsonb(OLD) - 'cosigned_by_id' - 'cosigned_at') OR (OLD.cosigned_by_id IS NOT NULL AND NEW.cosigned_by_id IS DISTINCT FROM OLD.cosigned_by_id) OR (OLD.cosigned_at IS NOT NULL AND NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at))
    THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_order_locked BEFORE INSERT OR UPDATE OR DELETE ON records_order
    FOR EACH ROW EXECUTE FUNCTION records_order_refuse_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_order_locked ON records_order; DROP FUNCTION IF EXISTS records_order_refuse_when_signed();""",
            ],
        ),
    ),
    (
        "records_session",
        "A signed session row is frozen except its co-signature, given once.",
        (
            [
                """CREATE TRIGGER records_session_signed_frozen BEFORE UPDATE ON records_session WHEN OLD.signed_at IS NOT NULL AND (NEW.id IS NOT OLD.id OR NEW.patient_id IS NOT OLD.patient_id OR NEW.planned_route IS NOT OLD.planned_route OR NEW.scheduled_at IS NOT OLD.scheduled_at OR NEW.chair IS NOT OLD.chair OR NEW.primary_nurse_id IS NOT OLD.primary_nurse_id OR NEW.supervising_physician_id IS NOT OLD.supervising_physician_id OR NEW.exit_kind IS NOT OLD.exit_kind OR NEW.exit_reason IS NOT OLD.exit_reason OR NEW.arrived_at IS NOT OLD.arrived_at OR NEW.created_at IS NOT OLD.created_at OR NEW.signed_by_id IS NOT OLD.signed_by_id OR NEW.signed_at IS NOT OLD.signed_at OR NEW.signed_name IS NOT OLD.signed_name OR NEW.status NOT IN ('signed', 'cosigned') OR (OLD.cosigned_at IS NOT NULL AND (NEW.cosigned_by_id IS NOT OLD.cosigned_by_id OR NEW.cosigned_at IS NOT OLD.cosigned_at OR NEW.cosigned_name IS NOT OLD.cosigned_name OR NEW.status IS NOT OLD.status))) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
                """CREATE TRIGGER records_session_signed_no_delete BEFORE DELETE ON records_session WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_session_signed_frozen;",
                "DROP TRIGGER IF EXISTS records_session_signed_no_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_session_refuse_change_when_signed() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL THEN
        IF TG_OP = 'DELETE'
           OR (to_jsonb(NEW) - 'cosigned_by_id' - 'cosigned_at' - 'cosigned_name' - 'status') IS DISTINCT FROM (to_jsonb(OLD) - 'cosigned_by_id' - 'cosigned_at' - 'cosigned_name' - 'status')
           OR NEW.status NOT IN ('signed', 'cosigned')
           OR (OLD.cosigned_at IS NOT NULL AND (NEW.cosigned_by_id IS DISTINCT FROM OLD.cosigned_by_id OR NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at OR NEW.cosigned_name IS DISTINCT FROM OLD.cosigned_name OR NEW.status IS DISTINCT FROM OLD.status))
        THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_session_signed_frozen BEFORE UPDATE OR DELETE ON records_session
    FOR EACH ROW EXECUTE FUNCTION records_session_refuse_change_when_signed();
""",
            ],
            [
                """DROP TRIGGER IF EXISTS records_session_signed_frozen ON records_session; DROP FUNCTION IF EXISTS records_session_refuse_change_when_signed();""",
            ],
        ),
    ),
    (
        "records_addendum",
        "Addenda are append-only.",
        (
            [
                """CREATE TRIGGER records_addendum_no_update BEFORE UPDATE ON records_addendum BEGIN SELECT RAISE(ABORT, 'Addenda are append-only: they cannot be changed or deleted.'); END;""",
                """CREATE TRIGGER records_addendum_no_delete BEFORE DELETE ON records_addendum BEGIN SELECT RAISE(ABORT, 'Addenda are append-only: they cannot be changed or deleted.'); END;""",
            ],
            [
                "DROP TRIGGER IF EXISTS records_addendum_no_update;",
                "DROP TRIGGER IF EXISTS records_addendum_no_delete;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_addendum_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Addenda are append-only: they cannot be changed or deleted.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_addendum_no_change BEFORE UPDATE OR DELETE ON records_addendum
    FOR EACH ROW EXECUTE FUNCTION records_addendum_refuse_change();
CREATE TRIGGER records_addendum_no_truncate BEFORE TRUNCATE ON records_addendum
    FOR EACH STATEMENT EXECUTE FUNCTION records_addendum_refuse_change();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_addendum_no_change ON records_addendum;
DROP TRIGGER IF EXISTS records_addendum_no_truncate ON records_addendum;
DROP FUNCTION IF EXISTS records_addendum_refuse_change();
""",
            ],
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [
        migrations.RunSQL(sql, reverse_sql, hints={"vendor": vendor})
        for _table, _why, sqlite, postgresql in GUARDS
        for vendor, (sql, reverse_sql) in (("sqlite", sqlite), ("postgresql", postgresql))
    ]
