"""Forms of the session pages: they parse and check input; the actions write.

No dose field has an initial value, and no form is filled from an earlier order
or session: the clinician types what the order says.
"""

import uuid
from decimal import Decimal

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.core.validators import DecimalValidator, MaxValueValidator, MinValueValidator
from django.utils import timezone

from records.doses import DOSE_MAX_LENGTH, DoseUnit, validate_dose_value
from records.forms.dates import BoundedDateField, check_date_range
from records.models import (
    Answer,
    ClinicSettings,
    ConcomitantMedication,
    Dissociation,
    Phase,
    Pregnancy,
    ReadyToLeave,
    ReceivedAs,
    Route,
    ScreeningDecision,
    Severity,
    SideEffectKind,
    User,
    YesNo,
)
from records.models.vitals import CADSS6_ITEMS, SCALE_FIELDS
from records.permissions import Role
from records.scales import CADSS6_ALL_OR_NONE, MOAAS_LEVELS, field_name, moaas_label
from records.vital_limits import IMPOSSIBLE, SCALE_LIMITS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

# A clinical value: the page never keeps it to put back after a sign-out (records/static/records/idle.js),
# and the browser offers no earlier entry for it.
CLINICAL_VALUE = {"data-no-keep": "", "autocomplete": "off"}
# Free text of an order: the browser offers no earlier entry for it.
NO_AUTOFILL = {"autocomplete": "off"}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def datetime_field(label: str, required: bool = True) -> forms.DateTimeField:
    """A date and time within records.forms.dates' range (a visit's own window is the action's to check)."""
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": f"Enter {label.lower()} as a date and time, e.g. 2026-03-14T09:30."},
        validators=[check_date_range(label)],
    )


def now_local() -> str:
    return timezone.localtime().strftime(DATETIME_FORMAT)


def choose(choices) -> list:
    return [("", "Choose…"), *choices]


def helper(*layout) -> FormHelper:
    h = FormHelper()
    h.form_tag = False
    h.disable_csrf = True
    if layout:
        h.layout = Layout(*layout)
    return h


def _staff(role: Role):
    return User.objects.filter(is_active=True, groups__name=role.value).order_by("last_name", "first_name")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.printed_name


class SessionScheduleForm(forms.Form):
    planned_route = forms.ChoiceField(choices=choose(Route.choices))
    scheduled_at = datetime_field("Scheduled time")
    chair = forms.CharField(label="Chair or room", max_length=40)
    primary_nurse = StaffChoiceField(queryset=User.objects.none(), required=False, empty_label="Not assigned yet")
    supervising_physician = StaffChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Not assigned yet"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["primary_nurse"].queryset = _staff(Role.NURSE)
        self.fields["supervising_physician"].queryset = _staff(Role.PHYSICIAN)
        self.helper = helper(
            Row(Column("planned_route"), Column("scheduled_at"), Column("chair")),
            Row(Column("primary_nurse"), Column("supervising_physician")),
        )


def _in_range(low, high, places: int, message: str):
    """One check and one message (without %-parameters, so a "%" in a label stays as it is)."""

    def validate(value) -> None:
        exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
        too_precise = isinstance(exponent, int) and -exponent > places
        if too_precise or not low <= value <= high:
            raise forms.ValidationError(message, code="out_of_range")

    return validate


def _vital_field(name: str, label: str) -> forms.Field:
    limit = IMPOSSIBLE[name]
    attrs = {"inputmode": "decimal" if name in ("temperature", "weight_kg") else "numeric", **CLINICAL_VALUE}
    messages = {"invalid": f"{label}: enter a number. {limit.describe()}"}
    if name in ("temperature", "weight_kg"):
        return forms.DecimalField(
            label=label,
            required=False,
            max_digits=4,
            decimal_places=1,
            widget=forms.TextInput(attrs=attrs),
            error_messages={
                **messages,
                "max_decimal_places": f"{label}: use at most one decimal place.",
                "max_digits": limit.describe(),
                "max_whole_digits": limit.describe(),
            },
        )
    if name == "sedation_rass":
        attrs["inputmode"] = "text"  # the tablet keypad needs the minus sign
    return forms.IntegerField(label=label, required=False, widget=forms.TextInput(attrs=attrs), error_messages=messages)


