from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel

BASELINE_DAYS_MAX = 31


class IntakeAssessment(RecordModel):
    """The physician's candidacy assessment of a patient, one per patient.

    A record of what the physician documented: the system neither scores it nor
    decides eligibility. Every saved version is kept in IntakeRevision.
    """

    patient = models.OneToOneField("records.Patient", on_delete=models.PROTECT, related_name="intake")
    diagnosis = models.CharField(max_length=200, help_text="As the physician writes it, e.g. chronic migraine.")
    baseline_headache_days = models.PositiveSmallIntegerField(
        "Baseline headache days per month", help_text="0 to 31, as reported at intake."
    )
    # [{"name": "...", "why_stopped": "..."}], in the order the physician listed them.
    preventive_treatments = models.JSONField("Preventive treatments tried", default=list, blank=True)
    relevant_history = models.TextField(max_length=4000, blank=True)
    notes = models.TextField(max_length=4000, blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(help_text="When the first version was recorded.")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    # Incremented on every change; an edit based on an older version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(diagnosis__regex=r"\S"), name="intake_diagnosis_recorded"),
            models.CheckConstraint(
                condition=Q(baseline_headache_days__gte=0, baseline_headache_days__lte=BASELINE_DAYS_MAX),
                name="intake_baseline_days_in_month",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake of patient {self.patient_id} (version {self.version})"


class IntakeRevision(RecordModel):
    """One saved version of an intake assessment, as it was then. Append-only."""

    intake = models.ForeignKey(IntakeAssessment, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    diagnosis = models.CharField(max_length=200)
    baseline_headache_days = models.PositiveSmallIntegerField()
    preventive_treatments = models.JSONField(default=list, blank=True)
    relevant_history = models.TextField(max_length=4000, blank=True)
    notes = models.TextField(max_length=4000, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=300, help_text="Printed name at the moment of saving.")
    recorded_at = models.DateTimeField()
    change_reason = models.TextField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "version"], name="intake_revision_once_per_version"),
            models.CheckConstraint(
                condition=Q(version=1) | Q(change_reason__regex=r"\S"), name="intake_revision_change_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Intake {self.intake_id} version {self.version}"
