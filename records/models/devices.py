"""Bedside monitors and the readings they send, before a nurse accepts them.

A device reading is an offer, not a chart entry: it reaches the vitals flowsheet
only when a nurse accepts it (records.actions.devices.device_reading_accept),
which creates the VitalsReading through the same action as a typed reading.
"""

from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from records.models.base import RecordModel


class Monitor(RecordModel):
    """A registered bedside monitor: its identity as its messages carry it, and the chair it stands at."""

    device_id = models.CharField(
        "Device identity",
        max_length=199,
        unique=True,
        help_text="As the monitor's messages carry it: the equipment identifier (OBX-18) "
        "or the sending application (MSH-3).",
    )
    chair = models.CharField("Chair or room", max_length=40)
    active = models.BooleanField(default=True)
    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Kept as text too: a set-up command registers without an account.
    registered_by_name = models.CharField(max_length=150)

    class Meta:
        ordering = ["chair", "device_id"]
        constraints = [
            models.CheckConstraint(condition=Q(device_id__regex=r"^\S+$"), name="monitor_device_id_no_spaces"),
            models.CheckConstraint(condition=Q(chair__regex=r"\S"), name="monitor_chair_not_blank"),
        ]

    def __str__(self) -> str:
        return f"Monitor {self.device_id} ({self.chair})"


class DeviceReadingState(models.TextChoices):
    PENDING = "pending", "Awaiting acceptance"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    DISMISSED = "dismissed", "Dismissed"


class RejectReason(models.TextChoices):
    ARTEFACT = "artefact", "Artefact"
    PATIENT_MOVING = "patient_moving", "Patient moving"
    CUFF_OFF = "cuff_off", "Cuff off"
    OTHER = "other", "Other"


# The values a device reading can carry, in flowsheet order. Mean BP and pulse rate
# have no column of their own in the flowsheet: see DeviceReading.charted_values.
DEVICE_VITALS = (
    "systolic",
    "diastolic",
    "mean_bp",
    "heart_rate",
    "pulse_rate",
    "spo2",
    "respiratory_rate",
    "temperature",
)


class DeviceReading(RecordModel):
    """One set of values a monitor measured at one time, awaiting a nurse's decision.

    Matched to the session in the monitor's chair when it arrived, or unmatched
    (session empty) for a nurse to assign or dismiss. Never charted by itself.
    """

    monitor = models.ForeignKey(Monitor, on_delete=models.PROTECT, related_name="readings")
    # The identity as this message carried it (the monitor may be re-registered later).
    device_id = models.CharField(max_length=199)
    chair = models.CharField(max_length=40, help_text="The monitor's chair when the reading arrived.")
    session = models.ForeignKey(
        "records.Session", on_delete=models.PROTECT, related_name="device_readings", null=True, blank=True
    )
    unmatched_reason = models.CharField(max_length=300, blank=True)
    measured_at = models.DateTimeField(help_text="From the message: OBX-14, or OBR-7.")
    received_at = models.DateTimeField()
    message_control_id = models.CharField(max_length=199, help_text="MSH-10 of the message that carried it.")
    systolic = models.PositiveSmallIntegerField("Systolic (mmHg)", null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField("Diastolic (mmHg)", null=True, blank=True)
    mean_bp = models.PositiveSmallIntegerField("Mean BP (mmHg)", null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField("Heart rate (/min)", null=True, blank=True)
    pulse_rate = models.PositiveSmallIntegerField("Pulse rate (/min)", null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField("Resp. rate (/min)", null=True, blank=True)
    temperature = models.DecimalField("Temp (°C)", max_digits=3, decimal_places=1, null=True, blank=True)
    values_key = models.CharField(max_length=200, editable=False, help_text="The values as one text, for duplicates.")
    state = models.CharField(max_length=10, choices=DeviceReadingState.choices, default=DeviceReadingState.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reject_reason = models.CharField(max_length=16, choices=RejectReason.choices, blank=True)
    decision_note = models.CharField(
        max_length=500, blank=True, help_text="Why it was rejected or dismissed, in the nurse's words."
    )
    vitals_reading = models.OneToOneField(
        "records.VitalsReading", on_delete=models.PROTECT, related_name="device_reading", null=True, blank=True
    )

    class Meta:
        ordering = ["measured_at", "id"]
        indexes = [
            models.Index(fields=["session", "state"], name="devicereading_session_state"),
            models.Index(fields=["state", "session"], name="devicereading_state_session"),
        ]
        constraints = [
            # Duplicates (the same device, time and values, e.g. a monitor re-sending an
            # unacknowledged message) are ignored. The values are compared as one text key,
            # so that a value the monitor did not send counts as the same in both (a unique
            # index over the nullable columns would treat two NULLs as different).
            models.UniqueConstraint(
                fields=["device_id", "measured_at", "values_key"], name="devicereading_no_duplicates"
            ),
            models.CheckConstraint(
                condition=Q(systolic__isnull=True, diastolic__isnull=True)
                | Q(systolic__isnull=False, diastolic__isnull=False, diastolic__lt=F("systolic")),
                name="devicereading_bp_pair_diastolic_below_systolic",
            ),
            models.CheckConstraint(
                condition=~Q(
                    systolic__isnull=True,
                    mean_bp__isnull=True,
                    heart_rate__isnull=True,
                    pulse_rate__isnull=True,
                    spo2__isnull=True,
                    respiratory_rate__isnull=True,
                    temperature__isnull=True,
                ),
                name="devicereading_has_a_value",
            ),
            models.CheckConstraint(
                condition=Q(session__isnull=False) | Q(unmatched_reason__regex=r"\S"),
                name="devicereading_unmatched_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state="pending", decided_at__isnull=True, decided_by__isnull=True)
                | Q(~Q(state="pending"), decided_at__isnull=False, decided_by__isnull=False),
                name="devicereading_decision_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(state="accepted", vitals_reading__isnull=False, session__isnull=False)
                | Q(~Q(state="accepted"), vitals_reading__isnull=True),
                name="devicereading_accepted_is_charted",
            ),
            models.CheckConstraint(
                condition=Q(state="rejected", reject_reason__in=["artefact", "patient_moving", "cuff_off"])
                | Q(state="rejected", reject_reason="other", decision_note__regex=r"\S")
                | Q(state="dismissed", reject_reason="", decision_note__regex=r"\S")
                | Q(state__in=["pending", "accepted"], reject_reason="", decision_note=""),
                name="devicereading_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Device reading {self.device_id} {self.measured_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == DeviceReadingState.PENDING

    @property
    def values(self) -> dict[str, object]:
        """The values the monitor sent, by field, leaving out what it did not send."""
        return {f: getattr(self, f) for f in DEVICE_VITALS if getattr(self, f) is not None}

    @staticmethod
    def key_for(values: "Mapping[str, object]") -> str:
        """The duplicate key of a set of values: every device vital, in order, empty where not sent."""
        return ";".join(f"{f}={'' if values.get(f) is None else values[f]}" for f in DEVICE_VITALS)

    def charted_values(self) -> dict[str, object]:
        """The flowsheet row this reading becomes when accepted.

        The flowsheet has one heart-rate column: the ECG heart rate when the monitor
        sent one, otherwise the pulse rate from the oximeter (the same quantity, per
        minute, measured another way). Mean BP has no column; it stays on this row.
        """
        values = {f: getattr(self, f) for f in ("systolic", "diastolic", "spo2", "respiratory_rate", "temperature")}
        values["heart_rate"] = self.heart_rate if self.heart_rate is not None else self.pulse_rate
        return {k: v for k, v in values.items() if v is not None}
