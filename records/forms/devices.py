"""Forms for monitors and their readings: they parse input; records.actions.devices writes."""

from django import forms

from records.models import RejectReason


class MonitorForm(forms.Form):
    device_id = forms.CharField(
        label="Device identity",
        max_length=199,
        help_text="Exactly as the monitor's messages carry it: the equipment identifier (OBX-18, often an "
        "EUI-64 such as 0123456789ABCDEF) or the sending application (MSH-3).",
    )
    chair = forms.CharField(label="Chair or room", max_length=40, help_text="As sessions name it, e.g. Chair 4.")


class MonitorActiveForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "In use"), ("0", "Out of use")], coerce=lambda v: v == "1")


class ReadingForm(forms.Form):
    reading = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RejectForm(ReadingForm):
    reason = forms.ChoiceField(
        label="Why not chart it",
        choices=RejectReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why: artefact, patient moving, cuff off, or other."},
    )
    note = forms.CharField(label="Other: say why", max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if data.get("reason") == RejectReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", "Say why the reading is rejected.")
        return data


class AssignForm(ReadingForm):
    session = forms.IntegerField(
        label="Session", min_value=1, error_messages={"required": "Choose the session it belongs to."}
    )


class DismissForm(ReadingForm):
    reason = forms.CharField(label="Why dismiss it", max_length=500)
