"""Practitioner: the clinic's accounts that chart, order, sign or review."""

from django.db.models import Model, Q, QuerySet

from records.fhir import codes
from records.fhir.common import Resource, prune
from records.models import (
    Addendum,
    Administration,
    AdministrationEvent,
    Discharge,
    IntakeAssessment,
    Order,
    OutcomeReport,
    Screening,
    Session,
    SideEffect,
    User,
    VitalsReading,
)
from records.permissions import Role

RESOURCE_TYPE = "Practitioner"

# Every column of the clinical tables that names an account, by model, and the path to the patient.
CLINICAL_ACCOUNT_COLUMNS: tuple[tuple[type[Model], str, tuple[str, ...]], ...] = (
    (Session, "patient_id", ("primary_nurse", "supervising_physician", "signed_by", "cosigned_by")),
    (VitalsReading, "session__patient_id", ("entered_by", "entered_in_error_by")),
    (Order, "session__patient_id", ("ordering_physician", "documented_by", "cosigned_by")),
    (Administration, "session__patient_id", ("started_by", "stopped_by")),
    (AdministrationEvent, "session__patient_id", ("recorded_by",)),
    (SideEffect, "session__patient_id", ("recorded_by",)),
    (Screening, "session__patient_id", ("screened_by", "decided_by")),
    (Discharge, "session__patient_id", ("discharged_by",)),
    (Addendum, "session__patient_id", ("author",)),
    (OutcomeReport, "patient_id", ("recorded_by",)),
    (IntakeAssessment, "patient_id", ("assessed_by", "updated_by")),
)


def referenced_account_ids(patient_id: int | None = None) -> set[int]:
    """Accounts named in the clinical records (of one patient): one small query per column."""
    ids: set[int] = set()
    for model, patient_path, columns in CLINICAL_ACCOUNT_COLUMNS:
        rows = model._default_manager.all()
        if patient_id is not None:
            rows = rows.filter(**{patient_path: patient_id})
        for column in columns:
            ids.update(rows.filter(**{f"{column}__isnull": False}).values_list(column, flat=True).distinct())
    return ids


def practitioners(patient_id: int | None = None) -> QuerySet[User]:
    """Nurses and physicians, active or not, and any other account the clinical records name.

    An account whose role changed after it charted is still exported, so that every
    reference in the records resolves. For one patient: only the accounts named in
    that patient's records.
    """
    if patient_id is not None:
        return User.objects.filter(pk__in=referenced_account_ids(patient_id)).order_by("pk")
    clinical = Q(groups__name__in=[Role.NURSE.value, Role.PHYSICIAN.value]) | Q(pk__in=referenced_account_ids())
    return User.objects.filter(clinical).distinct().order_by("pk")


def practitioner_resource(user: User) -> Resource:
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": str(user.pk),
            "identifier": [{"system": codes.USERNAME_SYSTEM, "value": user.username}],
            "active": user.is_active,
            "name": [
                {
                    "text": user.printed_name,
                    "family": user.last_name,
                    "given": [user.first_name] if user.first_name else [],
                }
            ],
            "telecom": [{"system": "email", "value": user.email}] if user.email else [],
        }
    )
