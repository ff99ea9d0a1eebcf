"""The clinic settings page: every numeric field refuses a bad value with a message naming it and its range.

A label with a "%" in it ("SpO2 low (%)") once turned a refused value into a 500.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from records.forms.sessions import ClinicSettingsForm, setting_bounds
from records.models import AuditEvent, ClinicSettings

pytestmark = pytest.mark.django_db

NUMERIC_FIELDS = ClinicSettingsForm.Meta.fields
BAD_VALUES = ["-1", "0", "99999999999", "1e400", "abc", "nan", "", "12.345"]


def current_values() -> dict:
    clinic = ClinicSettings.current()
    return {name: str(getattr(clinic, name)) for name in NUMERIC_FIELDS}


def in_range(name: str, value: str) -> bool:
    low, high = setting_bounds(name)
    try:
        number = Decimal(value)
    except ArithmeticError:
        return False
    whole = number == number.to_integral_value() or name.startswith("temperature")
    return number.is_finite() and whole and low <= number <= high and -number.as_tuple().exponent <= 1


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("name", NUMERIC_FIELDS)
def test_every_numeric_setting_refuses_a_bad_value_with_its_range(client_for, admin_user, name, value):
    assert not in_range(name, value)
    client = client_for(admin_user)
    before = current_values()
    events = AuditEvent.objects.count()

    response = client.post(reverse("clinic_settings"), {**before, name: value, "reason": "Test"})

    assert response.status_code == 400
    low, high = setting_bounds(name)
    errors = response.context["form"].errors[name]
    label = ClinicSettingsForm().fields[name].label
    assert len(errors) == 1
    assert errors[0].startswith(f"{label}: enter a number between {low} and {high}")
    assert escape(errors[0]) in response.content.decode()
    assert current_values() == before
    assert AuditEvent.objects.filter(record_type="clinicsettings").count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("name", NUMERIC_FIELDS)
def test_every_numeric_setting_shows_its_range_on_the_input(client_for, admin_user, name):
    response = client_for(admin_user).get(reverse("clinic_settings"))
    low, high = setting_bounds(name)
    widget = response.context["form"].fields[name].widget
    assert (widget.attrs["min"], widget.attrs["max"]) == (low, high)


def test_a_value_in_range_is_saved_and_audited(client_for, admin_user):
    values = {**current_values(), "spo2_low": "92", "temperature_high": "38.5"}

    response = client_for(admin_user).post(reverse("clinic_settings"), {**values, "reason": "Protocol v3"})

    assert response.status_code == 302
    clinic = ClinicSettings.current()
    assert (clinic.spo2_low, clinic.temperature_high) == (92, Decimal("38.5"))
    event = AuditEvent.objects.get(record_type="clinicsettings")
    assert event.changes == {"spo2_low": [94, 92], "temperature_high": ["38.0", "38.5"]}
