"""Monitoring protocols: the protocol's own fields, and one row per checkpoint. Timing and what to
measure only: a protocol says when to look, never how much to give (no dose field exists here)."""

from crispy_forms.bootstrap import InlineCheckboxes
from crispy_forms.layout import Column, Row
from django import forms

from records.forms.sessions import choose, helper
from records.models import Anchor, Requirement, Route


class ProtocolForm(forms.Form):
    name = forms.CharField(max_length=120)
    active = forms.BooleanField(
        required=False, initial=True, help_text="Sessions starting now take an active protocol."
    )
    routes = forms.MultipleChoiceField(
        label="Routes it applies to", choices=Route.choices, widget=forms.CheckboxSelectMultiple
    )
    min_observation_minutes = forms.IntegerField(
        label="Minimum observation from the first start (minutes)", min_value=0, max_value=720
    )
    reason = forms.CharField(label="Reason for the change", max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper(
            Row(Column("name", css_class="col-md-8"), Column("active", css_class="col-md-4 pt-md-4")),
            InlineCheckboxes("routes"),
            Row(Column("min_observation_minutes"), Column("reason")),
        )


class CheckpointForm(forms.Form):
    name = forms.CharField(max_length=120)
    # "Choose…" first: an empty extra row sent as it is stays no checkpoint.
    anchor = forms.ChoiceField(label="Counted from", choices=choose(Anchor.choices))
    offset = forms.IntegerField(label="Due (min)", min_value=-720, max_value=720)
    window_start = forms.IntegerField(label="Window opens (min)", min_value=-720, max_value=720)
    window_end = forms.IntegerField(
        label="Window closes (min)",
        min_value=-720,
        max_value=720,
        required=False,
        help_text="Empty: at the first start (arrival) or at the discharge.",
    )
    every = forms.IntegerField(
        label="Repeat every (min)", min_value=5, max_value=240, required=False, help_text="While running."
    )
    requires = forms.MultipleChoiceField(
        label="Asks for", choices=Requirement.choices, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper(
            Row(Column("name", css_class="col-md-6"), Column("anchor", css_class="col-md-6")),
            Row(Column("offset"), Column("window_start"), Column("window_end"), Column("every")),
            InlineCheckboxes("requires"),
            "DELETE",
        )


# absolute_max: a form claiming more rows than 40 is refused with the message, and never more than 40 rows
# are built and rendered again (Django's default would build up to 1,040 from the claimed count).
CheckpointFormSet = forms.formset_factory(
    CheckpointForm, extra=1, can_delete=True, max_num=40, validate_max=True, absolute_max=40
)


def checkpoints_initial(checkpoints: list[dict]) -> list[dict]:
    return [dict(c) for c in checkpoints]


def checkpoints_from(formset) -> list[dict]:
    """The rows the admin kept, in order (an untouched empty row is no checkpoint)."""
    rows = []
    for form in formset.forms:
        untouched = form in formset.extra_forms and not form.has_changed()
        if untouched or form.cleaned_data.get("DELETE"):
            continue
        rows.append({k: form.cleaned_data.get(k) for k in CheckpointForm.base_fields})
    return rows
