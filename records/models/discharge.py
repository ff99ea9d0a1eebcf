from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel


class Discharge(RecordModel):
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


class DischargeOverride(RecordModel):
    """A physician's decision to discharge before every criterion of records.discharge_criteria is met.

    Written with a reason after re-authentication; insert-only (0007's triggers), shown on the session
    page and in the print. `unmet` keeps the criteria as they stood when the physician decided.
    """

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="discharge_overrides")
    physician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    physician_name = models.CharField(max_length=300, help_text="Printed name at the moment of the decision.")
    reason = models.TextField(max_length=2000)
    unmet = models.TextField("Criteria not met at the time", max_length=4000)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(reason__regex=r"\S"), name="discharge_override_has_reason"),
        ]
        permissions = [
            ("override_discharge", "Can discharge before the criteria are met, with a written reason"),
        ]

    def __str__(self) -> str:
        return f"Discharge override for session {self.session_id}"
