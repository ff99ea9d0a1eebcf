from django.conf import settings
from django.db import models
from django.db.models import Q


class Discharge(models.Model):
    """Discharge with the criteria checklist; every criterion must be confirmed."""

    session = models.OneToOneField("records.Session", on_delete=models.PROTECT, related_name="discharge")
    alert_and_oriented = models.BooleanField()
    vitals_near_baseline = models.BooleanField()
    steady_walking = models.BooleanField()
    escort_present_not_driving = models.BooleanField("Escort present and not driving")
    discharged_at = models.DateTimeField()
    discharged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    alert_and_oriented=True,
                    vitals_near_baseline=True,
                    steady_walking=True,
                    escort_present_not_driving=True,
                ),
                name="discharge_all_criteria_met",
            ),
        ]

    def __str__(self) -> str:
        return f"Discharge of session {self.session_id}"
