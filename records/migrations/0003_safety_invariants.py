"""Safety invariants in the database: clinical values are insert-only, the screening's hard stop
holds whatever writes the row, and one administration per order (records/rules.py states each rule).

- Schema: a session may keep earlier, superseded screenings (one current screening per session, a
  partial unique constraint); a cleared screening has every answer "no" and is not pregnant (a check
  constraint); one administration per order and one order per order-form submission (unique
  constraints).
- Triggers, literal SQL per database as in 0002 (the {"vendor": ...} hint makes
  records.db_routers.VendorRouter run each only on its database): every clinical table is insert-only
  except the documented columns, each set once (an entered-in-error mark, a physician's decision, a
  superseded mark, a co-signature, an administration's pause/resume/stop, a side effect's resolution,
  a session's status along records.workflow's steps, its arrival, exit and signatures); nothing
  clinical, no session and no patient is ever deleted; TRUNCATE is refused on PostgreSQL. Error
  messages name the rule (R2, R3 ...) of records/rules.py.

SQLite rebuilds a table to add a unique or check constraint or to change a column, and the rebuild
silently drops the table's triggers. 0002's triggers on the rebuilt tables (screening, order,
administration) are re-created right after the schema operations, and again before them when going
back. A later migration that alters one of these tables must do the same for every trigger on it
(tests/test_database_guards.py lists them all by name).

Nothing here imports application code: the status steps are frozen below as they were written.
"""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

# The (from, to) status pairs of records.workflow.STEPS when this migration was written, one string each
# (tests/test_database_invariants.py compares them with the live table).
STATUS_STEPS = [
    "scheduled>arrived",
    "arrived>screening",
    "screening>cleared",
    "screening>held",
    "held>cleared",
    "held>cancelled",
    "scheduled>cancelled",
    "arrived>cancelled",
    "screening>cancelled",
    "cleared>cancelled",
    "cleared>screening",
    "held>screening",
    "scheduled>no_show",
    "cleared>in_progress",
    "in_progress>recovery",
    "in_progress>stopped_early",
    "recovery>stopped_early",
    "recovery>discharged",
    "stopped_early>discharged",
    "discharged>signed",
    "cancelled>signed",
    "no_show>signed",
    "signed>cosigned",
]

# 0002's triggers on the tables SQLite rebuilds below, verbatim: re-created after the rebuild, and before it
# when going back (a reversed rebuild drops them again).
SQLITE_0002_TRIGGERS = [
    "CREATE TRIGGER records_screening_locked_insert BEFORE INSERT ON records_screening WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_screening_locked_update BEFORE UPDATE ON records_screening WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_screening_locked_delete BEFORE DELETE ON records_screening WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_order_locked_insert BEFORE INSERT ON records_order WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_order_locked_update BEFORE UPDATE ON records_order WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) AND (NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.ordering_physician_id IS NOT OLD.ordering_physician_id OR NEW.outside_prescriber IS NOT OLD.outside_prescriber OR NEW.received_as IS NOT OLD.received_as OR NEW.read_back_confirmed IS NOT OLD.read_back_confirmed OR NEW.medication IS NOT OLD.medication OR NEW.dose_value IS NOT OLD.dose_value OR NEW.dose_unit IS NOT OLD.dose_unit OR NEW.route IS NOT OLD.route OR NEW.rate_text IS NOT OLD.rate_text OR NEW.order_text IS NOT OLD.order_text OR NEW.received_at IS NOT OLD.received_at OR NEW.documented_by_id IS NOT OLD.documented_by_id OR NEW.documented_at IS NOT OLD.documented_at OR NEW.cosign_due_at IS NOT OLD.cosign_due_at OR (OLD.cosigned_by_id IS NOT NULL AND NEW.cosigned_by_id IS NOT OLD.cosigned_by_id) OR (OLD.cosigned_at IS NOT NULL AND NEW.cosigned_at IS NOT OLD.cosigned_at)) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_order_locked_delete BEFORE DELETE ON records_order WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_administration_locked_insert BEFORE INSERT ON records_administration WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_administration_locked_update BEFORE UPDATE ON records_administration WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_administration_locked_delete BEFORE DELETE ON records_administration WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
]
SQLITE_0002_DROPS = [
    "DROP TRIGGER IF EXISTS records_screening_locked_insert;",
    "DROP TRIGGER IF EXISTS records_screening_locked_update;",
    "DROP TRIGGER IF EXISTS records_screening_locked_delete;",
    "DROP TRIGGER IF EXISTS records_order_locked_insert;",
    "DROP TRIGGER IF EXISTS records_order_locked_update;",
    "DROP TRIGGER IF EXISTS records_order_locked_delete;",
    "DROP TRIGGER IF EXISTS records_administration_locked_insert;",
    "DROP TRIGGER IF EXISTS records_administration_locked_update;",
    "DROP TRIGGER IF EXISTS records_administration_locked_delete;",
]