def _moaas_field() -> forms.Field:
    """MOAA/S as a list of its levels, each with its anchor description; nothing chosen until the nurse does."""
    return forms.TypedChoiceField(
        label="Sedation (MOAA/S)",
        choices=[("", "—"), *((level, moaas_label(level)) for level in MOAAS_LEVELS)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=CLINICAL_VALUE),
        error_messages={"invalid_choice": SCALE_LIMITS["moaas"].describe()},
    )


def _cadss_item_field(name: str) -> forms.Field:
    message = SCALE_LIMITS[name].describe()
    limit = SCALE_LIMITS[name]
    return forms.IntegerField(
        label=field_name(name),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 1, **CLINICAL_VALUE}),
        error_messages={"invalid": message},
        validators=[_in_range(limit.low, limit.high, 0, message)],
    )


class VitalsForm(forms.Form):
    """One flowsheet row. Ranges are checked by the action (records.vital_limits) and shown on the fields.

    The scales: MOAA/S chosen from its levels; the CADSS-6 as its six items by short name, each 0-4,
    all six or none (the total, their sum, is shown in the table). Nothing is filled in from an
    earlier reading or session.
    """

    measured_at = datetime_field("Measured at")
    phase = forms.ChoiceField(choices=Phase.choices)
    systolic = _vital_field("systolic", "Systolic")
    diastolic = _vital_field("diastolic", "Diastolic")
    heart_rate = _vital_field("heart_rate", "HR")
    spo2 = _vital_field("spo2", "SpO2")
    respiratory_rate = _vital_field("respiratory_rate", "RR")
    temperature = _vital_field("temperature", "Temp °C")
    pain = _vital_field("pain", "Pain 0-10")
    sedation_rass = _vital_field("sedation_rass", "RASS")
    dissociation = forms.ChoiceField(
        choices=[("", "—"), *Dissociation.choices], required=False, widget=forms.Select(attrs=CLINICAL_VALUE)
    )
    weight_kg = _vital_field("weight_kg", "Weight kg")
    note = forms.CharField(max_length=500, required=False)
    moaas = _moaas_field()
    cadss_1 = _cadss_item_field("cadss_1")
    cadss_2 = _cadss_item_field("cadss_2")
    cadss_6 = _cadss_item_field("cadss_6")
    cadss_7 = _cadss_item_field("cadss_7")
    cadss_15 = _cadss_item_field("cadss_15")
    cadss_22 = _cadss_item_field("cadss_22")

    VALUE_FIELDS = (
        "systolic",
        "diastolic",
        "heart_rate",
        "spo2",
        "respiratory_rate",
        "temperature",
        "pain",
        "sedation_rass",
        "dissociation",
        "weight_kg",
        "note",
        *SCALE_FIELDS,
    )
    SCALE_FIELDS = SCALE_FIELDS
    CADSS6_ITEMS = CADSS6_ITEMS

    def clean(self):
        cleaned = super().clean()
        given = [f for f in CADSS6_ITEMS if cleaned.get(f) is not None]
        missing = [f for f in CADSS6_ITEMS if f not in given and f not in self.errors]
        if given and missing:
            for field in missing:
                self.add_error(field, CADSS6_ALL_OR_NONE)
        return cleaned

    def values(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.VALUE_FIELDS}
        return {k: v for k, v in data.items() if v not in (None, "")}


