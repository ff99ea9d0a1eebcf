"""The test factories make their rows through the actions, and the same rows in every test."""

import pytest
from django.db import transaction

from records.models import AuditEvent
from records.permissions import Role, role_of
from tests import factories
from tests.factories import PastSessionFactory, PatientFactory, PhysicianFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_accounts_and_patients_are_made_by_the_actions_with_their_audit_events():
    physician = PhysicianFactory()
    patient = PatientFactory(family_name="Okoro")

    assert role_of(physician) == Role.PHYSICIAN
    assert physician.check_password(factories.PASSWORD) and not physician.must_change_password
    assert patient.family_name == "Okoro"
    for record in (physician, patient):
        assert AuditEvent.objects.filter(action="create", record_id=str(record.pk)).exists()


def test_sessions_reach_their_state_through_the_actions(nurse, physician):
    held = SessionFactory(state="held", nurse=nurse, physician=physician)
    cleared = SessionFactory(state="cleared", nurse=nurse, physician=physician, order__received_as="verbal")
    past = PastSessionFactory(nurse=nurse, physician=physician, cosigned=True, addendum="Called: well.")

    assert (held.status, cleared.status, past.status) == ("held", "cleared", "cosigned")
    assert cleared.orders.get().received_as == "verbal"
    assert past.addenda.get().text == "Called: well."
    assert past.readings.count() == 5  # the screening's blood pressure and four flowsheet rows
    # Every step was an action, with its audit event.
    assert AuditEvent.objects.filter(record_type="session", record_id=str(past.pk), action="sign").exists()


def test_nothing_is_built_without_an_action():
    with pytest.raises(TypeError, match="through the actions only"):
        PatientFactory.build()


def test_the_same_names_in_every_test_whatever_ran_before():
    def three_patients():
        with transaction.atomic():
            made = [(p.mrn, p.family_name, p.given_name, p.date_of_birth) for p in PatientFactory.create_batch(3)]
            transaction.set_rollback(True)
        return made

    first = three_patients()  # after the reset every test starts with
    UserFactory.create_batch(2)
    factories.reset()

    assert three_patients() == first
    assert [mrn for mrn, *_ in first] == ["FAC-00000", "FAC-00001", "FAC-00002"]
