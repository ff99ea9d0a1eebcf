from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from records.models import AuditEvent, Order, Patient, Session, User, VitalsReading
from records.permissions import role_of

pytestmark = pytest.mark.django_db


def _counts():
    return Patient.objects.count(), User.objects.count(), AuditEvent.objects.count()


def test_seed_demo_creates_one_account_per_role_and_is_idempotent(settings, capsys):
    settings.DEMO_MODE = True
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")

    assert _counts() == first
    assert first[0] >= 10
    assert {u.username: role_of(u).value for u in User.objects.all()} == {
        "nurse": "nurse",
        "physician": "physician",
        "admin": "admin",
    }
    assert User.objects.get(username="nurse").check_password("Infusion-demo-N1")
    assert "Infusion-demo-N1" in capsys.readouterr().out


def test_seed_demo_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEMO_MODE=1"):
        call_command("seed_demo")
    assert _counts() == (0, 0, 0)


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


def test_seed_demo_gives_one_patient_a_year_of_sessions_and_outcomes(settings):
    from datetime import timedelta

    from django.utils import timezone

    from records.management.demo.treatment_course import COURSE_MRN
    from records.models import IntakeAssessment, OutcomeReport, Session

    settings.DEMO_MODE = True
    call_command("seed_demo")
    patient = Patient.objects.get(mrn=COURSE_MRN)
    sessions = Session.objects.filter(patient=patient)
    counts = (sessions.count(), OutcomeReport.objects.filter(patient=patient).count())
    call_command("seed_demo")

    assert (sessions.count(), OutcomeReport.objects.filter(patient=patient).count()) == counts
    assert counts[0] >= 12 and counts[1] >= 10
    first = sessions.order_by("scheduled_at").first().scheduled_at
    assert timezone.now() - first > timedelta(days=330)
    assert IntakeAssessment.objects.get(patient=patient).baseline_headache_days == 20
    # The newest session waits for review and its telephone order for the physician's co-signature.
    newest = sessions.order_by("-scheduled_at").first()
    assert newest.status == "signed"
    assert newest.orders.get().cosigned_at is None
    assert sessions.filter(status="cosigned").count() == counts[0] - 1


def test_seed_demo_sessions_in_every_state_and_idempotent(settings):
    settings.DEMO_MODE = True
    call_command("seed_demo", stdout=StringIO())
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
    from records.management.demo.treatment_course import COURSE_MRN

    # One cosigned session among the day's demo sessions (the year-long course has its own).
    cosigned = Session.objects.exclude(patient__mrn=COURSE_MRN).get(status="cosigned")
    assert cosigned.readings.count() >= 5 and cosigned.addenda.exists()
    assert cosigned.readings.filter(entered_in_error_at__isnull=False).exists()
    assert Order.objects.filter(received_as="verbal", cosigned_at__isnull=True).exists()
    # no weight charted, so nothing could ever be derived from one
    assert not VitalsReading.objects.filter(weight_kg__isnull=False).exists()
    counts = (Session.objects.count(), VitalsReading.objects.count(), AuditEvent.objects.count())

    call_command("seed_demo", stdout=StringIO())

    assert (Session.objects.count(), VitalsReading.objects.count(), AuditEvent.objects.count()) == counts


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