class ScreeningForm(forms.Form):
    """Every answer explicit: radio buttons with nothing ticked; 'unknown' is its own answer."""

    systolic = forms.IntegerField(
        label="Systolic BP now (mmHg)", widget=forms.TextInput(attrs={"inputmode": "numeric", **CLINICAL_VALUE})
    )
    diastolic = forms.IntegerField(
        label="Diastolic BP now (mmHg)", widget=forms.TextInput(attrs={"inputmode": "numeric", **CLINICAL_VALUE})
    )
    hypertension_history = forms.ChoiceField(
        label="History of hypertension", choices=Answer.choices, widget=forms.RadioSelect
    )
    hypertension_uncontrolled = forms.ChoiceField(
        label="Uncontrolled hypertension, in your judgement", choices=Answer.choices, widget=forms.RadioSelect
    )
    psychosis_history = forms.ChoiceField(
        label="History of psychosis", choices=Answer.choices, widget=forms.RadioSelect
    )
    psychosis_current = forms.ChoiceField(
        label="Current psychotic symptoms", choices=Answer.choices, widget=forms.RadioSelect
    )
    pregnancy = forms.ChoiceField(label="Pregnancy", choices=Pregnancy.choices, widget=forms.RadioSelect)
    pregnancy_note = forms.CharField(label="Test result, or why a test does not apply", max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("hypertension_history", "hypertension_uncontrolled", "psychosis_history", "psychosis_current"):
            self.fields[name].error_messages["required"] = "Choose yes, no or unknown."
        self.fields["pregnancy"].error_messages["required"] = "Choose an answer for pregnancy."
        self.helper = helper(
            Row(Column("systolic"), Column("diastolic")),
            Row(Column(InlineRadios("hypertension_history")), Column(InlineRadios("hypertension_uncontrolled"))),
            Row(Column(InlineRadios("psychosis_history")), Column(InlineRadios("psychosis_current"))),
            "pregnancy",
            "pregnancy_note",
        )


class ScreeningDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=ScreeningDecision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Justification (proceed) or reason (do not proceed)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].error_messages["required"] = "Choose proceed or do not proceed."
        self.fields["reason"].error_messages["required"] = "Write the justification or the reason."
        self.helper = helper(InlineRadios("decision"), "reason")


class DoseValueField(forms.CharField):
    """Free text, checked by the one dose validator; never given an initial value."""

    def __init__(self, label: str, **kwargs):
        super().__init__(
            label=label,
            max_length=DOSE_MAX_LENGTH,
            strip=False,
            widget=forms.TextInput(attrs={"inputmode": "decimal", **CLINICAL_VALUE}),
            **kwargs,
        )
        self.error_messages["required"] = f"Enter the {label.lower()} exactly as written."

    def validate(self, value):
        super().validate(value)
        if value:
            validate_dose_value(value, self.label)


class OrderForm(forms.Form):
    ordering_physician = StaffChoiceField(queryset=User.objects.none(), required=False, empty_label="—")
    outside_prescriber = forms.CharField(
        label="…or outside prescriber's name",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=NO_AUTOFILL),
    )
    received_as = forms.ChoiceField(choices=ReceivedAs.choices, widget=forms.RadioSelect)
    read_back_confirmed = forms.BooleanField(
        label="Read back and confirmed (required for verbal and telephone orders)", required=False
    )
    received_at = datetime_field("Time received")
    medication = forms.CharField(max_length=120, widget=forms.TextInput(attrs=NO_AUTOFILL))
    dose_value = DoseValueField("Dose")
    dose_unit = forms.ChoiceField(
        label="Dose unit", choices=choose(DoseUnit.choices), widget=forms.Select(attrs=CLINICAL_VALUE)
    )
    route = forms.ChoiceField(choices=choose(Route.choices))
    rate_text = forms.CharField(
        label="Rate, duration or frequency as written",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs=CLINICAL_VALUE),
    )
    order_text = forms.CharField(
        label="Full order text, verbatim",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, **CLINICAL_VALUE}),
    )
    # One key per opening of the form (rule R4): the same form sent twice records one order.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["ordering_physician"].queryset = _staff(Role.PHYSICIAN)
        self.fields["received_as"].error_messages["required"] = "Choose written, verbal or telephone."
        self.helper = helper(
            Row(Column("ordering_physician"), Column("outside_prescriber")),
            Row(Column(InlineRadios("received_as")), Column("received_at")),
            "read_back_confirmed",
            Row(Column("medication"), Column("dose_value"), Column("dose_unit"), Column("route")),
            "rate_text",
            "order_text",
            "submission_key",
        )

    def clean_submission_key(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.cleaned_data["submission_key"])
        except ValueError:
            return None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("submission_key") is None:
            self.add_error(None, "This form is out of date: open the order form again and enter the order.")
        return cleaned


