"""Forms of the physician's review: intake assessment and patient-reported outcomes. Parse only."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms

from records.forms.dates import BoundedDateField
from records.models import Session
from records.models.intake import BASELINE_DAYS_MAX
from records.models.outcomes import HEADACHE_DAYS_MAX, HIT6_RANGE, MIDAS_RANGE


def _whole_number(label: str, low: int, high: int, *, required: bool = True) -> forms.IntegerField:
    message = f"{label}: a whole number from {low} to {high}."
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=f"{low} to {high}.",
        error_messages={
            "required": message,
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
    )


class IntakeForm(forms.Form):
    diagnosis = forms.CharField(
        max_length=200,
        help_text="As you would write it, e.g. chronic migraine without aura.",
        error_messages={"required": "Enter the diagnosis."},
    )
    baseline_headache_days = _whole_number("Baseline headache days per month", 0, BASELINE_DAYS_MAX)
    relevant_history = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label="Reason for revising",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with this version of the assessment.",
    )

    def __init__(self, *args, revising: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.revising = revising
        if revising:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = "Give the reason for revising the assessment."
        else:
            del self.fields["reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(Column("diagnosis", css_class="col-md-8"), Column("baseline_headache_days", css_class="col-md-4")),
            "relevant_history",
            "notes",
            "version",
        )


class PreventiveTreatmentForm(forms.Form):
    name = forms.CharField(label="Preventive treatment", max_length=120, required=False)
    why_stopped = forms.CharField(label="Why stopped", max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("why_stopped", "").strip() and not data.get("name", "").strip():
            self.add_error("name", "Name the treatment this reason belongs to.")
        return data


PreventiveTreatmentFormSet = forms.formset_factory(PreventiveTreatmentForm, extra=3, max_num=30, absolute_max=30)


class OutcomeForm(forms.Form):
    reported_on = BoundedDateField(
        label="Reported on", error_messages={"required": "Enter the day the patient reported these outcomes."}
    )
    headache_days = _whole_number("Headache days in the last 30 days", 0, HEADACHE_DAYS_MAX)
    midas_total = _whole_number("MIDAS total", *MIDAS_RANGE, required=False)
    midas_completed_on = BoundedDateField(label="MIDAS completed on", required=False)
    hit6_total = _whole_number("HIT-6 total", *HIT6_RANGE, required=False)
    hit6_completed_on = BoundedDateField(label="HIT-6 completed on", required=False)
    session: "forms.ModelChoiceField[Session]" = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Reported at session",
        empty_label="Between sessions",
        help_text="The session at which the patient reported these, if any.",
    )
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, sessions=None, **kwargs):
        from django.utils import timezone

        from records.models import Session

        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions if sessions is not None else Session.objects.none()
        self.fields["session"].label_from_instance = lambda s: (
            f"{timezone.localtime(s.scheduled_at):%Y-%m-%d %H:%M}, {s.get_planned_route_display()}"
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(Column("reported_on", css_class="col-md-4"), Column("headache_days", css_class="col-md-8")),
            "session",
            Row(Column("midas_total"), Column("midas_completed_on")),
            Row(Column("hit6_total"), Column("hit6_completed_on")),
            "note",
        )


class HistoryFilterForm(forms.Form):
    date_from = BoundedDateField(label="From", required=False)
    date_to = BoundedDateField(label="To", required=False)
    route = forms.ChoiceField(label="Route", required=False)
    status = forms.ChoiceField(label="Status", required=False)

    def __init__(self, *args, **kwargs):
        from records.models import Route, SessionStatus

        super().__init__(*args, **kwargs)
        self.fields["route"].choices = [("", "Any route"), *Route.choices]
        self.fields["status"].choices = [("", "Any status"), *SessionStatus.choices]
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if is_select else "form-control")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data
