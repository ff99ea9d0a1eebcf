from django import forms
from django.apps import apps

from records.forms.dates import BoundedDateField
from records.models import AuditAction, Patient, User
from records.permissions import Role
from records.selectors import AUDIT_DEFAULT_SORT, DISCLOSURES


def record_type_choices():
    """The kinds of record an event can be about: every model of the app, and refused URLs."""
    names = {model._meta.model_name: model._meta.verbose_name for model in apps.get_app_config("records").get_models()}
    names.update(
        url="page (refused access)",
        audit_report="audit report",
        session_board="today's board (list)",
        physician_worklist="physician worklist (list)",
    )
    return [("", "Any record type"), *sorted(names.items(), key=lambda item: str(item[1]))]


def role_choices():
    return [("", "Any role"), *((r.value, r.label) for r in Role), ("system", "System"), ("none", "None (signed out)")]


class PeriodForm(forms.Form):
    """A period in days of the clinic's time zone, both ends included."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not field.widget.is_hidden:
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    date_from = BoundedDateField(required=False, label="From")
    date_to = BoundedDateField(required=False, label="To")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data


def clean_mrn(value: str) -> Patient | None:
    mrn = value.strip().upper()
    if not mrn:
        return None
    patient = Patient.objects.filter(mrn__iexact=mrn).first()
    if patient is None:
        raise forms.ValidationError(f"No patient has the MRN {mrn}.")
    return patient


class AuditFilterForm(PeriodForm):
    actor = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"), required=False, label="User", empty_label="Any user"
    )
    role = forms.ChoiceField(choices=role_choices, required=False)
    patient = forms.CharField(required=False, max_length=32, label="Patient MRN")
    action = forms.ChoiceField(
        choices=[("", "Any action"), (DISCLOSURES, "Any print, export or disclosure"), *AuditAction.choices],
        required=False,
    )
    record_type = forms.ChoiceField(choices=record_type_choices, required=False, label="Record type")
    # Unknown keys fall back to newest first (selectors.audit_ordering whitelists them).
    sort = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    field_order = ["date_from", "date_to", "actor", "role", "patient", "action", "record_type", "sort"]

    def clean_patient(self):
        return clean_mrn(self.cleaned_data["patient"])

    def filters(self) -> dict:
        """Keyword arguments for selectors.audit_events (empty when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "actor_id": data["actor"].pk if data["actor"] else None,
            "role": data["role"],
            "patient_id": data["patient"].pk if data["patient"] else None,
            "action": data["action"],
            "record_type": data["record_type"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "sort": data["sort"] or AUDIT_DEFAULT_SORT,
        }

    def description(self) -> str:
        """The filters in words, for the audit event that records a viewing or an export."""
        if not self.is_valid():
            return "no filter"
        parts = []
        for name in self.field_order:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if name == "patient":
                value = value.mrn
            elif name == "actor":
                value = value.username
            elif name == "sort" and value == AUDIT_DEFAULT_SORT:
                continue
            parts.append(f"{self.fields[name].label or name.replace('_', ' ')}: {value}")
        return "; ".join(parts) or "no filter"


class PatientAccessForm(PeriodForm):
    patient = forms.CharField(max_length=32, label="Patient MRN")
    field_order = ["patient", "date_from", "date_to"]

    def clean_patient(self):
        return clean_mrn(self.cleaned_data["patient"])


class DisclosuresForm(PeriodForm):
    patient = forms.CharField(required=False, max_length=32, label="Patient MRN")
    field_order = ["patient", "date_from", "date_to"]

    def clean_patient(self):
        return clean_mrn(self.cleaned_data["patient"])


class UserActivityForm(PeriodForm):
    user = forms.ModelChoiceField(queryset=User.objects.order_by("username"), label="Account", empty_label="Choose")
    field_order = ["user", "date_from", "date_to"]
