from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from records.actions.audit import audit_chain_verify
from records.actions.context import Actor
from records.models import (
    Administration,
    AuditEvent,
    Discharge,
    OutcomeReport,
    Screening,
    Session,
    User,
    VitalsReading,
)
from records.seals import verify_seals
from tests.conftest import clinic_day_clock

pytestmark = pytest.mark.django_db

YEARS = 0.004  # 80 sessions: one clinic day of 20 chairs


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """A clinic day at scale, seeded once for the class and rolled back after it."""
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), clinic_day_clock(), transaction.atomic():
        output = StringIO()
        call_command("seed_scale", "--clinic-years", str(YEARS), stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded")
class TestSeedScale:
    def test_a_clinic_day_of_sessions_charted_from_arrival_to_signature(self, seeded):
        assert Session.objects.count() == 80
        assert Session.objects.filter(signed_at__isnull=False).count() == 80
        attended = Session.objects.exclude(exit_kind="no_show")
        assert attended.count() >= 70
        for session in attended:
            assert session.status in ("signed", "cosigned")
            assert Screening.objects.filter(session=session, outcome="cleared").count() == 1
            assert Administration.objects.filter(session=session, state="stopped").count() == 1
            assert Discharge.objects.filter(session=session).exists()
            readings = VitalsReading.objects.filter(session=session)
            # A reading every 15 minutes from the screening to recovery: more than two hours.
            assert readings.count() >= 8
        assert OutcomeReport.objects.count() == attended.count()
        assert Session.objects.filter(status="cosigned").count() >= 60
        assert "Seeded 80 sessions" in seeded
        assert "[##############################] 100%" in seeded

    def test_the_audit_chain_is_intact_and_every_seal_matches(self):
        run = audit_chain_verify(actor=Actor.system("test"))

        assert run.result == "intact", run.problem
        # Every event but the verification's own, written after the walk.
        assert run.events_checked == AuditEvent.objects.count() - 1 > 80 * 50
        seals = verify_seals()
        assert seals.sessions_checked == 80
        assert seals.broken == []
        assert seals.unsealed == 0

    def test_verify_audit_says_intact(self):
        output = StringIO()
        call_command("verify_audit", stdout=output)
        assert "Audit chain intact." in output.getvalue()

    def test_reads_and_writes_are_audited_per_session(self):
        session = Session.objects.filter(status="cosigned").first()
        actions = set(
            AuditEvent.objects.filter(record_type="session", record_id=str(session.pk)).values_list("action", flat=True)
        )
        assert {"create", "arrive", "begin_screening", "view", "sign", "cosign"} <= actions
        readings = VitalsReading.objects.filter(session=session).count()
        created = AuditEvent.objects.filter(record_type="vitalsreading", patient=session.patient, action="create")
        assert created.filter(record_id__in=[str(r.pk) for r in session.readings.all()]).count() == readings

    def test_the_signed_sessions_stay_locked_in_the_database(self):
        session = Session.objects.filter(status="cosigned").first()
        nurse = User.objects.get(pk=session.primary_nurse_id)
        with pytest.raises(IntegrityError), transaction.atomic():
            VitalsReading.objects.create(
                session=session,
                measured_at=timezone.now(),
                entered_at=timezone.now(),
                entered_by=nurse,
                phase="post",
                heart_rate=70,
            )

    def test_a_changed_reading_breaks_its_sessions_seal(self):
        """The seals are real: they cover the seeded rows (the guard is lifted only inside this test)."""
        from tests.dbtools import triggers_suspended

        reading = VitalsReading.objects.filter(session__status="cosigned").first()
        with triggers_suspended():
            VitalsReading.objects.filter(pk=reading.pk).update(heart_rate=reading.heart_rate + 1)
        broken = verify_seals().broken
        assert [s.session_id for s in broken] == [reading.session_id]


def test_refuses_without_demo_mode(settings):
    settings.DEMO_MODE = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("seed_scale", "--clinic-years", "0.01", stdout=StringIO())
    assert Session.objects.count() == 0


def test_refuses_a_size_out_of_range(settings):
    settings.DEMO_MODE = True
    with pytest.raises(CommandError, match="clinic-years"):
        call_command("seed_scale", "--clinic-years", "0", stdout=StringIO())


def test_a_fraction_of_a_day_and_a_second_run_extend_one_chain(settings):
    settings.DEMO_MODE = True
    with clinic_day_clock():
        call_command("seed_scale", "--clinic-years", "0.0005", stdout=StringIO())
        call_command("seed_scale", "--clinic-years", "0.0005", stdout=StringIO())
        assert Session.objects.count() == 20
        assert User.objects.filter(username__startswith="scale_").count() == 14
        assert audit_chain_verify(actor=Actor.system("test")).result == "intact"
    assert connection.vendor in ("sqlite", "postgresql")
