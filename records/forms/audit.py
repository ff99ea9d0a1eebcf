from django import forms

from records.models import AuditAction, Patient, User


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(queryset=User.objects.all(), required=False, label="User", empty_label="Any user")
    patient = forms.CharField(required=False, max_length=32, label="Patient MRN")
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditAction.choices], required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_patient(self):
        mrn = self.cleaned_data["patient"].strip().upper()
        if not mrn:
            return None
        patient = Patient.objects.filter(mrn__iexact=mrn).first()
        if patient is None:
            raise forms.ValidationError(f"No patient has the MRN {mrn}.")
        return patient

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if is_select else "form-control")
