"""Dates people type: the one range every date and date-time field accepts.

A date outside it (an audit report "to 9999-12-31", a birth in year 1) is refused on the
field with the range, never passed on to a query or a chart: one day past 9999-12-31 does
not exist, and a year-1 time in a zone east of Greenwich has no UTC equivalent, so either
used to end in a 500. The clinical times of a visit are narrowed further by
records.clinical_time.
"""

from datetime import date

from django import forms

EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def out_of_range_message(label: str) -> str:
    return f"{label}: enter a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}."


def check_date_range(label: str):
    """A validator refusing a date (or the day of a date-time) outside EARLIEST..LATEST."""

    def validate(value) -> None:
        day = value.date() if hasattr(value, "date") else value
        if not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(out_of_range_message(label), code="date_range")

    return validate


class DateInput(forms.DateInput):
    """The browser's date picker, limited to the accepted range."""

    input_type = "date"

    def __init__(self, **kwargs):
        attrs = {"min": EARLIEST.isoformat(), "max": LATEST.isoformat(), **kwargs.pop("attrs", {})}
        super().__init__(format="%Y-%m-%d", attrs=attrs, **kwargs)


class BoundedDateField(forms.DateField):
    """A date between EARLIEST and LATEST; anything else gets a message naming the field and the range."""

    widget = DateInput

    def __init__(self, *, label: str, **kwargs):
        error_messages = {
            "invalid": f"{label}: enter a date as YYYY-MM-DD, e.g. 2026-03-14.",
            **kwargs.pop("error_messages", {}),
        }
        super().__init__(label=label, error_messages=error_messages, **kwargs)
        self.validators.append(check_date_range(label))
