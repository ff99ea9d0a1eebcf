from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.utils import timezone

from records.actions.patients import DEMOGRAPHIC_FIELDS
from records.forms.dates import DateInput
from records.models import Patient


class PatientForm(forms.ModelForm):
    """Parses and checks a patient's demographics; the action does the writing."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = list(DEMOGRAPHIC_FIELDS)
        widgets = {
            "date_of_birth": DateInput(),
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "address": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"mrn": "MRN"}
        error_messages = {
            "mrn": {"unique": "This MRN already belongs to another patient."},
            "date_of_birth": {"invalid": "Enter the date of birth as a date, e.g. 1980-04-23."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sex"].choices = [("", "Choose…"), *self.fields["sex"].choices[1:]]
        self.fields["allergies"].help_text = "List each allergy and reaction, or write 'No known allergies'."
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("mrn", css_class="col-md-4"), Column("family_name"), Column("given_name")),
            Row(Column(Field("date_of_birth"), css_class="col-md-4"), Column("sex", css_class="col-md-4")),
            "allergies",
            Row(Column("phone"), Column("email")),
            "address",
            "emergency_contact",
            "version",
        )

    def clean_mrn(self):
        mrn = self.cleaned_data["mrn"].strip().upper()
        if not mrn:
            raise forms.ValidationError("Enter the MRN.")
        return mrn

    def _clean_text(self, name: str, label: str):
        value = " ".join(self.cleaned_data[name].split())
        if not value:
            raise forms.ValidationError(f"Enter the {label}.")
        return value

    def clean_family_name(self):
        return self._clean_text("family_name", "family name")

    def clean_given_name(self):
        return self._clean_text("given_name", "given name")

    def clean_allergies(self):
        value = self.cleaned_data["allergies"].strip()
        if not value:
            raise forms.ValidationError("Record allergies, or write 'No known allergies'.")
        return value

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        if dob > timezone.localdate():
            raise forms.ValidationError("Date of birth cannot be in the future.")
        if dob.year < 1900:
            raise forms.ValidationError("Date of birth must be 1900-01-01 or later.")
        return dob

    def demographics(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search patients",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "placeholder": "MRN, name, or date of birth (YYYY-MM-DD)",
                "autofocus": True,
                "type": "search",
                "class": "form-control form-control-lg",
            }
        ),
    )
    inactive = forms.BooleanField(label="Include deactivated", required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason for this change."},
    )

    def clean_reason(self):
        value = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError("Give the reason for this change.")
        return value