# (table, rule, SQLite (forward, reverse), PostgreSQL (forward, reverse))
GUARDS = [
    (
        "records_vitalsreading",
        "R2: insert-only; only the entered-in-error mark is set, once. Never deleted.",
        (
            [
                "CREATE TRIGGER records_vitalsreading_kept BEFORE UPDATE ON records_vitalsreading WHEN (NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.measured_at IS NOT OLD.measured_at OR NEW.entered_at IS NOT OLD.entered_at OR NEW.entered_by_id IS NOT OLD.entered_by_id OR NEW.phase IS NOT OLD.phase OR NEW.systolic IS NOT OLD.systolic OR NEW.diastolic IS NOT OLD.diastolic OR NEW.heart_rate IS NOT OLD.heart_rate OR NEW.spo2 IS NOT OLD.spo2 OR NEW.respiratory_rate IS NOT OLD.respiratory_rate OR NEW.temperature IS NOT OLD.temperature OR NEW.pain IS NOT OLD.pain OR NEW.sedation_rass IS NOT OLD.sedation_rass OR NEW.dissociation IS NOT OLD.dissociation OR NEW.weight_kg IS NOT OLD.weight_kg OR NEW.note IS NOT OLD.note) OR (OLD.entered_in_error_at IS NOT NULL AND (NEW.entered_in_error_at IS NOT OLD.entered_in_error_at OR NEW.entered_in_error_by_id IS NOT OLD.entered_in_error_by_id OR NEW.entered_in_error_reason IS NOT OLD.entered_in_error_reason)) BEGIN SELECT RAISE(ABORT, 'R2: a vitals reading is never changed; only its entered-in-error mark (time, by whom, reason) is set, once.'); END;",
                "CREATE TRIGGER records_vitalsreading_never_deleted BEFORE DELETE ON records_vitalsreading BEGIN SELECT RAISE(ABORT, 'R2: nothing clinical is deleted: a vitals reading is kept; mark it entered in error instead.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_vitalsreading_kept;",
                "DROP TRIGGER IF EXISTS records_vitalsreading_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_vitalsreading_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: nothing clinical is deleted: a vitals reading is kept; mark it entered in error instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF ((to_jsonb(NEW) - 'entered_in_error_at' - 'entered_in_error_by_id' - 'entered_in_error_reason') IS DISTINCT FROM (to_jsonb(OLD) - 'entered_in_error_at' - 'entered_in_error_by_id' - 'entered_in_error_reason')) OR (OLD.entered_in_error_at IS NOT NULL AND (NEW.entered_in_error_at IS DISTINCT FROM OLD.entered_in_error_at OR NEW.entered_in_error_by_id IS DISTINCT FROM OLD.entered_in_error_by_id OR NEW.entered_in_error_reason IS DISTINCT FROM OLD.entered_in_error_reason)) THEN
        RAISE EXCEPTION 'R2: a vitals reading is never changed; only its entered-in-error mark (time, by whom, reason) is set, once.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_vitalsreading_kept BEFORE UPDATE OR DELETE ON records_vitalsreading
    FOR EACH ROW EXECUTE FUNCTION records_vitalsreading_keep();
CREATE TRIGGER records_vitalsreading_no_truncate BEFORE TRUNCATE ON records_vitalsreading
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_vitalsreading_kept ON records_vitalsreading;
DROP TRIGGER IF EXISTS records_vitalsreading_no_truncate ON records_vitalsreading;
DROP FUNCTION IF EXISTS records_vitalsreading_keep();
""",
            ],
        ),
    ),
    (
        "records_screening",
        "R3: inserted undecided and current, its BP from its own session and, when cleared, below its thresholds; only the physician's decision on a held screening and the superseded mark (once its BP is struck) are set, once. Never deleted.",
        (
            [
                "CREATE TRIGGER records_screening_inserted_undecided BEFORE INSERT ON records_screening WHEN NEW.outcome NOT IN ('cleared', 'held') OR NEW.decision <> '' OR NEW.decision_reason <> '' OR NEW.decided_by_id IS NOT NULL OR NEW.decided_at IS NOT NULL OR NEW.superseded_at IS NOT NULL OR NEW.superseded_by_id IS NOT NULL OR NEW.superseded_reason <> '' BEGIN SELECT RAISE(ABORT, 'R3: a screening is recorded cleared or held, undecided and current; a physician decides on a held screening afterwards.'); END;",
                "CREATE TRIGGER records_screening_bp_of_its_session BEFORE INSERT ON records_screening WHEN (SELECT session_id FROM records_vitalsreading WHERE id = NEW.bp_reading_id) IS NOT NEW.session_id BEGIN SELECT RAISE(ABORT, 'R3: a screening''s blood pressure reading belongs to the screening''s session.'); END;",
                "CREATE TRIGGER records_screening_cleared_below_threshold BEFORE INSERT ON records_screening WHEN NEW.outcome = 'cleared' AND NOT EXISTS (SELECT 1 FROM records_vitalsreading r WHERE r.id = NEW.bp_reading_id AND r.entered_in_error_at IS NULL AND r.systolic < NEW.bp_hold_systolic AND r.diastolic < NEW.bp_hold_diastolic) BEGIN SELECT RAISE(ABORT, 'R3: a cleared screening needs a valid blood pressure reading below the thresholds it records.'); END;",
                "CREATE TRIGGER records_screening_kept BEFORE UPDATE ON records_screening WHEN ((NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.bp_reading_id IS NOT OLD.bp_reading_id OR NEW.hypertension_history IS NOT OLD.hypertension_history OR NEW.hypertension_uncontrolled IS NOT OLD.hypertension_uncontrolled OR NEW.psychosis_history IS NOT OLD.psychosis_history OR NEW.psychosis_current IS NOT OLD.psychosis_current OR NEW.pregnancy IS NOT OLD.pregnancy OR NEW.pregnancy_note IS NOT OLD.pregnancy_note OR NEW.bp_hold_systolic IS NOT OLD.bp_hold_systolic OR NEW.bp_hold_diastolic IS NOT OLD.bp_hold_diastolic OR NEW.outcome IS NOT OLD.outcome OR NEW.screened_by_id IS NOT OLD.screened_by_id OR NEW.screened_at IS NOT OLD.screened_at OR NEW.carried_findings IS NOT OLD.carried_findings) OR ((NEW.decision IS NOT OLD.decision OR NEW.decision_reason IS NOT OLD.decision_reason OR NEW.decided_by_id IS NOT OLD.decided_by_id OR NEW.decided_at IS NOT OLD.decided_at) AND (OLD.decision <> '' OR OLD.outcome <> 'held' OR OLD.superseded_at IS NOT NULL OR NEW.superseded_at IS NOT NULL)) OR ((NEW.superseded_at IS NOT OLD.superseded_at OR NEW.superseded_by_id IS NOT OLD.superseded_by_id OR NEW.superseded_reason IS NOT OLD.superseded_reason) AND (OLD.superseded_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM records_vitalsreading r WHERE r.id = OLD.bp_reading_id AND r.entered_in_error_at IS NOT NULL)))) BEGIN SELECT RAISE(ABORT, 'R3: a screening''s outcome and answers never change; only a physician''s decision on a held screening, and the superseded mark once its blood pressure is entered in error, are set, once.'); END;",
                "CREATE TRIGGER records_screening_never_deleted BEFORE DELETE ON records_screening BEGIN SELECT RAISE(ABORT, 'R2: nothing clinical is deleted: a screening is kept.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_screening_inserted_undecided;",
                "DROP TRIGGER IF EXISTS records_screening_bp_of_its_session;",
                "DROP TRIGGER IF EXISTS records_screening_cleared_below_threshold;",
                "DROP TRIGGER IF EXISTS records_screening_kept;",
                "DROP TRIGGER IF EXISTS records_screening_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_screening_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: nothing clinical is deleted: a screening is kept.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.outcome NOT IN ('cleared', 'held') OR NEW.decision <> '' OR NEW.decision_reason <> '' OR NEW.decided_by_id IS NOT NULL OR NEW.decided_at IS NOT NULL OR NEW.superseded_at IS NOT NULL OR NEW.superseded_by_id IS NOT NULL OR NEW.superseded_reason <> '' THEN
            RAISE EXCEPTION 'R3: a screening is recorded cleared or held, undecided and current; a physician decides on a held screening afterwards.' USING ERRCODE = 'restrict_violation';
        END IF;
        IF (SELECT session_id FROM records_vitalsreading WHERE id = NEW.bp_reading_id) IS DISTINCT FROM NEW.session_id THEN
            RAISE EXCEPTION 'R3: a screening''s blood pressure reading belongs to the screening''s session.' USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.outcome = 'cleared' AND NOT EXISTS (SELECT 1 FROM records_vitalsreading r WHERE r.id = NEW.bp_reading_id AND r.entered_in_error_at IS NULL AND r.systolic < NEW.bp_hold_systolic AND r.diastolic < NEW.bp_hold_diastolic) THEN
            RAISE EXCEPTION 'R3: a cleared screening needs a valid blood pressure reading below the thresholds it records.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF (((to_jsonb(NEW) - 'decision' - 'decision_reason' - 'decided_by_id' - 'decided_at' - 'superseded_at' - 'superseded_by_id' - 'superseded_reason') IS DISTINCT FROM (to_jsonb(OLD) - 'decision' - 'decision_reason' - 'decided_by_id' - 'decided_at' - 'superseded_at' - 'superseded_by_id' - 'superseded_reason')) OR ((NEW.decision IS DISTINCT FROM OLD.decision OR NEW.decision_reason IS DISTINCT FROM OLD.decision_reason OR NEW.decided_by_id IS DISTINCT FROM OLD.decided_by_id OR NEW.decided_at IS DISTINCT FROM OLD.decided_at) AND (OLD.decision <> '' OR OLD.outcome <> 'held' OR OLD.superseded_at IS NOT NULL OR NEW.superseded_at IS NOT NULL)) OR ((NEW.superseded_at IS DISTINCT FROM OLD.superseded_at OR NEW.superseded_by_id IS DISTINCT FROM OLD.superseded_by_id OR NEW.superseded_reason IS DISTINCT FROM OLD.superseded_reason) AND (OLD.superseded_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM records_vitalsreading r WHERE r.id = OLD.bp_reading_id AND r.entered_in_error_at IS NOT NULL)))) THEN
        RAISE EXCEPTION 'R3: a screening''s outcome and answers never change; only a physician''s decision on a held screening, and the superseded mark once its blood pressure is entered in error, are set, once.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_screening_kept BEFORE INSERT OR UPDATE OR DELETE ON records_screening
    FOR EACH ROW EXECUTE FUNCTION records_screening_keep();
CREATE TRIGGER records_screening_no_truncate BEFORE TRUNCATE ON records_screening
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_screening_kept ON records_screening;
DROP TRIGGER IF EXISTS records_screening_no_truncate ON records_screening;
DROP FUNCTION IF EXISTS records_screening_keep();
""",
            ],
        ),
    ),
    (
        "records_order",
        "R2: insert-only; only the co-signature is set, once. Never deleted.",
        (
            [
                "CREATE TRIGGER records_order_kept BEFORE UPDATE ON records_order WHEN (NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.ordering_physician_id IS NOT OLD.ordering_physician_id OR NEW.outside_prescriber IS NOT OLD.outside_prescriber OR NEW.received_as IS NOT OLD.received_as OR NEW.read_back_confirmed IS NOT OLD.read_back_confirmed OR NEW.medication IS NOT OLD.medication OR NEW.dose_value IS NOT OLD.dose_value OR NEW.dose_unit IS NOT OLD.dose_unit OR NEW.route IS NOT OLD.route OR NEW.rate_text IS NOT OLD.rate_text OR NEW.order_text IS NOT OLD.order_text OR NEW.received_at IS NOT OLD.received_at OR NEW.documented_by_id IS NOT OLD.documented_by_id OR NEW.documented_at IS NOT OLD.documented_at OR NEW.cosign_due_at IS NOT OLD.cosign_due_at OR NEW.submission_key IS NOT OLD.submission_key) OR ((OLD.cosigned_at IS NOT NULL OR OLD.cosigned_by_id IS NOT NULL) AND (NEW.cosigned_by_id IS NOT OLD.cosigned_by_id OR NEW.cosigned_at IS NOT OLD.cosigned_at)) BEGIN SELECT RAISE(ABORT, 'R2: an order is kept as documented; only the ordering physician''s co-signature is set, once.'); END;",
                "CREATE TRIGGER records_order_never_deleted BEFORE DELETE ON records_order BEGIN SELECT RAISE(ABORT, 'R2: nothing clinical is deleted: an order is kept.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_order_kept;",
                "DROP TRIGGER IF EXISTS records_order_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_order_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: nothing clinical is deleted: an order is kept.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF ((to_jsonb(NEW) - 'cosigned_by_id' - 'cosigned_at') IS DISTINCT FROM (to_jsonb(OLD) - 'cosigned_by_id' - 'cosigned_at')) OR ((OLD.cosigned_at IS NOT NULL OR OLD.cosigned_by_id IS NOT NULL) AND (NEW.cosigned_by_id IS DISTINCT FROM OLD.cosigned_by_id OR NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at)) THEN
        RAISE EXCEPTION 'R2: an order is kept as documented; only the ordering physician''s co-signature is set, once.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_order_kept BEFORE UPDATE OR DELETE ON records_order
    FOR EACH ROW EXECUTE FUNCTION records_order_keep();
CREATE TRIGGER records_order_no_truncate BEFORE TRUNCATE ON records_order
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_order_kept ON records_order;
DROP TRIGGER IF EXISTS records_order_no_truncate ON records_order;
DROP FUNCTION IF EXISTS records_order_keep();
""",
            ],
        ),
    ),
    (
        "records_administration",
        "R3, R4: inserted running, in its order's session, only when the current screening allows it; then only running <-> paused, stopped once with time, author and amount. Never deleted.",
        (
            [
                "CREATE TRIGGER records_administration_same_session BEFORE INSERT ON records_administration WHEN (SELECT session_id FROM records_order WHERE id = NEW.order_id) IS NOT NEW.session_id BEGIN SELECT RAISE(ABORT, 'R3: an administration belongs to its order''s session.'); END;",
                "CREATE TRIGGER records_administration_inserted_running BEFORE INSERT ON records_administration WHEN NEW.state <> 'running' OR NEW.stopped_at IS NOT NULL OR NEW.stopped_by_id IS NOT NULL OR NEW.amount_given_value <> '' OR NEW.amount_given_unit <> '' BEGIN SELECT RAISE(ABORT, 'R2: an administration is recorded running; its stop, time, author and amount come later, once.'); END;",
                "CREATE TRIGGER records_administration_screening_allows BEFORE INSERT ON records_administration WHEN (SELECT status FROM records_session WHERE id = NEW.session_id) NOT IN ('cleared', 'in_progress', 'recovery') OR NOT EXISTS (SELECT 1 FROM records_screening s JOIN records_vitalsreading r ON r.id = s.bp_reading_id WHERE s.session_id = NEW.session_id AND s.superseded_at IS NULL AND (s.outcome = 'cleared' OR s.decision = 'proceed') AND r.entered_in_error_at IS NULL) BEGIN SELECT RAISE(ABORT, 'R3: no administration without a current screening that is cleared or that a physician decided to proceed with, its blood pressure not entered in error, in a session that is cleared, in progress or in recovery.'); END;",
                "CREATE TRIGGER records_administration_kept BEFORE UPDATE ON records_administration WHEN ((NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.order_id IS NOT OLD.order_id OR NEW.site IS NOT OLD.site OR NEW.lot_number IS NOT OLD.lot_number OR NEW.started_at IS NOT OLD.started_at OR NEW.started_by_id IS NOT OLD.started_by_id) OR NEW.state NOT IN ('running', 'paused', 'stopped') OR (OLD.state = 'stopped' AND (NEW.state IS NOT OLD.state OR NEW.stopped_at IS NOT OLD.stopped_at OR NEW.stopped_by_id IS NOT OLD.stopped_by_id OR NEW.amount_given_value IS NOT OLD.amount_given_value OR NEW.amount_given_unit IS NOT OLD.amount_given_unit)) OR (NEW.state <> 'stopped' AND (NEW.stopped_at IS NOT OLD.stopped_at OR NEW.stopped_by_id IS NOT OLD.stopped_by_id OR NEW.amount_given_value IS NOT OLD.amount_given_value OR NEW.amount_given_unit IS NOT OLD.amount_given_unit))) BEGIN SELECT RAISE(ABORT, 'R2: an administration is kept as recorded; only its state moves (running and paused, then stopped once, with the stop''s time, author and amount).'); END;",
                "CREATE TRIGGER records_administration_never_deleted BEFORE DELETE ON records_administration BEGIN SELECT RAISE(ABORT, 'R2: nothing clinical is deleted: an administration is kept.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_administration_same_session;",
                "DROP TRIGGER IF EXISTS records_administration_inserted_running;",
                "DROP TRIGGER IF EXISTS records_administration_screening_allows;",
                "DROP TRIGGER IF EXISTS records_administration_kept;",
                "DROP TRIGGER IF EXISTS records_administration_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_administration_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: nothing clinical is deleted: an administration is kept.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF (SELECT session_id FROM records_order WHERE id = NEW.order_id) IS DISTINCT FROM NEW.session_id THEN
            RAISE EXCEPTION 'R3: an administration belongs to its order''s session.' USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.state <> 'running' OR NEW.stopped_at IS NOT NULL OR NEW.stopped_by_id IS NOT NULL OR NEW.amount_given_value <> '' OR NEW.amount_given_unit <> '' THEN
            RAISE EXCEPTION 'R2: an administration is recorded running; its stop, time, author and amount come later, once.' USING ERRCODE = 'restrict_violation';
        END IF;
        IF (SELECT status FROM records_session WHERE id = NEW.session_id) NOT IN ('cleared', 'in_progress', 'recovery') OR NOT EXISTS (SELECT 1 FROM records_screening s JOIN records_vitalsreading r ON r.id = s.bp_reading_id WHERE s.session_id = NEW.session_id AND s.superseded_at IS NULL AND (s.outcome = 'cleared' OR s.decision = 'proceed') AND r.entered_in_error_at IS NULL) THEN
            RAISE EXCEPTION 'R3: no administration without a current screening that is cleared or that a physician decided to proceed with, its blood pressure not entered in error, in a session that is cleared, in progress or in recovery.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF (((to_jsonb(NEW) - 'state' - 'stopped_at' - 'stopped_by_id' - 'amount_given_value' - 'amount_given_unit') IS DISTINCT FROM (to_jsonb(OLD) - 'state' - 'stopped_at' - 'stopped_by_id' - 'amount_given_value' - 'amount_given_unit')) OR NEW.state NOT IN ('running', 'paused', 'stopped') OR (OLD.state = 'stopped' AND (NEW.state IS DISTINCT FROM OLD.state OR NEW.stopped_at IS DISTINCT FROM OLD.stopped_at OR NEW.stopped_by_id IS DISTINCT FROM OLD.stopped_by_id OR NEW.amount_given_value IS DISTINCT FROM OLD.amount_given_value OR NEW.amount_given_unit IS DISTINCT FROM OLD.amount_given_unit)) OR (NEW.state <> 'stopped' AND (NEW.stopped_at IS DISTINCT FROM OLD.stopped_at OR NEW.stopped_by_id IS DISTINCT FROM OLD.stopped_by_id OR NEW.amount_given_value IS DISTINCT FROM OLD.amount_given_value OR NEW.amount_given_unit IS DISTINCT FROM OLD.amount_given_unit))) THEN
        RAISE EXCEPTION 'R2: an administration is kept as recorded; only its state moves (running and paused, then stopped once, with the stop''s time, author and amount).' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_administration_kept BEFORE INSERT OR UPDATE OR DELETE ON records_administration
    FOR EACH ROW EXECUTE FUNCTION records_administration_keep();
CREATE TRIGGER records_administration_no_truncate BEFORE TRUNCATE ON records_administration
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_administration_kept ON records_administration;
DROP TRIGGER IF EXISTS records_administration_no_truncate ON records_administration;
DROP FUNCTION IF EXISTS records_administration_keep();
""",
            ],
        ),
    ),
    (
        "records_administrationevent",
        "R2: insert-only, in its administration's session.",
        (
            [
                "CREATE TRIGGER records_administrationevent_same_session BEFORE INSERT ON records_administrationevent WHEN (SELECT session_id FROM records_administration WHERE id = NEW.administration_id) IS NOT NEW.session_id BEGIN SELECT RAISE(ABORT, 'R2: an administration event belongs to its administration''s session.'); END;",
                "CREATE TRIGGER records_administrationevent_kept BEFORE UPDATE ON records_administrationevent BEGIN SELECT RAISE(ABORT, 'R2: administration events are insert-only: never changed or deleted.'); END;",
                "CREATE TRIGGER records_administrationevent_never_deleted BEFORE DELETE ON records_administrationevent BEGIN SELECT RAISE(ABORT, 'R2: administration events are insert-only: never changed or deleted.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_administrationevent_same_session;",
                "DROP TRIGGER IF EXISTS records_administrationevent_kept;",
                "DROP TRIGGER IF EXISTS records_administrationevent_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_administrationevent_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: administration events are insert-only: never changed or deleted.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF (SELECT session_id FROM records_administration WHERE id = NEW.administration_id) IS DISTINCT FROM NEW.session_id THEN
            RAISE EXCEPTION 'R2: an administration event belongs to its administration''s session.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TRUE THEN
        RAISE EXCEPTION 'R2: administration events are insert-only: never changed or deleted.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_administrationevent_kept BEFORE INSERT OR UPDATE OR DELETE ON records_administrationevent
    FOR EACH ROW EXECUTE FUNCTION records_administrationevent_keep();
CREATE TRIGGER records_administrationevent_no_truncate BEFORE TRUNCATE ON records_administrationevent
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_administrationevent_kept ON records_administrationevent;
DROP TRIGGER IF EXISTS records_administrationevent_no_truncate ON records_administrationevent;
DROP FUNCTION IF EXISTS records_administrationevent_keep();
""",
            ],
        ),
    ),
    (
        "records_sideeffect",
        "R2: insert-only; only the resolution time is set, once. Never deleted.",
        (
            [
                "CREATE TRIGGER records_sideeffect_kept BEFORE UPDATE ON records_sideeffect WHEN (NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.kind IS NOT OLD.kind OR NEW.other_text IS NOT OLD.other_text OR NEW.severity IS NOT OLD.severity OR NEW.onset_at IS NOT OLD.onset_at OR NEW.action_taken IS NOT OLD.action_taken OR NEW.recorded_by_id IS NOT OLD.recorded_by_id OR NEW.recorded_at IS NOT OLD.recorded_at) OR (OLD.resolved_at IS NOT NULL AND NEW.resolved_at IS NOT OLD.resolved_at) BEGIN SELECT RAISE(ABORT, 'R2: a side effect is kept as recorded; only its resolution time is set, once.'); END;",
                "CREATE TRIGGER records_sideeffect_never_deleted BEFORE DELETE ON records_sideeffect BEGIN SELECT RAISE(ABORT, 'R2: nothing clinical is deleted: a side effect is kept.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_sideeffect_kept;",
                "DROP TRIGGER IF EXISTS records_sideeffect_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_sideeffect_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: nothing clinical is deleted: a side effect is kept.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF ((to_jsonb(NEW) - 'resolved_at') IS DISTINCT FROM (to_jsonb(OLD) - 'resolved_at')) OR (OLD.resolved_at IS NOT NULL AND NEW.resolved_at IS DISTINCT FROM OLD.resolved_at) THEN
        RAISE EXCEPTION 'R2: a side effect is kept as recorded; only its resolution time is set, once.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_sideeffect_kept BEFORE UPDATE OR DELETE ON records_sideeffect
    FOR EACH ROW EXECUTE FUNCTION records_sideeffect_keep();
CREATE TRIGGER records_sideeffect_no_truncate BEFORE TRUNCATE ON records_sideeffect
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_sideeffect_kept ON records_sideeffect;
DROP TRIGGER IF EXISTS records_sideeffect_no_truncate ON records_sideeffect;
DROP FUNCTION IF EXISTS records_sideeffect_keep();
""",
            ],
        ),
    ),
    (
        "records_discharge",
        "R2: insert-only.",
        (
            [
                "CREATE TRIGGER records_discharge_kept BEFORE UPDATE ON records_discharge BEGIN SELECT RAISE(ABORT, 'R2: a discharge is insert-only: never changed or deleted.'); END;",
                "CREATE TRIGGER records_discharge_never_deleted BEFORE DELETE ON records_discharge BEGIN SELECT RAISE(ABORT, 'R2: a discharge is insert-only: never changed or deleted.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_discharge_kept;",
                "DROP TRIGGER IF EXISTS records_discharge_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_discharge_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: a discharge is insert-only: never changed or deleted.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TRUE THEN
        RAISE EXCEPTION 'R2: a discharge is insert-only: never changed or deleted.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_discharge_kept BEFORE UPDATE OR DELETE ON records_discharge
    FOR EACH ROW EXECUTE FUNCTION records_discharge_keep();
CREATE TRIGGER records_discharge_no_truncate BEFORE TRUNCATE ON records_discharge
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_discharge_kept ON records_discharge;
DROP TRIGGER IF EXISTS records_discharge_no_truncate ON records_discharge;
DROP FUNCTION IF EXISTS records_discharge_keep();
""",
            ],
        ),
    ),
    (
        "records_session",
        "R2, R3: status only along the workflow's steps, each with its record; arrival, exit and signatures set once with their step; nothing else changes. Never deleted.",
        (
            [
                "CREATE TRIGGER records_session_steps BEFORE UPDATE ON records_session WHEN NEW.status IS NOT OLD.status AND (OLD.status || '>' || NEW.status) NOT IN ('scheduled>arrived', 'arrived>screening', 'screening>cleared', 'screening>held', 'held>cleared', 'held>cancelled', 'scheduled>cancelled', 'arrived>cancelled', 'screening>cancelled', 'cleared>cancelled', 'cleared>screening', 'held>screening', 'scheduled>no_show', 'cleared>in_progress', 'in_progress>recovery', 'in_progress>stopped_early', 'recovery>stopped_early', 'recovery>discharged', 'stopped_early>discharged', 'discharged>signed', 'cancelled>signed', 'no_show>signed', 'signed>cosigned') BEGIN SELECT RAISE(ABORT, 'R2, R3: a session''s status moves only along the steps of records.workflow; a held session ends only by a physician''s decision not to proceed.'); END;",
                "CREATE TRIGGER records_session_step_evidence BEFORE UPDATE ON records_session WHEN NEW.status IS NOT OLD.status AND ((OLD.status = 'screening' AND NEW.status IN ('cleared', 'held') AND NOT EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL AND s.outcome = NEW.status)) OR (OLD.status = 'held' AND NEW.status = 'cleared' AND NOT EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL AND s.decision = 'proceed')) OR (OLD.status = 'held' AND NEW.status = 'cancelled' AND (NEW.exit_kind <> 'not_proceeded' OR NOT EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL AND s.decision = 'do_not_proceed'))) OR (OLD.status IN ('cleared', 'held') AND NEW.status = 'screening' AND EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL)) OR (OLD.status = 'cleared' AND NEW.status = 'in_progress' AND NOT EXISTS (SELECT 1 FROM records_administration a WHERE a.session_id = NEW.id)) OR (OLD.status = 'in_progress' AND NEW.status = 'recovery' AND EXISTS (SELECT 1 FROM records_administration a WHERE a.session_id = NEW.id AND a.state <> 'stopped')) OR (NEW.status = 'discharged' AND NOT EXISTS (SELECT 1 FROM records_discharge d WHERE d.session_id = NEW.id))) BEGIN SELECT RAISE(ABORT, 'R3: this status change needs its record first: the screening (cleared or held), the physician''s decision, the superseded screening, the first administration, every administration stopped, or the discharge.'); END;",
                "CREATE TRIGGER records_session_kept BEFORE UPDATE ON records_session WHEN (NEW.id IS NOT OLD.id OR NEW.patient_id IS NOT OLD.patient_id OR NEW.planned_route IS NOT OLD.planned_route OR NEW.scheduled_at IS NOT OLD.scheduled_at OR NEW.chair IS NOT OLD.chair OR NEW.primary_nurse_id IS NOT OLD.primary_nurse_id OR NEW.supervising_physician_id IS NOT OLD.supervising_physician_id OR NEW.created_at IS NOT OLD.created_at) OR (((NEW.exit_kind IS NOT OLD.exit_kind OR NEW.exit_reason IS NOT OLD.exit_reason) AND (OLD.exit_kind <> '' OR OLD.exit_reason <> '' OR NEW.status = OLD.status OR NEW.status NOT IN ('cancelled', 'no_show', 'stopped_early'))) OR ((NEW.arrived_at IS NOT OLD.arrived_at) AND (OLD.arrived_at IS NOT NULL OR OLD.status <> 'scheduled' OR NEW.status <> 'arrived')) OR ((NEW.signed_by_id IS NOT OLD.signed_by_id OR NEW.signed_at IS NOT OLD.signed_at OR NEW.signed_name IS NOT OLD.signed_name) AND (OLD.signed_at IS NOT NULL OR OLD.status = 'signed' OR NEW.status <> 'signed')) OR ((NEW.cosigned_by_id IS NOT OLD.cosigned_by_id OR NEW.cosigned_at IS NOT OLD.cosigned_at OR NEW.cosigned_name IS NOT OLD.cosigned_name) AND (OLD.cosigned_at IS NOT NULL OR OLD.status <> 'signed' OR NEW.status <> 'cosigned'))) BEGIN SELECT RAISE(ABORT, 'R2: a session is kept as recorded: its patient, plan and creation never change; its arrival, exit and signatures are set once, with their step.'); END;",
                "CREATE TRIGGER records_session_never_deleted BEFORE DELETE ON records_session BEGIN SELECT RAISE(ABORT, 'R2: nothing clinical is deleted: a session is kept (cancel it, or record a no-show).'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_session_steps;",
                "DROP TRIGGER IF EXISTS records_session_step_evidence;",
                "DROP TRIGGER IF EXISTS records_session_kept;",
                "DROP TRIGGER IF EXISTS records_session_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_session_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: nothing clinical is deleted: a session is kept (cancel it, or record a no-show).' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status || '>' || NEW.status) NOT IN ('scheduled>arrived', 'arrived>screening', 'screening>cleared', 'screening>held', 'held>cleared', 'held>cancelled', 'scheduled>cancelled', 'arrived>cancelled', 'screening>cancelled', 'cleared>cancelled', 'cleared>screening', 'held>screening', 'scheduled>no_show', 'cleared>in_progress', 'in_progress>recovery', 'in_progress>stopped_early', 'recovery>stopped_early', 'recovery>discharged', 'stopped_early>discharged', 'discharged>signed', 'cancelled>signed', 'no_show>signed', 'signed>cosigned') THEN
        RAISE EXCEPTION 'R2, R3: a session''s status moves only along the steps of records.workflow; a held session ends only by a physician''s decision not to proceed.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND ((OLD.status = 'screening' AND NEW.status IN ('cleared', 'held') AND NOT EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL AND s.outcome = NEW.status)) OR (OLD.status = 'held' AND NEW.status = 'cleared' AND NOT EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL AND s.decision = 'proceed')) OR (OLD.status = 'held' AND NEW.status = 'cancelled' AND (NEW.exit_kind <> 'not_proceeded' OR NOT EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL AND s.decision = 'do_not_proceed'))) OR (OLD.status IN ('cleared', 'held') AND NEW.status = 'screening' AND EXISTS (SELECT 1 FROM records_screening s WHERE s.session_id = NEW.id AND s.superseded_at IS NULL)) OR (OLD.status = 'cleared' AND NEW.status = 'in_progress' AND NOT EXISTS (SELECT 1 FROM records_administration a WHERE a.session_id = NEW.id)) OR (OLD.status = 'in_progress' AND NEW.status = 'recovery' AND EXISTS (SELECT 1 FROM records_administration a WHERE a.session_id = NEW.id AND a.state <> 'stopped')) OR (NEW.status = 'discharged' AND NOT EXISTS (SELECT 1 FROM records_discharge d WHERE d.session_id = NEW.id))) THEN
        RAISE EXCEPTION 'R3: this status change needs its record first: the screening (cleared or held), the physician''s decision, the superseded screening, the first administration, every administration stopped, or the discharge.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF ((to_jsonb(NEW) - 'status' - 'exit_kind' - 'exit_reason' - 'arrived_at' - 'signed_by_id' - 'signed_at' - 'signed_name' - 'cosigned_by_id' - 'cosigned_at' - 'cosigned_name') IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'exit_kind' - 'exit_reason' - 'arrived_at' - 'signed_by_id' - 'signed_at' - 'signed_name' - 'cosigned_by_id' - 'cosigned_at' - 'cosigned_name')) OR (((NEW.exit_kind IS DISTINCT FROM OLD.exit_kind OR NEW.exit_reason IS DISTINCT FROM OLD.exit_reason) AND (OLD.exit_kind <> '' OR OLD.exit_reason <> '' OR NEW.status = OLD.status OR NEW.status NOT IN ('cancelled', 'no_show', 'stopped_early'))) OR ((NEW.arrived_at IS DISTINCT FROM OLD.arrived_at) AND (OLD.arrived_at IS NOT NULL OR OLD.status <> 'scheduled' OR NEW.status <> 'arrived')) OR ((NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id OR NEW.signed_at IS DISTINCT FROM OLD.signed_at OR NEW.signed_name IS DISTINCT FROM OLD.signed_name) AND (OLD.signed_at IS NOT NULL OR OLD.status = 'signed' OR NEW.status <> 'signed')) OR ((NEW.cosigned_by_id IS DISTINCT FROM OLD.cosigned_by_id OR NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at OR NEW.cosigned_name IS DISTINCT FROM OLD.cosigned_name) AND (OLD.cosigned_at IS NOT NULL OR OLD.status <> 'signed' OR NEW.status <> 'cosigned'))) THEN
        RAISE EXCEPTION 'R2: a session is kept as recorded: its patient, plan and creation never change; its arrival, exit and signatures are set once, with their step.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_session_kept BEFORE UPDATE OR DELETE ON records_session
    FOR EACH ROW EXECUTE FUNCTION records_session_keep();
CREATE TRIGGER records_session_no_truncate BEFORE TRUNCATE ON records_session
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_session_kept ON records_session;
DROP TRIGGER IF EXISTS records_session_no_truncate ON records_session;
DROP FUNCTION IF EXISTS records_session_keep();
""",
            ],
        ),
    ),
    (
        "records_patient",
        "R2: never deleted (deactivated instead).",
        (
            [
                "CREATE TRIGGER records_patient_never_deleted BEFORE DELETE ON records_patient BEGIN SELECT RAISE(ABORT, 'R2: nothing clinical is deleted: a patient is deactivated, never deleted.'); END;",
            ],
            [
                "DROP TRIGGER IF EXISTS records_patient_never_deleted;",
            ],
        ),
        (
            [
                """
CREATE OR REPLACE FUNCTION records_patient_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'R2: nothing clinical is deleted: a patient is deactivated, never deleted.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_patient_never_deleted BEFORE DELETE ON records_patient
    FOR EACH ROW EXECUTE FUNCTION records_patient_keep();
CREATE TRIGGER records_patient_no_truncate BEFORE TRUNCATE ON records_patient
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
            ],
            [
                """
DROP TRIGGER IF EXISTS records_patient_never_deleted ON records_patient;
DROP TRIGGER IF EXISTS records_patient_no_truncate ON records_patient;
DROP FUNCTION IF EXISTS records_patient_keep();
""",
            ],
        ),
    ),
]
# Every clinical table's TRUNCATE trigger runs it: created first, dropped last when going back.
POSTGRESQL_TRUNCATE_GUARD = (
    """
CREATE OR REPLACE FUNCTION records_clinical_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'R2: nothing clinical is deleted: clinical tables are never emptied.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
""",
    """
DROP FUNCTION IF EXISTS records_clinical_refuse_truncate();
""",
)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0002_database_guards"),
    ]

    operations = [
        # Going back, the rebuilds reversed below drop 0002's triggers: put them back last.
        migrations.RunSQL(
            migrations.RunSQL.noop, [*SQLITE_0002_DROPS, *SQLITE_0002_TRIGGERS], hints={"vendor": "sqlite"}
        ),
        migrations.AlterModelOptions(
            name="screening",
            options={"ordering": ["screened_at", "id"]},
        ),
        migrations.AddField(
            model_name="order",
            name="submission_key",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="screening",
            name="carried_findings",
            field=models.TextField(blank=True, max_length=4000),
        ),
        migrations.AddField(
            model_name="screening",
            name="superseded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="screening",
            name="superseded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="superseded_reason",
            field=models.CharField(blank=True, max_length=600),
        ),
        migrations.AlterField(
            model_name="screening",
            name="session",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="screenings", to="records.session"
            ),
        ),
        migrations.AddConstraint(
            model_name="administration",
            constraint=models.UniqueConstraint(fields=("order",), name="administration_one_per_order"),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(fields=("submission_key",), name="order_submission_key_once"),
        ),
        migrations.AddConstraint(
            model_name="screening",
            constraint=models.UniqueConstraint(
                condition=models.Q(("superseded_at__isnull", True)),
                fields=("session",),
                name="screening_one_current_per_session",
            ),
        ),
        migrations.AddConstraint(
            model_name="screening",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("outcome", "held"),
                    models.Q(
                        ("carried_findings", ""),
                        ("hypertension_history", "no"),
                        ("hypertension_uncontrolled", "no"),
                        ("pregnancy__in", ["not_pregnant_test", "not_pregnant_na"]),
                        ("psychosis_current", "no"),
                        ("psychosis_history", "no"),
                    ),
                    _connector="OR",
                ),
                name="screening_cleared_only_when_all_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="screening",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("superseded_at__isnull", True), ("superseded_by__isnull", True), ("superseded_reason", "")
                    ),
                    models.Q(
                        ("superseded_at__isnull", False),
                        ("superseded_by__isnull", False),
                        ("superseded_reason__regex", "\\S"),
                    ),
                    _connector="OR",
                ),
                name="screening_superseded_with_who_and_why",
            ),
        ),
        # The rebuilds above dropped 0002's triggers on these tables on SQLite: put them back.
        migrations.RunSQL(
            [*SQLITE_0002_DROPS, *SQLITE_0002_TRIGGERS], migrations.RunSQL.noop, hints={"vendor": "sqlite"}
        ),
        migrations.RunSQL(*POSTGRESQL_TRUNCATE_GUARD, hints={"vendor": "postgresql"}),
        *(
            migrations.RunSQL(sql, reverse_sql, hints={"vendor": vendor})
            for _table, _rule, sqlite, postgresql in GUARDS
            for vendor, (sql, reverse_sql) in (("sqlite", sqlite), ("postgresql", postgresql))
        ),
    ]
