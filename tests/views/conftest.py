"""One clinic shared by a module's URL-by-URL tests, made once through the actions.

The tests that open every URL as every role (the access matrix, the method table, the read
audit, the date filters) all need the same objects behind the URLs: a patient, a session held
at screening, a verbal order, a monitor, the protocols, and a signed-in user per role. Made for
each of several hundred tests, they were most of the suite's time. `url_world` makes them once
per module in a transaction that is rolled back after the module's last test; each test runs in
a savepoint inside it (pytest-django's own transaction), so whatever a test writes is gone
before the next one, and every test sees the world exactly as it was made.

Its names are its own (no fixture of tests/conftest.py makes a `url_nurse` or an `MRN-URL-1`), so
a test of the same module may still make the usual `nurse` and `patient`.

The world is made at 09:00 on the clinic day, an hour before every test's clock starts
(tests/conftest.py), so nothing in it is dated after the moment a test runs.
"""

from dataclasses import dataclass
from datetime import date

import pytest
from django.conf import settings
from django.test import Client

from records.actions.context import Actor
from records.actions.devices import monitor_register
from records.models import Monitor, Order, Patient, Session, User
from records.permissions import Role
from tests import conftest as base
from tests.charting import SessionBuilder
from tests.dbtools import rows_kept_for_the_module

SIGNED_IN_ROLES = (Role.NURSE, Role.PHYSICIAN, Role.ADMIN)


@dataclass(frozen=True)
class UrlWorld:
    """Primary keys only: each test reads its own fresh instances (nothing in memory is shared)."""

    patient: int
    nurse: int
    physician: int
    held_session: int
    verbal_order: int
    monitor: int
    protocol: int
    signed_in: dict[str, int]  # role -> a user of that role, with a confirmed authenticator
    login_sessions: dict[str, str]  # role -> the session key of that user's sign-in, made with the world

    def user(self, role: str) -> User:
        return User.objects.get(pk=self.signed_in[Role(role).value])

    def sign_in(self, client: Client, role: str) -> Client:
        """`client` signed in as the world's user of `role`, password and authenticator code given (the
        sign-in made with the world, as `client.force_login` makes one: a few hundred tests share it, and
        each test's changes to it are rolled back with the test's)."""
        client.cookies[settings.SESSION_COOKIE_NAME] = self.login_sessions[Role(role).value]
        return client


@pytest.fixture(scope="module")
def url_world(django_db_setup, django_db_blocker):
    yield from rows_kept_for_the_module(django_db_blocker, base.an_hour_before_the_tests(), _make_world)


def _make_world(clock) -> UrlWorld:
    system = Actor.system("tests")

    def account(role: Role, username: str, first: str, last: str) -> User:
        return base.account_create(
            actor=system, username=username, first_name=first, last_name=last, role=role, password=base.PASSWORD
        )

    nurse = account(Role.NURSE, "url_nurse", "Nina", "Reyes")
    physician = account(Role.PHYSICIAN, "url_physician", "Omar", "Haddad")
    patient = base.patient_create(
        actor=system,
        mrn="MRN-URL-1",
        family_name="Testwood",
        given_name="Harriet",
        date_of_birth=date(1980, 1, 1),
        sex="female",
        allergies="No known allergies",
    )
    sessions = SessionBuilder(nurse, physician, base.actor_for, clock=clock)
    held = sessions.to(patient, "held")
    verbal = sessions.order(sessions.to(patient, "cleared"), received_as="verbal", read_back_confirmed=True)
    monitor = monitor_register(actor=system, device_id="MATRIX-MONITOR", chair="Chair 9")
    protocol = base.a_protocol()
    # The account the admin's pages act on offers an authenticator reset.
    base.verified_device(nurse)
    signed_in, login_sessions = {}, {}
    for role in SIGNED_IN_ROLES:
        user = account(role, f"{role.value}_signed_in", role.value.title(), "Tester")
        base.verified_device(user)
        signed_in[role.value] = user.pk
        login_sessions[role.value] = base.signed_in_session(user)
    return UrlWorld(
        patient=patient.pk,
        nurse=nurse.pk,
        physician=physician.pk,
        held_session=held.pk,
        verbal_order=verbal.pk,
        monitor=monitor.pk,
        protocol=protocol.pk,
        signed_in=signed_in,
        login_sessions=login_sessions,
    )


@pytest.fixture
def world_patient(db, url_world) -> Patient:
    return Patient.objects.get(pk=url_world.patient)


@pytest.fixture
def world_nurse(db, url_world) -> User:
    return User.objects.get(pk=url_world.nurse)


@pytest.fixture
def world_objects(db, url_world) -> dict:
    """Fresh instances of the world's objects, by the first word of the URL names that take them."""
    return {
        "patient": Patient.objects.get(pk=url_world.patient),
        "account": User.objects.get(pk=url_world.nurse),
        "session": Session.objects.get(pk=url_world.held_session),
        "order": Order.objects.get(pk=url_world.verbal_order),
        "monitor": Monitor.objects.get(pk=url_world.monitor),
    }
