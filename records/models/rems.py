"""The esketamine REMS Patient Monitoring Form, kept with the session it reports.

The product prints the form and records that the clinic submitted it; it sends nothing out.
What the form shows from the chart (total monitoring minutes, blood pressures) is read from
the charted times and readings (records.rems), never stored here twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel


class YesNo(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"


class ReadyToLeave(models.TextChoices):
    """If there were no 2-hour minimum, when the patient would have been ready to leave."""

    UNDER_60 = "under_60", "Less than 60 minutes after the first dose"
    FROM_60 = "60_to_89", "60 to 89 minutes"
    FROM_90 = "90_to_119", "90 to 119 minutes"
    AT_120 = "120", "At 120 minutes"
    OVER_120 = "over_120", "More than 120 minutes"


class ConcomitantMedication(models.TextChoices):
    """The form's categories of medicines taken with the treatment."""

    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    SLEEP = "sleep_aids", "Non-benzodiazepine sleep medicines"
    OPIOIDS = "opioids", "Opioids"
    PSYCHOSTIMULANTS = "psychostimulants", "Psychostimulants"
    MAOIS = "maois", "Monoamine oxidase inhibitors (MAOIs)"
    ANTIPSYCHOTICS = "antipsychotics", "Antipsychotics"
    ANTIEPILEPTICS = "antiepileptics", "Antiepileptics"
    OTHER_CNS = "other_cns_depressants", "Other CNS depressants"


class RemsMonitoringForm(RecordModel):
    """What the REMS form asks that the chart does not already hold. Insert-only; the submission is set once."""

    session = models.OneToOneField("records.Session", on_delete=models.PROTECT, related_name="rems_form")
    lot_number = models.CharField("Lot number(s) as on the devices", max_length=200)
    ready_to_leave = models.CharField(
        "If there were no 2-hour minimum, when would the patient have been ready to leave?",
        max_length=12,
        choices=ReadyToLeave.choices,
    )
    sedation = models.CharField("Sedation", max_length=3, choices=YesNo.choices)
    dissociation = models.CharField("Dissociation", max_length=3, choices=YesNo.choices)
    respiratory_depression = models.CharField("Respiratory depression", max_length=3, choices=YesNo.choices)
    # Codes of ConcomitantMedication, in the form's order; empty when none.
    concomitant_medications = models.JSONField(default=list, blank=True)
    concomitant_note = models.CharField("Concomitant medicines (names, as documented)", max_length=1000, blank=True)
    serious_adverse_events = models.CharField("Serious adverse events", max_length=3, choices=YesNo.choices)
    serious_adverse_events_text = models.TextField("Describe the serious adverse events", max_length=4000, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    submitted_on = models.DateField("Date submitted", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(lot_number__regex=r"\S"), name="rems_form_lot_not_blank"),
            models.CheckConstraint(
                condition=Q(serious_adverse_events="no") | Q(serious_adverse_events_text__regex=r"\S"),
                name="rems_form_sae_described",
            ),
            models.CheckConstraint(
                condition=Q(submitted_on__isnull=True, submitted_by__isnull=True, submitted_at__isnull=True)
                | Q(submitted_on__isnull=False, submitted_by__isnull=False, submitted_at__isnull=False),
                name="rems_form_submission_complete",
            ),
        ]
        permissions = [
            ("submit_rems_form", "Can record that a REMS monitoring form was submitted"),
        ]

    def __str__(self) -> str:
        return f"REMS monitoring form of session {self.session_id}"

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None

    def concomitant_labels(self) -> list[str]:
        labels = dict(ConcomitantMedication.choices)
        return [labels.get(code, code) for code in self.concomitant_medications]
