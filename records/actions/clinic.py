"""The clinic's settings (thresholds, ranges, intervals). None of them is a dose."""

from django.core.exceptions import ValidationError
from django.db import transaction

from records.actions.context import Actor
from records.actions.sessions import require_permission
from records.audit import audit_record, diff_fields
from records.models import AuditAction, ClinicSettings
from records.models.clinic import REFERENCE_RANGE_FIELDS

SETTING_FIELDS = tuple(f.name for f in ClinicSettings._meta.concrete_fields if f.name not in ("id", "updated_at"))


@transaction.atomic
def clinic_settings_update(*, actor: Actor, reason: str = "", **values: object) -> ClinicSettings:
    """Change clinic settings; every changed value is audited before/after. Admins only."""
    require_permission(actor, "change_clinicsettings", "Only an admin may change the clinic settings.")
    unknown = set(values) - set(SETTING_FIELDS)
    if unknown:
        raise TypeError(f"Not a clinic setting: {sorted(unknown)}")
    # The row is written only with a change, and then audited (rule R6): a form sent unchanged
    # before any setting was ever saved writes nothing.
    current = ClinicSettings.objects.select_for_update(no_key=True).filter(pk=ClinicSettings.SINGLETON_PK).first()
    if current is None:
        current = ClinicSettings(pk=ClinicSettings.SINGLETON_PK)
    before = {f: getattr(current, f) for f in SETTING_FIELDS}
    for name, value in values.items():
        setattr(current, name, value)
    errors: dict[str, str | list[str]] = {}
    for low, high in REFERENCE_RANGE_FIELDS.values():
        try:
            if getattr(current, low) >= getattr(current, high):
                errors[high] = f"The high limit must be above the low limit ({getattr(current, low)})."
        except TypeError:
            continue  # a missing value: full_clean names the field
    try:
        current.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    changes = diff_fields(before, {f: getattr(current, f) for f in SETTING_FIELDS})
    if not changes:
        return current
    current.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, record=current, changes=changes, reason=reason.strip())
    return current
