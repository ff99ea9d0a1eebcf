"""The one writer of audit events."""

from datetime import date, datetime
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone

from records.actions.context import Actor
from records.models import AuditAction, AuditEvent, Patient


def _plain(value):
    """A JSON-safe, human-readable form of a field value for before/after records."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def diff_fields(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose value changed."""
    changes = {}
    for name in after:
        old, new = _plain(before.get(name)), _plain(after.get(name))
        if old != new and not (old in (None, "") and new in (None, "")):
            changes[name] = [old, new]
    return changes


def audit_record(
    *,
    actor: Actor,
    action: AuditAction | str,
    patient: Patient | None = None,
    record: models.Model | None = None,
    record_type: str = "",
    record_id: str | int = "",
    changes: dict | None = None,
    reason: str = "",
    username: str = "",
) -> AuditEvent:
    """Append one audit event. Call it inside the action's transaction."""
    if record is not None:
        record_type = record_type or record._meta.model_name
        record_id = record_id or record.pk
    with transaction.atomic():
        return AuditEvent.objects.create(
            occurred_at=timezone.now(),
            actor=actor.user if getattr(actor.user, "pk", None) else None,
            actor_username=(username or actor.username)[:150],
            actor_role=actor.role,
            action=str(action),
            patient=patient,
            record_type=record_type,
            record_id=str(record_id or ""),
            changes=changes or {},
            reason=reason,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent[:512],
        )
