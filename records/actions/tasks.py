"""Background tasks: starting one (a write: the queued task and its audit event, together) and reading its result.

The tasks themselves are in records.tasks and run in the worker (`manage.py task_worker`).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.http import Http404
from django.tasks import TaskResult
from django_tasks_db.models import DBTaskResult

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record
from records.models import AuditAction, Patient
from records.permissions import require
from records.selectors import Reader
from records.tasks import Starter, audit_chain_verify_task, fhir_export_task

RECORD_TYPE = "background_task"


@dataclass(frozen=True)
class TaskKind:
    label: str
    permission: str
    refusal: str


# Each task the pages may start: what it is called, and who may start it and read its result.
TASK_KINDS: dict[str, TaskKind] = {
    audit_chain_verify_task.module_path: TaskKind(
        "Audit log verification", "verify_audit_chain", "Only an admin may verify the audit log."
    ),
    fhir_export_task.module_path: TaskKind(
        "FHIR export", "export_fhir", "Only an admin may export the clinic's records."
    ),
}


def _start_record(
    *, actor: Actor, result: TaskResult[Any, Any], changes: dict[str, list[object]], patient: Patient | None = None
) -> None:
    kind = TASK_KINDS[result.task.module_path]
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=patient,
        record_type=RECORD_TYPE,
        record_id=str(result.id),
        changes={"task": [None, kind.label], **changes},
    )


@transaction.atomic
def audit_chain_verify_enqueue(*, actor: Actor, events: int) -> TaskResult[Any, Any]:
    """Queue a verification of the whole audit chain for the worker. Admins, signed in.

    For a log too large to walk within one web request (about a minute per million
    events). The task and its audit event are written together; the verification
    records its own run and audit event when it ends (audit_chain_verify).
    """
    require(actor.user, "verify_audit_chain", TASK_KINDS[audit_chain_verify_task.module_path].refusal)
    result = audit_chain_verify_task.enqueue(starter=Starter.of(actor).as_args(), events=events)
    _start_record(actor=actor, result=result, changes={"events": [None, events]})
    return result


@transaction.atomic
def fhir_export_enqueue(
    *, actor: Actor, name: str, patient_mrn: str, since: date | None, audit: bool, request_url: str
) -> TaskResult[Any, Any]:
    """Queue a FHIR bulk export for the worker. Admins, signed in.

    The patient, when one is named, must exist now (the refusal names the MRN); the
    export itself is audited as a disclosure when its files are written (fhir_export).
    """
    require(actor.user, "export_fhir", TASK_KINDS[fhir_export_task.module_path].refusal)
    patient = None
    if patient_mrn:
        patient = Patient.objects.filter(mrn=patient_mrn).first()
        if patient is None:
            raise ActionRefused(f"No patient has the MRN {patient_mrn}.")
    result = fhir_export_task.enqueue(
        starter=Starter.of(actor).as_args(),
        name=name,
        patient_mrn=patient_mrn,
        since=since.isoformat() if since else None,
        audit=audit,
        request_url=request_url,
    )
    _start_record(
        actor=actor,
        result=result,
        patient=patient,
        changes={
            "export": [None, name],
            "patient": [None, patient_mrn or "whole clinic"],
            "since": [None, since.isoformat() if since else None],
            "audit_log": [None, audit],
        },
    )
    return result


def background_task_get(*, user: Reader, task_id: str) -> tuple[DBTaskResult[Any, Any], TaskKind]:
    """A task the pages started, if the user's role may read it (404 for anything else)."""
    row = DBTaskResult.objects.filter(pk=task_id).first()
    kind = TASK_KINDS.get(row.task_path) if row is not None else None
    if row is None or kind is None:
        raise Http404("No such task.")
    require(user, kind.permission, kind.refusal)
    return row, kind


@transaction.atomic
def background_task_result_view(*, actor: Actor, task_id: str, kind: TaskKind) -> None:
    """Record that a finished task's result was shown, as a page view is. Who may read it (TASK_KINDS)."""
    require(actor.user, kind.permission, kind.refusal)
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        record_type=RECORD_TYPE,
        record_id=task_id,
        reason=f"{kind.label}: result",
    )
