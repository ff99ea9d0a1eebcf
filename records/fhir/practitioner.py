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

# Every column of the clinical tables that names an account, by model.
CLINICAL_ACCOUNT_COLUMNS: tuple[tuple[type[Model], tuple[str, ...]], ...] = (
    (Session, ("primary_nurse", "supervising_physician", "signed_by", "cosigned_by")),
    (VitalsReading, ("entered_by", "entered_in_error_by")),
    (Order, ("ordering_physician", "documented_by", "cosigned_by")),
    (Administration, ("started_by", "stopped_by")),
    (AdministrationEvent, ("recorded_by",)),
    (SideEffect, ("recorded_by",)),
    (Screening, ("screened_by", "decided_by")),
    (Discharge, ("discharged_by",)),
    (Addendum, ("author",)),
    (OutcomeReport, ("recorded_by",)),
    (IntakeAssessment, ("assessed_by", "updated_by")),
)


def referenced_account_ids() -> set[int]:
    """Accounts named anywhere in the clinical records (one small query per column)."""
    ids: set[int] = set()
    for model, columns in CLINICAL_ACCOUNT_COLUMNS:
        for column in columns:
            values = (
                model._default_manager.filter(**{f"{column}__isnull": False}).values_list(column, flat=True).distinct()
            )
            ids.update(values)
    return ids


def practitioners() -> QuerySet[User]:
    """Nurses and physicians, active or not, and any other account the clinical records name.

    An account whose role changed after it charted is still exported, so that every
    reference in the records resolves.
    """
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
