from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel

if TYPE_CHECKING:
    from records.models.discharge import Discharge
    from records.models.screening import Screening


class Route(models.TextChoices):
    IV_INFUSION = "iv_infusion", "IV infusion"
    IM_INJECTION = "im_injection", "IM injection"
    INTRANASAL = "intranasal", "Intranasal"
    ORAL_TROCHE = "oral_troche", "Oral troche"


class SessionStatus(models.TextChoices):
    """A session's states; which step may happen in which is records.workflow's table."""

    SCHEDULED = "scheduled", "Scheduled"
    ARRIVED = "arrived", "Arrived"
    SCREENING = "screening", "Screening"
    HELD = "held", "Held for physician"
    CLEARED = "cleared", "Cleared"
    IN_PROGRESS = "in_progress", "In progress"
    RECOVERY = "recovery", "Recovery"
    STOPPED_EARLY = "stopped_early", "Stopped early"
    DISCHARGED = "discharged", "Discharged"
    SIGNED = "signed", "Signed"
    COSIGNED = "cosigned", "Co-signed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class ExitKind(models.TextChoices):
    """How a session left the usual path; kept after signing."""

    NONE = "", "—"
    CANCELLED = "cancelled", "Cancelled before start"
    NO_SHOW = "no_show", "No-show"
    NOT_PROCEEDED = "not_proceeded", "Physician decided not to proceed"
    STOPPED_EARLY = "stopped_early", "Stopped early"


class Session(RecordModel):
    """One visit of a patient for a ketamine administration (FHIR Encounter).

    Once the nurse signs (signed_at set) the database refuses any change to the
    session's clinical rows, and to this row except the physician's co-signature.
    """

    patient = models.ForeignKey("records.Patient", on_delete=models.PROTECT, related_name="sessions")
    planned_route = models.CharField(max_length=16, choices=Route.choices)
    scheduled_at = models.DateTimeField(db_index=True)
    chair = models.CharField("Chair or room", max_length=40)
    primary_nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    supervising_physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    exit_kind = models.CharField(max_length=16, choices=ExitKind.choices, blank=True, default="")
    exit_reason = models.TextField(max_length=1000, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_name = models.CharField(max_length=300, blank=True, help_text="Printed name at the moment of signing.")
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_name = models.CharField(max_length=300, blank=True)
    # Not columns: set on each session of a history page by selectors.timeline_prefetch.
    screening_or_none: "Screening | None"
    discharge_or_none: "Discharge | None"
    lowest_moaas: int | None
    highest_cadss6: int | None

    class Meta:
        ordering = ["scheduled_at", "chair", "id"]
        indexes = [models.Index(fields=["patient", "scheduled_at"], name="session_patient_time_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(chair__regex=r"\S"), name="session_chair_not_blank"),
            models.CheckConstraint(
                condition=Q(status__in=["signed", "cosigned"], signed_at__isnull=False, signed_by__isnull=False)
                | Q(~Q(status__in=["signed", "cosigned"]), signed_at__isnull=True, signed_by__isnull=True),
                name="session_signed_status_matches_signature",
            ),
            models.CheckConstraint(
                condition=Q(status="cosigned", cosigned_at__isnull=False, cosigned_by__isnull=False)
                | Q(~Q(status="cosigned"), cosigned_at__isnull=True, cosigned_by__isnull=True),
                name="session_cosigned_status_matches_cosignature",
            ),
            models.CheckConstraint(
                condition=Q(exit_kind="") | Q(exit_reason__regex=r"\S"), name="session_exit_has_reason"
            ),
        ]
        permissions = [
            ("chart_session", "Can chart a session: arrive, screen, vitals, orders, administration, discharge, sign"),
            ("decide_screening", "Can record the physician's decision on a held screening"),
            ("cosign_session", "Can co-sign a signed session as reviewer"),
            ("write_addendum", "Can add an addendum to a signed session"),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.get_status_display()})"

    @property
    def is_locked(self) -> bool:
        return self.signed_at is not None

    @property
    def screening(self) -> "Screening | None":
        """The current screening (not superseded), or None before the screening.

        Read from the rows `prefetch_related("screenings")` loaded when the page did so
        (records.selectors), otherwise one query. Superseded screenings stay in `screenings`.
        """
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "screenings" in cache:
            return next((s for s in cache["screenings"] if s.superseded_at is None), None)
        return self.screenings.filter(superseded_at__isnull=True).first()
