from io import StringIO

import pytest
from django.core.management import call_command

from records.models import AuditEvent, Order, Session, VitalsReading

pytestmark = pytest.mark.django_db


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
    cosigned = Session.objects.get(status="cosigned")
    assert cosigned.readings.count() >= 5 and cosigned.addenda.exists()
    assert cosigned.readings.filter(entered_in_error_at__isnull=False).exists()
    assert Order.objects.filter(received_as="verbal", cosigned_at__isnull=True).exists()
    # no weight charted, so nothing could ever be derived from one
    assert not VitalsReading.objects.filter(weight_kg__isnull=False).exists()
    counts = (Session.objects.count(), VitalsReading.objects.count(), AuditEvent.objects.count())

    call_command("seed_demo", stdout=StringIO())

    assert (Session.objects.count(), VitalsReading.objects.count(), AuditEvent.objects.count()) == counts
