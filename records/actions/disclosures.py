"""Prints and downloads of patient records, for the accounting of disclosures."""

from django.db import transaction

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record
from records.models import AuditAction, Patient
from records.permissions import require


@transaction.atomic
def disclosure_record(
    *, actor: Actor, patient: Patient, document: str, record_type: str, record_id: int | str, filename: str
) -> None:
    """Record that a document about a patient was printed or downloaded: who, which patient, what, when.

    Anyone who may read patients; call it before the document is handed over.
    """
    if actor.user is None:
        raise ActionRefused("Prints are made by a signed-in person.")
    require(actor.user, "view_patient")
    audit_record(
        actor=actor,
        action=AuditAction.PRINT,
        patient=patient,
        record_type=record_type,
        record_id=record_id,
        changes={"document": [None, document], "file": [None, filename]},
    )
