from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel

# Published score ranges of the questionnaires.
HEADACHE_DAYS_MAX = 30
MIDAS_RANGE = (0, 270)
HIT6_RANGE = (36, 78)


class OutcomeReport(RecordModel):
    """Patient-reported outcomes, at a session or between sessions, as the patient reported them."""

    patient = models.ForeignKey("records.Patient", on_delete=models.PROTECT, related_name="outcome_reports")
    # The session at which they were reported; empty when reported between sessions.
    session = models.ForeignKey(
        "records.Session", on_delete=models.PROTECT, related_name="outcome_reports", null=True, blank=True
    )
    reported_on = models.DateField(help_text="The day the patient reported these outcomes.")
    headache_days = models.PositiveSmallIntegerField(
        "Headache days in the last 30 days", help_text="0 to 30, as the patient reports them."
    )
    midas_total = models.PositiveSmallIntegerField("MIDAS total", null=True, blank=True)
    midas_completed_on = models.DateField("MIDAS completed on", null=True, blank=True)
    hit6_total = models.PositiveSmallIntegerField("HIT-6 total", null=True, blank=True)
    hit6_completed_on = models.DateField("HIT-6 completed on", null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(help_text="Server time of entry.")

    class Meta:
        ordering = ["reported_on", "recorded_at", "id"]
        indexes = [models.Index(fields=["patient", "reported_on"], name="outcome_patient_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(headache_days__gte=0, headache_days__lte=HEADACHE_DAYS_MAX),
                name="outcome_headache_days_in_30",
            ),
            models.CheckConstraint(
                condition=Q(midas_total__isnull=True, midas_completed_on__isnull=True)
                | Q(
                    midas_total__gte=MIDAS_RANGE[0],
                    midas_total__lte=MIDAS_RANGE[1],
                    midas_completed_on__isnull=False,
                ),
                name="outcome_midas_in_range_with_date",
            ),
            models.CheckConstraint(
                condition=Q(hit6_total__isnull=True, hit6_completed_on__isnull=True)
                | Q(hit6_total__gte=HIT6_RANGE[0], hit6_total__lte=HIT6_RANGE[1], hit6_completed_on__isnull=False),
                name="outcome_hit6_in_range_with_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Outcomes of patient {self.patient_id} on {self.reported_on}"
