from django.conf import settings
from django.db import models
from django.db.models import Q

from records.models.base import RecordModel


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Unknown"


class Pregnancy(models.TextChoices):
    PREGNANT = "pregnant", "Pregnant"
    NOT_PREGNANT_TEST = "not_pregnant_test", "Not pregnant: negative test today"
    NOT_PREGNANT_NA = "not_pregnant_na", "Not pregnant: a test does not apply (reason given)"
    UNKNOWN = "unknown", "Unknown"


class ScreeningOutcome(models.TextChoices):
    CLEARED = "cleared", "Cleared"
    HELD = "held", "Held for physician review"


class ScreeningDecision(models.TextChoices):
    PROCEED = "proceed", "Proceed"
    DO_NOT_PROCEED = "do_not_proceed", "Do not proceed"


class Screening(RecordModel):
    """The contraindication screening before any administration (QuestionnaireResponse).

    One current screening per session: striking the screening's own blood pressure as
    entered in error before the start marks it superseded (kept, with who and why) and the
    session is screened again (records.actions.vitals). `Session.screening` is the current one.

    Insert-only in the database (rules R2, R3 in records.rules): the outcome never changes;
    only the physician's decision on a held screening and the superseded mark are set, once.
    """

    session = models.ForeignKey("records.Session", on_delete=models.PROTECT, related_name="screenings")
    bp_reading = models.OneToOneField("records.VitalsReading", on_delete=models.PROTECT, related_name="+")
    hypertension_history = models.CharField(max_length=8, choices=Answer.choices)
    hypertension_uncontrolled = models.CharField(
        "Uncontrolled hypertension in the clinician's judgement", max_length=8, choices=Answer.choices
    )
    psychosis_history = models.CharField(max_length=8, choices=Answer.choices)
    psychosis_current = models.CharField("Current psychotic symptoms", max_length=8, choices=Answer.choices)
    pregnancy = models.CharField(max_length=20, choices=Pregnancy.choices)
    pregnancy_note = models.CharField(
        max_length=300, blank=True, help_text="Test result, or why a test does not apply."
    )
    # The clinic's threshold at the time of screening, kept with the record.
    bp_hold_systolic = models.PositiveSmallIntegerField()
    bp_hold_diastolic = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=8, choices=ScreeningOutcome.choices)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField()
    decision = models.CharField(max_length=16, choices=ScreeningDecision.choices, blank=True)
    decision_reason = models.TextField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Rule R3: the hold belongs to the patient. Findings of the patient's other sessions (an
    # undecided hold, a "do not proceed" the same clinic day) and of this session's earlier,
    # superseded screenings, one per line, as they stood when this screening was recorded.
    # Any line holds the screening until a physician decides.
    carried_findings = models.TextField(max_length=4000, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    superseded_reason = models.CharField(max_length=600, blank=True)

    class Meta:
        ordering = ["screened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(superseded_at__isnull=True), name="screening_one_current_per_session"
            ),
            models.CheckConstraint(
                condition=Q(outcome="held")
                | Q(
                    hypertension_history="no",
                    hypertension_uncontrolled="no",
                    psychosis_history="no",
                    psychosis_current="no",
                    pregnancy__in=["not_pregnant_test", "not_pregnant_na"],
                    carried_findings="",
                ),
                name="screening_cleared_only_when_all_negative",
            ),
            models.CheckConstraint(
                condition=Q(superseded_at__isnull=True, superseded_by__isnull=True, superseded_reason="")
                | Q(superseded_at__isnull=False, superseded_by__isnull=False, superseded_reason__regex=r"\S"),
                name="screening_superseded_with_who_and_why",
            ),
            models.CheckConstraint(
                condition=~Q(pregnancy="not_pregnant_na") | Q(pregnancy_note__regex=r"\S"),
                name="screening_pregnancy_na_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(decision="", decided_by__isnull=True, decided_at__isnull=True)
                | Q(
                    ~Q(decision=""),
                    outcome="held",
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                    decision_reason__regex=r"\S",
                ),
                name="screening_decision_on_held_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Screening for session {self.session_id}: {self.outcome}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def carried(self) -> list[str]:
        """The carried findings, one per line (see `carried_findings`)."""
        return [line for line in self.carried_findings.splitlines() if line.strip()]

    @property
    def allows_administration(self) -> bool:
        """Cleared, or held and the physician decided to proceed; current, and its BP not struck (rule R3)."""
        return (
            self.superseded_at is None
            and not self.bp_reading.in_error
            and (self.outcome == ScreeningOutcome.CLEARED or self.decision == ScreeningDecision.PROCEED)
        )

    def positive_findings(self) -> list[str]:
        findings = []
        labels = {
            "hypertension_history": "history of hypertension",
            "hypertension_uncontrolled": "uncontrolled hypertension",
            "psychosis_history": "history of psychosis",
            "psychosis_current": "current psychotic symptoms",
        }
        for field, label in labels.items():
            value = getattr(self, field)
            if value == Answer.YES:
                findings.append(label)
            elif value == Answer.UNKNOWN:
                findings.append(f"{label}: unknown")
        if self.pregnancy == Pregnancy.PREGNANT:
            findings.append("pregnant")
        elif self.pregnancy == Pregnancy.UNKNOWN:
            findings.append("pregnancy: unknown")
        return findings

    @property
    def hold_reasons(self) -> list[str]:
        """Why the screening was held: its own reasons, then the findings carried from the patient's
        other sessions and this session's earlier screenings."""
        return [*self.own_hold_reasons, *self.carried]

    @property
    def own_hold_reasons(self) -> list[str]:
        """Every positive or unknown answer, and a BP at or above the threshold."""
        reasons = self.positive_findings()
        reading = self.bp_reading
        systolic, diastolic = reading.systolic, reading.diastolic  # a screening's reading has both
        if (systolic is not None and systolic >= self.bp_hold_systolic) or (
            diastolic is not None and diastolic >= self.bp_hold_diastolic
        ):
            threshold = f"{self.bp_hold_systolic}/{self.bp_hold_diastolic}"
            reasons.append(f"BP {reading.systolic}/{reading.diastolic} at or above {threshold}")
        return reasons
