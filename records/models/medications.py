from django.conf import settings
from django.db import models
from django.db.models import Q

from records.doses import DOSE_MAX_LENGTH, DOSE_PATTERN, DoseUnit
from records.models.base import RecordModel
from records.models.sessions import Route


class ReceivedAs(models.TextChoices):
    WRITTEN = "written", "Written"
    VERBAL = "verbal", "Verbal"
    TELEPHONE = "telephone", "Telephone"


class Order(RecordModel):
    """The order as given (FHIR MedicationRequest): recorded exactly as written, never computed."""

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="orders")
    ordering_physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    outside_prescriber = models.CharField("Outside prescriber", max_length=200, blank=True)
    received_as = models.CharField(max_length=10, choices=ReceivedAs.choices)
    read_back_confirmed = models.BooleanField("Read back and confirmed", default=False)
    medication = models.CharField(max_length=120)
    dose_value = models.CharField(max_length=DOSE_MAX_LENGTH)
    dose_unit = models.CharField(max_length=12, choices=DoseUnit.choices)
    route = models.CharField(max_length=16, choices=Route.choices)
    rate_text = models.CharField("Rate, duration or frequency as written", max_length=300, blank=True)
    order_text = models.TextField("Full order text, verbatim", max_length=4000)
    received_at = models.DateTimeField()
    documented_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    documented_at = models.DateTimeField()
    cosign_due_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    # The order form's one-time key (rule R4): the same form sent twice records one order.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["ordering_physician", "cosigned_at"], name="order_cosign_worklist_idx")]
        constraints = [
            models.UniqueConstraint(fields=["submission_key"], name="order_submission_key_once"),
            models.CheckConstraint(condition=Q(dose_value__regex=DOSE_PATTERN), name="order_dose_value_as_written"),
            models.CheckConstraint(condition=~Q(dose_value="0"), name="order_dose_value_not_zero"),
            models.CheckConstraint(condition=Q(dose_unit__in=DoseUnit.values), name="order_dose_unit_listed"),
            models.CheckConstraint(condition=Q(medication__regex=r"\S"), name="order_medication_not_blank"),
            models.CheckConstraint(condition=Q(order_text__regex=r"\S"), name="order_text_not_blank"),
            models.CheckConstraint(
                condition=Q(ordering_physician__isnull=False, outside_prescriber="")
                | Q(ordering_physician__isnull=True, outside_prescriber__regex=r"\S"),
                name="order_one_prescriber",
            ),
            models.CheckConstraint(
                condition=Q(received_as="written", cosign_due_at__isnull=True)
                | Q(
                    received_as__in=["verbal", "telephone"],
                    read_back_confirmed=True,
                    ordering_physician__isnull=False,
                    cosign_due_at__isnull=False,
                ),
                name="order_verbal_read_back_and_cosign_task",
            ),
            models.CheckConstraint(
                condition=Q(cosigned_at__isnull=True, cosigned_by__isnull=True)
                | Q(cosigned_at__isnull=False, cosigned_by__isnull=False),
                name="order_cosignature_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medication} {self.dose_value} {self.dose_unit}"


class AdministrationState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


class Administration(RecordModel):
    """Giving one order (FHIR MedicationAdministration); the amount is as the nurse documents it.

    One per order (rule R4). In the database it is inserted running, only while the session's
    current screening allows it (R3); afterwards only its state moves (running <-> paused, then
    stopped once, with the stop's time, author and amount).
    """

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="administrations")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="administrations")
    state = models.CharField(max_length=8, choices=AdministrationState.choices, default=AdministrationState.RUNNING)
    site = models.CharField("Site or line", max_length=120)
    lot_number = models.CharField(max_length=60)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    amount_given_value = models.CharField(max_length=DOSE_MAX_LENGTH, blank=True)
    amount_given_unit = models.CharField(max_length=12, choices=DoseUnit.choices, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            # Rule R4: one administration per order (records.rules).
            models.UniqueConstraint(fields=["order"], name="administration_one_per_order"),
            models.CheckConstraint(condition=Q(site__regex=r"\S"), name="administration_site_recorded"),
            models.CheckConstraint(condition=Q(lot_number__regex=r"\S"), name="administration_lot_recorded"),
            models.CheckConstraint(
                condition=Q(state__in=["running", "paused"], stopped_at__isnull=True, amount_given_value="")
                | Q(
                    state="stopped",
                    stopped_at__isnull=False,
                    stopped_by__isnull=False,
                    amount_given_value__regex=DOSE_PATTERN,
                    amount_given_unit__in=DoseUnit.values,
                ),
                name="administration_stop_recorded_with_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"Administration of {self.order}"


class AdministrationEventKind(models.TextChoices):
    START = "start", "Start"
    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    STOP = "stop", "Stop"


class AdministrationEvent(RecordModel):
    """Start, pause, resume and stop of an administration, in order, each with its time and reason."""

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="administration_events")
    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=8, choices=AdministrationEventKind.choices)
    occurred_at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["start", "stop"]) | Q(reason__regex=r"\S"),
                name="administration_pause_resume_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%H:%M}"