class AdministrationStartForm(forms.Form):
    order = forms.IntegerField(widget=forms.HiddenInput)
    site = forms.CharField(label="Site or line", max_length=120)
    lot_number = forms.CharField(max_length=60)


class AdministrationEventForm(forms.Form):
    administration = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500)


class AdministrationStopForm(forms.Form):
    administration = forms.IntegerField(widget=forms.HiddenInput)
    amount_given_value = DoseValueField("Amount given")
    amount_given_unit = forms.ChoiceField(
        label="Unit", choices=choose(DoseUnit.choices), widget=forms.Select(attrs=CLINICAL_VALUE)
    )
    early_reason = forms.CharField(label="If stopped early: why", max_length=500, required=False)


class SideEffectForm(forms.Form):
    kind = forms.ChoiceField(label="Type", choices=choose(SideEffectKind.choices))
    other_text = forms.CharField(label="Describe (if other)", max_length=200, required=False)
    severity = forms.ChoiceField(choices=Severity.choices, widget=forms.RadioSelect)
    onset_at = datetime_field("Onset")
    action_taken = forms.CharField(max_length=500)
    resolved_at = datetime_field("Resolved at", required=False)


class SideEffectResolveForm(forms.Form):
    side_effect = forms.IntegerField(widget=forms.HiddenInput)
    resolved_at = datetime_field("Resolved at")


class DischargeForm(forms.Form):
    alert_and_oriented = forms.BooleanField(label="Alert and oriented")
    vitals_near_baseline = forms.BooleanField(label="Vitals back near baseline")
    steady_walking = forms.BooleanField(label="Walking steadily")
    escort_present_not_driving = forms.BooleanField(label="Escort present, and the patient is not driving")
    discharged_at = datetime_field("Discharge time")
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("alert_and_oriented", "vitals_near_baseline", "steady_walking", "escort_present_not_driving"):
            self.fields[name].error_messages["required"] = "This criterion must be met before discharge."
        self.helper = helper(
            "alert_and_oriented",
            "vitals_near_baseline",
            "steady_walking",
            "escort_present_not_driving",
            Row(Column("discharged_at"), Column("note")),
        )


class ReasonOnlyForm(forms.Form):
    reason = forms.CharField(max_length=500)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=1000, error_messages={"required": "Give the reason."})
    no_show = forms.BooleanField(label="The patient did not come (no-show)", required=False)


class EnteredInErrorForm(forms.Form):
    reading = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500)


