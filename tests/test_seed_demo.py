from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from records.management.demo.treatment_course import COURSE_MRN
from records.models import AuditEvent, IntakeAssessment, Order, OutcomeReport, Patient, Session, User, VitalsReading
from records.permissions import role_of
from tests.conftest import clinic_day_clock

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Patient.objects.count(),
        User.objects.count(),
        Session.objects.count(),
        VitalsReading.objects.count(),
        OutcomeReport.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """The demo data, seeded once for the tests of a class (it takes seconds), and rolled back after them.

    Each test runs in a savepoint inside this transaction, as in any database test.
    """
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), clinic_day_clock(), transaction.atomic():
        output = StringIO()
        call_command("seed_demo", stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded")
class TestSeedDemo:
    def test_one_account_per_role_with_the_published_passwords(self, seeded):
        assert {u.username: role_of(u).value for u in User.objects.all()} == {
            "nurse": "nurse",
            "physician": "physician",
            "admin": "admin",
        }
        assert User.objects.get(username="nurse").check_password("Infusion-demo-N1")
        assert "Infusion-demo-N1" in seeded
        assert Patient.objects.count() >= 10

    def test_a_completed_esketamine_session_with_its_monitoring_form(self):
        from records import rems
        from records.management.demo.esketamine import ESKETAMINE_MRN
        from records.models import RemsMonitoringForm
        from records.scales import highest_cadss6, lowest_moaas

        session = Session.objects.get(patient__mrn=ESKETAMINE_MRN)
        assert session.status == "signed" and rems.is_esketamine(session)
        form = RemsMonitoringForm.objects.get(session=session)
        assert form.lot_number == "EKT-2291" and not form.submitted
        charted = rems.charted_values(session)
        assert charted.monitoring_minutes == 122
        assert charted.bp_at_40.systolic == 152
        readings = list(session.readings.all())
        assert (lowest_moaas(readings), highest_cadss6(readings)) == (4, 7)

    def test_running_it_again_adds_nothing(self, settings):
        settings.DEMO_MODE = True
        before = _counts()
        output = StringIO()
        call_command("seed_demo", stdout=output)

        assert _counts() == before
        assert "Demo data: 0 patient(s), 0 session(s), 0 account(s) added." in output.getvalue()

    def test_one_patient_has_a_year_of_sessions_and_outcomes(self):
        from datetime import timedelta

        from django.utils import timezone

        patient = Patient.objects.get(mrn=COURSE_MRN)
        sessions = Session.objects.filter(patient=patient)
        assert sessions.count() >= 12 and OutcomeReport.objects.filter(patient=patient).count() >= 10
        first = sessions.order_by("scheduled_at").first().scheduled_at
        assert timezone.now() - first > timedelta(days=330)
        assert IntakeAssessment.objects.get(patient=patient).baseline_headache_days == 20
        # The newest session waits for review and its telephone order for the physician's co-signature.
        newest = sessions.order_by("-scheduled_at").first()
        assert newest.status == "signed"
        assert newest.orders.get().cosigned_at is None
        assert sessions.filter(status="cosigned").count() == sessions.count() - 1

    def test_the_days_sessions_are_in_every_state(self):
        statuses = set(Session.objects.values_list("status", flat=True))
        assert {
            "scheduled",
            "arrived",
            "screening",
            "held",
            "cleared",
            "in_progress",
            "recovery",
            "stopped_early",
            "discharged",
            "signed",
            "cosigned",
            "no_show",
        } <= statuses
        # One cosigned session among the day's demo sessions (the year-long course has its own).
        cosigned = Session.objects.exclude(patient__mrn=COURSE_MRN).get(status="cosigned")
        assert cosigned.readings.count() >= 5 and cosigned.addenda.exists()
        assert cosigned.readings.filter(entered_in_error_at__isnull=False).exists()
        assert Order.objects.filter(received_as="verbal", cosigned_at__isnull=True).exists()
        # no weight charted, so nothing could ever be derived from one
        assert not VitalsReading.objects.filter(weight_kg__isnull=False).exists()

    def test_one_session_is_mid_protocol_and_one_has_an_overdue_checkpoint(self):
        from django.utils import timezone

        from records.monitoring import session_monitoring

        now = timezone.now()
        mid = session_monitoring(Session.objects.get(patient__mrn="DEMO-1013"), now)
        assert mid.adopted and mid.version.protocol.name == "Intranasal esketamine"
        assert [(c.name, c.state) for c in mid.checkpoints] == [
            ("Before the first device", "done"),
            ("40 min after the first device", "upcoming"),
            ("Before discharge", "upcoming"),
        ]
        assert mid.next.name == "40 min after the first device" and not mid.overdue
        late = session_monitoring(Session.objects.get(patient__mrn="DEMO-1014"), now)
        assert late.version.protocol.name == "IV ketamine infusion"
        assert [(c.key, c.state) for c in late.checkpoints if c.key.startswith("1.")][:2] == [
            ("1.1", "done"),
            ("1.2", "overdue"),
        ]
        assert [c.name for c in late.overdue] == ["Every 15 min while running"]


def test_seed_demo_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEMO_MODE=1"):
        call_command("seed_demo")
    assert _counts() == (0, 0, 0, 0, 0, 0)


def test_create_admin_makes_an_admin_account_and_refuses_weak_passwords(monkeypatch):
    monkeypatch.setenv("CLINIC_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command("create_admin", "first.admin", first_name="Ada", last_name="Lee")
    assert not User.objects.exists()

    monkeypatch.setenv("CLINIC_ADMIN_PASSWORD", "A-long-enough-secret-9")
    call_command("create_admin", "first.admin", first_name="Ada", last_name="Lee")
    account = User.objects.get(username="first.admin")
    assert role_of(account).value == "admin"
    assert AuditEvent.objects.filter(action="create", record_id=str(account.pk), actor_role="system").exists()


def test_the_running_server_does_not_import_the_demo_data():
    """Demo accounts and their published passwords stay with `seed_demo`: no page, action or middleware imports them."""
    import ast
    from pathlib import Path

    import records

    package = Path(records.__file__).parent
    importers = []
    for path in package.rglob("*.py"):
        if "management" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if any(name.startswith("records.management") for name in names):
                importers.append(str(path.relative_to(package)))
    assert importers == []


@given(minutes_since_midnight=st.integers(min_value=0, max_value=24 * 60 - 1))
def test_the_demo_days_steps_keep_their_minutes_at_any_hour(minutes_since_midnight):
    """Seeded at 00:05, the demo's steps were squeezed into five minutes: its discharges were refused."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from records.management.commands.seed_demo import Timeline

    midnight = datetime(2026, 11, 25, tzinfo=ZoneInfo(settings.TIME_ZONE))
    time = Timeline(midnight + timedelta(minutes=minutes_since_midnight))
    first_start, discharge = time.at(7.5, 12), time.at(7.5, 12 + 80)
    assert discharge - first_start == timedelta(minutes=80)
    assert time.at(0, 30) == time.now
