"""Monitoring protocols: when to look and what to measure at the chair. Never how much to give.

A protocol is clinic configuration. Its content lives in versions that are never changed: an
edit inserts the next version, and a session keeps the version it took at its first start
(SessionProtocol). records.monitoring reads a version's checkpoints against a session's times
and readings; the database refuses to change a version (and to delete one a session took).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel


class Anchor(models.TextChoices):
    """What a checkpoint's time counts from."""

    ARRIVAL = "arrival", "Arrival (before the first start)"
    START = "start", "First administration start"
    STOP = "stop", "Administration stop (the last, once none runs)"
    DISCHARGE = "discharge", "Before discharge"


class Requirement(models.TextChoices):
    """What a checkpoint asks to be measured; records.monitoring.REQUIREMENT_FIELDS maps each to the flowsheet."""

    BP = "bp", "Blood pressure"
    HEART_RATE = "heart_rate", "Heart rate"
    SPO2 = "spo2", "SpO2"
    RESPIRATORY_RATE = "respiratory_rate", "Respiratory rate"
    PAIN = "pain", "Pain"
    SEDATION = "sedation", "Sedation (MOAA/S)"
    DISSOCIATION = "dissociation", "Dissociation (CADSS-6)"


class MonitoringProtocol(RecordModel):
    """A named protocol; its routes, checkpoints and minimum observation are in its versions."""

    name = models.CharField(max_length=120, unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.CheckConstraint(condition=Q(name__regex=r"\S"), name="protocol_name_not_blank")]

    def __str__(self) -> str:
        return self.name


class ProtocolVersion(RecordModel):
    """One version of a protocol, never changed once written.

    `checkpoints` is a list of {"name", "anchor", "offset", "window_start", "window_end", "every",
    "requires"}: minutes relative to the anchor (the due time, and the window in which a reading
    counts), `every` repeats the checkpoint while the administration runs (start anchor only),
    `requires` lists Requirement values. Validated by records.actions.protocols. No dose anywhere.
    """

    protocol = models.ForeignKey(MonitoringProtocol, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    routes = models.JSONField(default=list, help_text="Order routes (records.models.Route values) it applies to.")
    min_observation_minutes = models.PositiveSmallIntegerField(
        "Minimum observation from the first start (minutes)", default=0
    )
    checkpoints = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["protocol", "number"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "number"], name="protocol_version_number_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="protocol_version_number_positive"),
            models.CheckConstraint(
                condition=Q(min_observation_minutes__lte=720), name="protocol_version_observation_possible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol.name} v{self.number}"


class SessionProtocol(RecordModel):
    """The protocol version a session took at its first administration start; kept for good."""

    session = models.OneToOneField("records.Session", on_delete=models.PROTECT, related_name="session_protocol")
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="sessions")
    adopted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Session {self.session_id} follows {self.version_id}"


class CheckpointMiss(RecordModel):
    """Why a checkpoint was not charted in its window, as the nurse recorded it. Never changed."""

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="checkpoint_misses")
    # records.monitoring's key of the checkpoint (its place in the version, and the repeat).
    checkpoint_key = models.CharField(max_length=20)
    checkpoint_name = models.CharField(max_length=120)
    due_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "checkpoint_key"], name="checkpoint_miss_once"),
            models.CheckConstraint(condition=Q(reason__regex=r"\S"), name="checkpoint_miss_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint_name} missed (session {self.session_id})"