class AddendumForm(forms.Form):
    text = forms.CharField(label="Addendum", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(max_length=500)


def setting_bounds(name: str) -> tuple:
    """The accepted (lowest, highest) value of a numeric clinic setting, from the model's validators."""
    validators = getattr(ClinicSettings._meta.get_field(name), "validators", [])
    bounds = {type(v).__name__: v.limit_value for v in validators if hasattr(v, "limit_value")}
    return bounds["MinValueValidator"], bounds["MaxValueValidator"]


class ClinicSettingsForm(forms.ModelForm):
    reason = forms.CharField(label="Reason for the change", max_length=500, required=False)

    class Meta:
        model = ClinicSettings
        fields = [
            "bp_hold_systolic",
            "bp_hold_diastolic",
            "systolic_low",
            "systolic_high",
            "diastolic_low",
            "diastolic_high",
            "heart_rate_low",
            "heart_rate_high",
            "spo2_low",
            "spo2_high",
            "respiratory_rate_low",
            "respiratory_rate_high",
            "temperature_low",
            "temperature_high",
            "vitals_interval_minutes",
            "verbal_order_cosign_hours",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.Meta.fields:
            field = self.fields[name]
            low, high = setting_bounds(name)
            # One message for every way a value can be wrong: it names the field and the accepted range.
            places = getattr(field, "decimal_places", None)
            shape = (
                f", with at most {places} decimal place{'s' if places != 1 else ''}" if places else ", a whole number"
            )
            message = f"{field.label}: enter a number between {low} and {high}{shape}."
            # Django's own range and digit validators would each add a message of their own.
            field.validators = [
                v
                for v in field.validators
                if not isinstance(v, MinValueValidator | MaxValueValidator | DecimalValidator)
            ] + [_in_range(low, high, places or 0, message)]
            field.error_messages["invalid"] = field.error_messages["required"] = message
            field.widget.attrs["inputmode"] = "decimal" if name.startswith("temperature") else "numeric"
            field.widget.attrs["min"], field.widget.attrs["max"] = low, high
        self.helper = helper(
            Row(Column("bp_hold_systolic"), Column("bp_hold_diastolic")),
            Row(Column("systolic_low"), Column("systolic_high"), Column("diastolic_low"), Column("diastolic_high")),
            Row(Column("heart_rate_low"), Column("heart_rate_high"), Column("spo2_low"), Column("spo2_high")),
            Row(
                Column("respiratory_rate_low"),
                Column("respiratory_rate_high"),
                Column("temperature_low"),
                Column("temperature_high"),
            ),
            Row(Column("vitals_interval_minutes"), Column("verbal_order_cosign_hours")),
            "reason",
        )

    def _post_clean(self):
        # Range checks and saving belong to the action; skip ModelForm's model validation.
        pass


class DischargeOverrideForm(forms.Form):
    reason = forms.CharField(
        label="Why the patient may leave before these criteria are met",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write why the patient may leave before these criteria are met."},
    )


class RemsForm(forms.Form):
    """The REMS Patient Monitoring Form's own questions; nothing chosen or filled in until the nurse does."""

    lot_number = forms.CharField(
        label="Lot number(s) as on the devices",
        max_length=200,
        widget=forms.TextInput(attrs=CLINICAL_VALUE),
        error_messages={"required": "Enter the lot number as on the devices."},
    )
    ready_to_leave = forms.ChoiceField(
        label="If there were no 2-hour minimum, when would the patient have been ready to leave?",
        choices=ReadyToLeave.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose when the patient would have been ready to leave."},
    )
    sedation = forms.ChoiceField(label="Sedation", choices=YesNo.choices, widget=forms.RadioSelect)
    dissociation = forms.ChoiceField(label="Dissociation", choices=YesNo.choices, widget=forms.RadioSelect)
    respiratory_depression = forms.ChoiceField(
        label="Respiratory depression", choices=YesNo.choices, widget=forms.RadioSelect
    )
    concomitant_medications = forms.MultipleChoiceField(
        label="Concomitant medicines (the form's categories; none ticked = none)",
        choices=ConcomitantMedication.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    concomitant_note = forms.CharField(label="Concomitant medicines: names", max_length=1000, required=False)
    serious_adverse_events = forms.ChoiceField(
        label="Serious adverse events", choices=YesNo.choices, widget=forms.RadioSelect
    )
    serious_adverse_events_text = forms.CharField(
        label="If yes: describe them", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("sedation", "dissociation", "respiratory_depression", "serious_adverse_events"):
            self.fields[name].error_messages["required"] = f"{self.fields[name].label}: choose yes or no."
        self.helper = helper(
            "lot_number",
            "ready_to_leave",
            Row(
                Column(InlineRadios("sedation")),
                Column(InlineRadios("dissociation")),
                Column(InlineRadios("respiratory_depression")),
            ),
            "concomitant_medications",
            "concomitant_note",
            InlineRadios("serious_adverse_events"),
            "serious_adverse_events_text",
        )


class RemsSubmittedForm(forms.Form):
    submitted_on = BoundedDateField(
        label="Date submitted",
        error_messages={"required": "Enter the date the form was submitted."},
    )
