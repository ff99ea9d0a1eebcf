from django.conf import settings
from django.db import models
from django.db.models import F, Q

from records.models.base import RecordModel
from records.vital_limits import IMPOSSIBLE, SCALE_LIMITS


class Phase(models.TextChoices):
    PRE = "pre", "Pre"
    DURING = "during", "During"
    POST = "post", "Post"


class Source(models.TextChoices):
    TYPED = "typed", "Typed"
    DEVICE = "device", "Device"


class Dissociation(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


# Numeric vitals in flowsheet order (the order of the entry form and the table).
NUMERIC_VITALS = (
    "systolic",
    "diastolic",
    "heart_rate",
    "spo2",
    "respiratory_rate",
    "temperature",
    "pain",
    "sedation_rass",
    "weight_kg",
)

# Dissociation on the six-item short form of the CADSS (items 1, 2, 6, 7, 15 and 22 of the
# 23-item scale, each 0-4), in the scale's order; the total is the sum of the six.
CADSS6_ITEMS = ("cadss_1", "cadss_2", "cadss_6", "cadss_7", "cadss_15", "cadss_22")
SCALE_FIELDS = ("moaas", *CADSS6_ITEMS)


def _within_limits(field: str) -> Q:
    limit = IMPOSSIBLE.get(field) or SCALE_LIMITS[field]
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": limit.low, f"{field}__lte": limit.high})


class VitalsReading(RecordModel):
    """One row of the vitals flowsheet (FHIR Observation, vital-signs). Never edited or deleted:
    a wrong reading is marked entered in error and stays visible."""

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="readings")
    measured_at = models.DateTimeField(help_text="When it was measured, as the clinician entered it.")
    entered_at = models.DateTimeField(help_text="Server time of entry.")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    phase = models.CharField(max_length=8, choices=Phase.choices)
    systolic = models.PositiveSmallIntegerField("Systolic (mmHg)", null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField("Diastolic (mmHg)", null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField("Heart rate (/min)", null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField("Resp. rate (/min)", null=True, blank=True)
    temperature = models.DecimalField("Temp (°C)", max_digits=3, decimal_places=1, null=True, blank=True)
    pain = models.PositiveSmallIntegerField("Pain (0-10)", null=True, blank=True)
    sedation_rass = models.SmallIntegerField("Sedation (RASS)", null=True, blank=True)
    dissociation = models.CharField(max_length=10, choices=Dissociation.choices, blank=True)
    weight_kg = models.DecimalField("Weight (kg)", max_digits=4, decimal_places=1, null=True, blank=True)
    # Sedation on the MOAA/S (0 = no response to a painful stimulus ... 5 = responds readily
    # to name spoken in a normal tone), and dissociation on the CADSS-6: all six items or none.
    moaas = models.SmallIntegerField("Sedation (MOAA/S)", null=True, blank=True)
    cadss_1 = models.SmallIntegerField("Slow motion", null=True, blank=True)
    cadss_2 = models.SmallIntegerField("Unreal, dreamlike", null=True, blank=True)
    cadss_6 = models.SmallIntegerField("Disconnected from body", null=True, blank=True)
    cadss_7 = models.SmallIntegerField("Body feels changed", null=True, blank=True)
    cadss_15 = models.SmallIntegerField("Spacing out", null=True, blank=True)
    cadss_22 = models.SmallIntegerField("Gaps in memory", null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    entered_in_error_reason = models.CharField(max_length=500, blank=True)
    # Where the values came from: typed by the nurse, or sent by a monitor and accepted
    # by the nurse (records.actions.devices). A device row names the device and its acceptor.
    # Database defaults too, so that rows written by plain SQL (older tools) read as typed.
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.TYPED, db_default=Source.TYPED)
    device_id = models.CharField("Device", max_length=199, blank=True, default="", db_default="")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["measured_at", "id"]
        indexes = [models.Index(fields=["session", "measured_at"], name="vitals_session_time_idx")]
        constraints = [
            *(models.CheckConstraint(condition=_within_limits(f), name=f"vitals_{f}_possible") for f in NUMERIC_VITALS),
            *(models.CheckConstraint(condition=_within_limits(f), name=f"vitals_{f}_on_scale") for f in SCALE_FIELDS),
            models.CheckConstraint(
                condition=Q(**{f"{f}__isnull": True for f in CADSS6_ITEMS})
                | Q(**{f"{f}__isnull": False for f in CADSS6_ITEMS}),
                name="vitals_cadss6_all_items_or_none",
            ),
            models.CheckConstraint(
                condition=Q(systolic__isnull=True, diastolic__isnull=True)
                | Q(systolic__isnull=False, diastolic__isnull=False, diastolic__lt=F("systolic")),
                name="vitals_bp_pair_diastolic_below_systolic",
            ),
            models.CheckConstraint(
                condition=Q(entered_in_error_at__isnull=True, entered_in_error_by__isnull=True)
                | Q(
                    entered_in_error_at__isnull=False,
                    entered_in_error_by__isnull=False,
                    entered_in_error_reason__regex=r"\S",
                ),
                name="vitals_entered_in_error_has_who_and_reason",
            ),
            models.CheckConstraint(
                condition=Q(source="typed", device_id="", accepted_by__isnull=True)
                | Q(source="device", device_id__regex=r"\S", accepted_by__isnull=False),
                name="vitals_device_source_names_device_and_acceptor",
            ),
        ]

    def __str__(self) -> str:
        return f"Vitals {self.measured_at:%Y-%m-%d %H:%M} (session {self.session_id})"

    @property
    def cadss6_total(self) -> int | None:
        """The sum of the six items as entered; None when the scale was not recorded."""
        items = [getattr(self, f) for f in CADSS6_ITEMS]
        return None if any(v is None for v in items) else sum(items)

    @property
    def in_error(self) -> bool:
        return self.entered_in_error_at is not None

    @property
    def from_device(self) -> bool:
        return self.source == Source.DEVICE
