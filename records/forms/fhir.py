from django import forms

from records.forms.dates import BoundedDateField
from records.models import ApiToken, User


class FhirExportForm(forms.Form):
    patient_mrn = forms.CharField(
        label="Only one patient (MRN)",
        max_length=32,
        required=False,
        help_text="Leave empty to export the whole clinic.",
    )
    since = BoundedDateField(
        label="Only since",
        required=False,
        help_text="Sessions scheduled, outcomes reported and audit events on or after this day. Empty: everything.",
    )
    audit = forms.BooleanField(label="Include the audit log", required=False, initial=True)

    def clean_patient_mrn(self) -> str:
        return self.cleaned_data["patient_mrn"].strip()


class ApiTokenIssueForm(forms.Form):
    account = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), label="Account")
    name = forms.CharField(label="What it is for", max_length=100, help_text="E.g. the receiving system's name.")


class ApiTokenRevokeForm(forms.Form):
    token = forms.ModelChoiceField(queryset=ApiToken.objects.filter(revoked_at__isnull=True))
    reason = forms.CharField(max_length=500, required=False)
