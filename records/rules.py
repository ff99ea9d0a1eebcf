"""The safety rules, each stated once, with where it is enforced and what proves it.

Every rule is enforced twice: first by the actions (records/actions/, with a message for
people), then, where a database can, by the database itself (constraints and the triggers
of records/migrations/0002_database_guards.py and 0003_safety_invariants.py, whose error
messages start with the rule's id), so a script, a migration or a new page that skips the
action still cannot break it. The code that enforces a rule cites its id in a comment.

`RULES` is data: tests/test_rules.py checks that every function, module, constraint,
trigger and test named here exists, so this table cannot drift from the code.

Names in `database_guards`:
    "constraint:<name>"   a CheckConstraint or UniqueConstraint, on both databases
    "sqlite:<trigger>"    a trigger on SQLite
    "postgresql:<trigger>" a trigger on PostgreSQL
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    # Dotted names of the functions (or modules) that check the rule before anything is written.
    action_checks: tuple[str, ...]
    # What the database refuses on its own (see the module docstring for the name forms).
    database_guards: tuple[str, ...]
    # pytest node ids of the tests that prove it (each can fail).
    tests: tuple[str, ...]


# Modules that other parts of this work add (clinical times, signature seals). tests/test_rules.py
# skips a reference into them only while the module does not exist yet.
PENDING_MODULES = frozenset({"records.clinical_time", "records.seals"})

_INSERT_ONLY = ("vitalsreading", "screening", "order", "administration", "sideeffect", "session")
_NEVER_DELETED = (*_INSERT_ONLY, "administrationevent", "discharge", "patient")
_PROTOCOL_KEPT = ("protocolversion", "sessionprotocol", "checkpointmiss")

RULES: tuple[Rule, ...] = (
    Rule(
        id="R1",
        text="The system never fills in, proposes or calculates a dose: a dose or amount is what the clinician "
        "typed on that page, stored and shown exactly as written.",
        action_checks=(
            "records.actions.medications.order_document",
            "records.actions.medications.administration_stop",
            "records.doses.validate_dose_value",
            # A monitoring protocol says when to look, never how much to give: no dose field is accepted.
            "records.actions.protocols.protocol_update",
        ),
        database_guards=(
            "constraint:order_dose_value_as_written",
            "constraint:order_dose_value_not_zero",
            "constraint:order_dose_unit_listed",
            "constraint:administration_stop_recorded_with_amount",
        ),
        tests=(
            "tests/views/test_sessions.py::test_dose_neutrality_after_prior_signed_session_and_weight",
            "tests/views/test_sessions.py::test_dose_shown_exactly_as_entered",
            "tests/actions/test_vitals_and_orders.py::test_dose_values_refused_with_how_to_write_them",
            "tests/actions/test_monitoring_protocols.py::test_a_checkpoint_has_no_place_for_a_dose",
        ),
    ),
    Rule(
        id="R2",
        text="Nothing clinical is changed or deleted: clinical values are insert-only from the moment they are "
        "written; only documented columns are set, once (an entered-in-error mark, a physician's decision, a "
        "superseded mark, a co-signature, an administration's pause, resume and stop, a side effect's "
        "resolution, a session's status along the workflow's steps, its arrival, exit and signatures). No "
        "clinical row, session or patient is ever deleted; a signed session is locked.",
        action_checks=(
            "records.actions.sessions.open_session_for_charting",
            "records.actions.sessions.transition",
            "records.workflow.require_step",
            "records.actions.vitals.vitals_mark_entered_in_error",
            "records.actions.side_effects.side_effect_resolve",
            "records.actions.medications.order_cosign",
        ),
        database_guards=(
            *(f"sqlite:records_{table}_kept" for table in _INSERT_ONLY),
            *(f"postgresql:records_{table}_kept" for table in _INSERT_ONLY),
            *(f"sqlite:records_{table}_never_deleted" for table in _NEVER_DELETED),
            *(f"postgresql:records_{table}_no_truncate" for table in _NEVER_DELETED),
            "sqlite:records_administrationevent_kept",
            "sqlite:records_discharge_kept",
            "postgresql:records_administrationevent_kept",
            "postgresql:records_discharge_kept",
            "postgresql:records_patient_never_deleted",
            "sqlite:records_session_steps",
            "sqlite:records_administrationevent_same_session",
            "sqlite:records_session_signed_frozen",
            "postgresql:records_session_signed_frozen",
            # 0007: a protocol version never changes (nor is deleted once taken); what a session took and
            # the reasons for missed checkpoints are insert-only.
            *(f"{db}:records_{table}_kept" for db in ("sqlite", "postgresql") for table in _PROTOCOL_KEPT),
            "sqlite:records_protocolversion_used_not_deleted",
            # The REMS monitoring form: insert-only, its submission set once (0008).
            "sqlite:records_remsmonitoringform_kept",
            "sqlite:records_remsmonitoringform_never_deleted",
            "postgresql:records_remsmonitoringform_kept",
        ),
        tests=(
            "tests/test_database_invariants.py::test_clinical_values_cannot_be_changed",
            "tests/test_database_invariants.py::test_documented_columns_are_set_once",
            "tests/test_database_invariants.py::test_nothing_clinical_is_deleted",
            "tests/test_database_invariants.py::test_truncate_is_refused_on_postgresql",
            "tests/test_database_invariants.py::test_session_status_moves_only_along_the_workflow",
            "tests/test_database_invariants.py::test_the_frozen_steps_are_the_workflow_table",
            "tests/test_signed_session_lock.py::test_update_and_delete_of_locked_rows_fail",
            "tests/actions/test_monitoring_protocols.py::test_the_database_keeps_protocol_versions_and_what_a_session_took",
            "tests/test_lifecycle_state_machine.py::test_the_rules_hold_along_random_paths",
        ),
    ),
    Rule(
        id="R3",
        text="Nothing is administered without the session's current screening cleared, or a physician's decision "
        "to proceed. The hold belongs to the patient: a nurse cannot cancel a held session, a screening is held "
        "while the patient has an undecided hold or a 'do not proceed' elsewhere the same day, and striking the "
        "screening's own blood pressure as entered in error reopens the screening.",
        action_checks=(
            "records.actions.medications.administration_start",
            "records.actions.screening.screening_record",
            "records.actions.screening.patient_holds",
            "records.actions.screening.screening_decide",
            "records.actions.vitals.vitals_mark_entered_in_error",
            "records.workflow.STEPS",
        ),
        database_guards=(
            "constraint:screening_cleared_only_when_all_negative",
            "constraint:screening_one_current_per_session",
            "constraint:screening_decision_on_held_with_reason",
            "constraint:screening_superseded_with_who_and_why",
            "sqlite:records_screening_inserted_undecided",
            "sqlite:records_screening_bp_of_its_session",
            "sqlite:records_screening_cleared_below_threshold",
            "sqlite:records_screening_kept",
            "sqlite:records_administration_screening_allows",
            "sqlite:records_administration_same_session",
            "sqlite:records_session_step_evidence",
            "postgresql:records_screening_kept",
            "postgresql:records_administration_kept",
            "postgresql:records_session_kept",
        ),
        tests=(
            "tests/actions/test_screening_holds.py::test_a_nurse_cannot_cancel_a_held_session",
            "tests/actions/test_screening_holds.py::test_a_new_session_the_same_day_is_held_by_the_undecided_hold",
            "tests/actions/test_screening_holds.py::test_do_not_proceed_holds_the_patient_for_the_rest_of_the_day",
            "tests/actions/test_screening_holds.py::test_striking_the_screening_bp_reopens_the_screening",
            "tests/actions/test_screening_holds.py::test_striking_the_screening_bp_after_the_start_stops_further_starts",
            "tests/test_database_invariants.py::test_a_held_screening_cannot_be_flipped_to_cleared",
            "tests/test_database_invariants.py::test_an_administration_needs_an_allowing_screening",
            "tests/test_database_invariants.py::test_a_cleared_screening_needs_negative_answers_and_a_low_bp",
            "tests/test_database_invariants.py::test_child_rows_belong_to_their_parents_session",
            "tests/actions/test_sessions.py::test_held_screening_blocks_administration_in_the_action",
            "tests/test_lifecycle_state_machine.py::test_the_rules_hold_along_random_paths",
        ),
    ),
    Rule(
        id="R4",
        text="One administration per order: a double click or two requests at once start it once. One order per "
        "order form: the same form sent twice records one order.",
        action_checks=(
            "records.actions.medications.administration_start",
            "records.actions.medications.order_document",
        ),
        database_guards=(
            "constraint:administration_one_per_order",
            "constraint:order_submission_key_once",
        ),
        tests=(
            "tests/actions/test_one_administration_per_order.py::test_a_second_start_of_the_same_order_is_refused",
            "tests/actions/test_one_administration_per_order.py::test_two_starts_at_once_give_one_administration",
            "tests/actions/test_one_administration_per_order.py::test_an_order_form_sent_twice_records_one_order",
            "tests/test_database_invariants.py::test_one_administration_per_order_in_the_database",
            "tests/test_lifecycle_state_machine.py::test_the_rules_hold_along_random_paths",
        ),
    ),
    Rule(
        id="R5",
        text="Clinical times lie inside the visit: from shortly before arrival to now, and to discharge once "
        "discharged; an order before its administration; a resolution after its onset.",
        action_checks=(
            "records.actions.sessions.check_past",
            "records.clinical_time",
        ),
        database_guards=("constraint:side_effect_resolved_after_onset",),
        tests=("tests/actions/test_sessions.py::test_times_in_the_future_refused",),
    ),
    Rule(
        id="R6",
        text="Every write and every read of patient data is audited, in the same transaction as the write; a "
        "refusal of the hard stop is audited too, and the audit log is append-only and hash-chained.",
        action_checks=(
            "records.audit.audit_record",
            "records.actions.sessions.session_view",
            "records.actions.medications.administration_start",
            "records.seals",
        ),
        database_guards=(
            "sqlite:records_auditevent_no_update",
            "sqlite:records_auditevent_no_delete",
            "postgresql:records_auditevent_no_change",
            "postgresql:records_auditevent_no_truncate",
        ),
        tests=(
            "tests/test_audit_log_integrity.py::test_raw_sql_update_and_delete_are_refused",
            "tests/test_audit_log_integrity.py::test_change_is_rolled_back_when_its_audit_write_fails",
            "tests/actions/test_screening_holds.py::test_a_refused_start_is_audited_after_the_rollback",
            "tests/test_lifecycle_state_machine.py::test_the_rules_hold_along_random_paths",
            "tests/views/test_post_forms_fuzzed.py::test_junk_posted_to_every_form",
            "tests/actions/test_clinic_settings.py::test_no_change_before_any_saved_setting_writes_no_row",
        ),
    ),
    Rule(
        id="R7",
        text="A patient is discharged only when the criteria are met: the monitoring protocol's minimum "
        "observation and before-discharge checkpoint, a post-session reading, the last MOAA/S 5, dissociation "
        "resolved, no administration running or paused, the escort confirmed; the refusal names each one unmet. "
        "A physician may override the protocol, sedation and dissociation criteria with a written reason after "
        "re-authenticating; the override is insert-only, audited, shown on the page and printed. No override lets "
        "a patient leave with an administration running, without a post-session reading or without an escort.",
        action_checks=(
            "records.discharge_criteria",
            "records.discharge_criteria.unmet_criteria",
            "records.actions.side_effects.discharge_record",
            "records.actions.side_effects.discharge_override",
        ),
        database_guards=(
            "constraint:discharge_all_criteria_met",
            "constraint:discharge_override_has_reason",
            "sqlite:records_dischargeoverride_kept",
            "sqlite:records_dischargeoverride_never_deleted",
            "sqlite:records_dischargeoverride_locked_insert",
            "postgresql:records_dischargeoverride_kept",
            "postgresql:records_dischargeoverride_locked",
        ),
        tests=(
            "tests/actions/test_discharge_waits.py::test_the_refusal_names_each_unmet_criterion",
            "tests/actions/test_discharge_waits.py::test_sedation_alone_the_last_moaas_counts_not_the_best",
            "tests/actions/test_discharge_waits.py::test_dissociation_alone_cadss6_total_not_zero",
            "tests/actions/test_discharge_waits.py::test_administration_alone_still_running",
            "tests/actions/test_discharge_waits.py::test_protocol_findings_alone_come_from_the_monitoring_module",
            "tests/actions/test_discharge_waits.py::test_physician_override_with_reason_lets_the_nurse_discharge",
            "tests/actions/test_discharge_waits.py::test_an_override_never_waives_a_running_administration_or_the_escort",
            "tests/actions/test_discharge_waits.py::test_an_override_is_insert_only",
            "tests/views/test_discharge_override_view.py::test_the_override_asks_the_physician_to_confirm_it_is_them",
        ),
    ),
)


def rule(rule_id: str) -> Rule:
    """The rule with this id (R1 ... R7)."""
    return next(r for r in RULES if r.id == rule_id)
