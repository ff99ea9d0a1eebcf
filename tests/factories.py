"""factory_boy factories for read-side tests: accounts, patients and sessions, made through the real actions.

Each factory's `_create` calls the action a person or set-up command would call
(`account_create`, `patient_create`, and the charting actions through
tests.charting), so every row has its audit events and passed the same checks as
in the clinic. There is no `build()`: nothing clinical is made without an action.

Names come from Faker, reseeded before every test (tests/conftest.py), so a test
sees the same names whichever tests ran before it and on whichever worker. Assert
on values the test passes in, not on generated ones.

    PatientFactory(family_name="Okoro")
    UserFactory(role=Role.PHYSICIAN)                       # or PhysicianFactory()
    SessionFactory(state="held", nurse=nurse, physician=physician, patient__family_name="Vance")
    SessionFactory(state="cleared", nurse=nurse, physician=physician, order__received_as="verbal")
    PastSessionFactory(start=..., nurse=nurse, physician=physician, held=True, cosigned=True)
"""

from datetime import timedelta

import factory
import factory.random
from django.utils import timezone

from records.actions.accounts import account_create
from records.actions.context import Actor
from records.actions.patients import patient_create
from records.actions.sessions import addendum_add, session_cosign
from records.models import Patient, Session, User
from records.permissions import Role
from tests.charting import SessionBuilder, chart_session
from tests.conftest import PASSWORD, actor_for

SEED = 20261125


class ActionFactory(factory.Factory):
    """A factory whose objects exist only once an action has made them."""

    class Meta:
        abstract = True

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError(f"{cls.__name__} makes rows through the actions only: use create(), not build().")


class UserFactory(ActionFactory):
    """An active account with one role, made as a set-up command makes it (no forced password change)."""

    class Meta:
        model = User

    role = Role.NURSE
    username = factory.LazyAttributeSequence(lambda o, n: f"{Role(o.role).value}.{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *, role, **fields):
        return account_create(actor=Actor.system("tests"), role=Role(role), **fields)


class NurseFactory(UserFactory):
    role = Role.NURSE


class PhysicianFactory(UserFactory):
    role = Role.PHYSICIAN


class AdminFactory(UserFactory):
    role = Role.ADMIN


class PatientFactory(ActionFactory):
    """A registered patient, as a nurse's registration (patient_create) makes one."""

    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"FAC-{n:05d}")
    family_name = factory.Faker("last_name")
    given_name = factory.Faker("first_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=85)
    sex = factory.Faker("random_element", elements=["female", "male"])
    allergies = "No known allergies"

    @classmethod
    def _create(cls, model_class, **fields):
        return patient_create(actor=Actor.system("tests"), **fields)


class SessionFactory(ActionFactory):
    """A session of today, taken through the real actions up to `state`.

    `state` is one of tests.charting.STEPS or "held". Other keywords go to the
    scheduling (chair, scheduled_at, planned_route). `order=True`, or order__<field>
    (e.g. order__received_as="verbal"), documents an order on a cleared session.
    """

    class Meta:
        model = Session

    patient = factory.SubFactory(PatientFactory)
    nurse = factory.SubFactory(NurseFactory)
    physician = factory.SubFactory(PhysicianFactory)
    state = "scheduled"

    @classmethod
    def _create(cls, model_class, *, patient, nurse, physician, state, **schedule):
        return SessionBuilder(nurse, physician, actor_for).to(patient, state, **schedule)

    @factory.post_generation
    def order(session, create, extracted, **fields):
        if not (extracted or fields):
            return
        if fields.get("received_as", "written") != "written":
            fields.setdefault("read_back_confirmed", True)
        builder = SessionBuilder(session.primary_nurse, session.supervising_physician, actor_for)
        builder.order(session, **fields)


class PastSessionFactory(ActionFactory):
    """A whole IV session charted at `start` (in the past), arrival to the nurse's signature.

    Keywords of tests.charting.chart_session pass through (readings, held, side_effect,
    received_as, pain_before, sign, ...). `cosigned=True` adds the physician's
    co-signature; `addendum="text"` then an addendum, by the physician unless
    addendum__by names someone else, with addendum__reason.
    """

    class Meta:
        model = Session

    patient = factory.SubFactory(PatientFactory)
    nurse = factory.SubFactory(NurseFactory)
    physician = factory.SubFactory(PhysicianFactory)
    start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))

    @classmethod
    def _create(cls, model_class, **fields):
        return chart_session(**fields)

    @factory.post_generation
    def cosigned(session, create, extracted, **kwargs):
        if extracted:
            session_cosign(actor=actor_for(session.supervising_physician), session=session)
            session.refresh_from_db()

    @factory.post_generation
    def addendum(session, create, extracted, by=None, reason="Follow-up"):
        if extracted:
            author = by or session.supervising_physician
            addendum_add(actor=actor_for(author), session=session, text=extracted, reason=reason)


def reset() -> None:
    """The same names and numbers in every test, whatever ran before it."""
    factory.random.reseed_random(SEED)
    for root in (UserFactory, PatientFactory):
        root.reset_sequence()
