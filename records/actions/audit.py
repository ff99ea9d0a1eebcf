"""Audit actions: verifying the chain, and recording that audit reports were read or exported.

Audit events themselves are written by records.audit.writer.audit_record, the one writer.
"""

import logging
from collections.abc import Callable, Sequence
from typing import cast

from django.db import transaction
from django.utils import timezone

from records.actions.context import Actor
from records.audit.chain import verify_chain
from records.audit.writer import audit_record
from records.models import AuditAction, AuditEvent, AuditVerification, Patient, VerificationResult
from records.permissions import require
from records.seals import verify_seals

logger = logging.getLogger(__name__)


def audit_chain_verify(
    *,
    actor: Actor,
    progress: Callable[[int], None] | None = None,
    expected: Sequence[tuple[int, str]] = (),
) -> AuditVerification:
    """Walk the whole chain, check every signed session's seal, record the run and audit it.
    Admins, or the verify_audit command.

    `expected`: (seq, hash) heads kept outside the database; the chain must hold them.
    Not one transaction: the walk is a single streamed query (one consistent
    snapshot) and must not hold SQLite's write lock while it reads a large table;
    the seals are checked a batch of sessions at a time (records.seals.verify_seals).
    Only the record of the run and its audit event are written, together, at the end.
    """
    if not actor.is_system:
        require(actor.user, "verify_audit_chain", "Only an admin may verify the audit log.")
    # head_seq is not null here: the filter says so, the type cannot.
    last_good = cast(
        tuple[int, str] | None,
        AuditVerification.objects.filter(result=VerificationResult.INTACT, head_seq__isnull=False)
        .order_by("-head_seq")
        .values_list("head_seq", "head_hash")
        .first(),
    )
    started_at = timezone.now()
    report = verify_chain(anchor=last_good, expected=expected, progress=progress)
    chain_intact = report.intact
    seals = report.seals = verify_seals()
    problem = " ".join(p for p in (report.problem, seals.problem()) if p)
    with transaction.atomic():
        run = AuditVerification.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            started_by=actor.user if getattr(actor.user, "pk", None) else None,
            started_by_name=actor.username[:150],
            result=VerificationResult.TAMPERED if problem else VerificationResult.INTACT,
            events_checked=report.checked,
            rows_per_second=round(report.rows_per_second),
            head_seq=report.head_seq if chain_intact else None,
            head_hash=report.head_hash if chain_intact else "",
            first_bad_seq=report.first_bad_seq,
            first_bad_event_id=report.first_bad_id,
            problem=problem,
        )
        changes: dict[str, list[object]] = {
            "result": [None, run.result],
            "events_checked": [None, report.checked],
            "signed_sessions_checked": [None, seals.sessions_checked],
        }
        if seals.broken:
            changes["sessions_changed"] = [None, ", ".join(str(s.session_id) for s in seals.broken)]
        if expected:
            changes["expected_heads"] = [None, ", ".join(f"{seq}:{head}" for seq, head in expected)]
        audit_record(actor=actor, action=AuditAction.VERIFY, record=run, changes=changes, reason=problem)
    run.report = report
    return run


def audit_report_record(
    *, actor: Actor, report: str, description: str, export: bool = False, patient: Patient | None = None
) -> AuditEvent:
    """Record that an admin viewed or exported an audit report. Admins.

    `description` is the report's filters in words. An export that names a patient
    is that patient's information leaving the system: it carries the patient, so it
    appears in the patient's access report and accounting of disclosures.
    """
    require(actor.user, "view_audit_log", "Only admins may read the audit log.")
    with transaction.atomic():
        return audit_record(
            actor=actor,
            action=AuditAction.EXPORT if export else AuditAction.VIEW,
            patient=patient,
            record_type="audit_report",
            record_id=report,
            reason=description,
        )
