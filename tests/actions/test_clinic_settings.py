import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from records.actions.clinic import clinic_settings_update
from records.models import AuditEvent, ClinicSettings
from tests.conftest import actor_for
from tests.dbtools import as_owner

pytestmark = pytest.mark.django_db


def test_defaults():
    clinic = ClinicSettings.current()
    assert (clinic.bp_hold_systolic, clinic.bp_hold_diastolic) == (180, 100)
    assert clinic.vitals_interval_minutes == 15
    assert clinic.verbal_order_cosign_hours == 48


def test_admin_update_audits_before_and_after_of_changed_values(admin_user):
    clinic_settings_update(
        actor=actor_for(admin_user), bp_hold_systolic=170, vitals_interval_minutes=15, reason="Medical director's memo"
    )
    assert ClinicSettings.current().bp_hold_systolic == 170
    event = AuditEvent.objects.get(record_type="clinicsettings")
    assert event.changes == {"bp_hold_systolic": [180, 170]}
    assert event.reason == "Medical director's memo"


def test_no_change_writes_no_event(admin_user):
    clinic_settings_update(actor=actor_for(admin_user), bp_hold_systolic=180)
    assert not AuditEvent.objects.filter(record_type="clinicsettings").exists()


def test_no_change_before_any_saved_setting_writes_no_row(admin_user):
    """Rule R6: the settings row is written only with a change, and then audited (found by fuzzing the form)."""
    assert not ClinicSettings.objects.exists()
    clinic_settings_update(actor=actor_for(admin_user), bp_hold_systolic=180, vitals_interval_minutes=15)
    assert not ClinicSettings.objects.exists()
    assert not AuditEvent.objects.filter(record_type="clinicsettings").exists()


@pytest.mark.parametrize("role", ["nurse", "physician"])
def test_clinicians_cannot_change_settings(make_user, role):
    with pytest.raises(PermissionDenied):
        clinic_settings_update(actor=actor_for(make_user(role)), bp_hold_systolic=150)
    assert ClinicSettings.current().bp_hold_systolic == 180


def test_range_must_be_ordered_and_plausible(admin_user):
    with pytest.raises(ValidationError) as exc:
        clinic_settings_update(actor=actor_for(admin_user), heart_rate_low=120, heart_rate_high=100)
    assert "heart_rate_high" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        clinic_settings_update(actor=actor_for(admin_user), vitals_interval_minutes=0)
    assert "vitals_interval_minutes" in exc.value.message_dict


def test_defaults_apply_when_no_row_was_saved():
    # A database where no settings were ever saved (the application itself never deletes them).
    with as_owner():
        ClinicSettings.objects.all().delete()
    clinic = ClinicSettings.current()
    assert clinic.reference_range("temperature")[0] < clinic.reference_range("temperature")[1]
    assert clinic.bp_holds(180, 80) and not clinic.bp_holds(179, 99)
    assert not ClinicSettings.objects.exists()  # reading never writes
