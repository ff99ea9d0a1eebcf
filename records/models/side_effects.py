from django.conf import settings
from django.db import models
from django.db.models import F, Q

from records.models.base import RecordModel


class SideEffectKind(models.TextChoices):
    DIZZINESS = "dizziness", "Dizziness"
    DISSOCIATION = "dissociation", "Dissociation"
    RAISED_BP = "raised_bp", "Raised blood pressure"
    RAISED_HR = "raised_hr", "Raised heart rate"
    NAUSEA = "nausea_vomiting", "Nausea / vomiting"
    AGITATION = "agitation", "Agitation"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class SideEffect(RecordModel):
    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="side_effects")
    kind = models.CharField(max_length=16, choices=SideEffectKind.choices)
    other_text = models.CharField("Describe (other)", max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    onset_at = models.DateTimeField()
    action_taken = models.CharField(max_length=500)
    resolved_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["onset_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="other") | Q(other_text__regex=r"\S"), name="side_effect_other_described"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("onset_at")),
                name="side_effect_resolved_after_onset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_severity_display()})"

    @property
    def label(self) -> str:
        return self.other_text if self.kind == SideEffectKind.OTHER else self.get_kind_display()
