"""/health/: what a load balancer asks, answered without a log-in and without anyone's data."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse
from django.utils import timezone

from records.models import AuditEvent
from records.tasks import HEARTBEAT_KEY, heartbeat_beat
from tests.dbtools import triggers_suspended

pytestmark = pytest.mark.django_db


def test_all_well_is_200_with_each_check_named(client):
    heartbeat_beat()
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "migrations": "ok", "worker": "ok", "status": "ok", "failed": []}
    # No log-in needed, no session made, nothing audited, never cached.
    assert "sessionid" not in response.cookies
    assert not AuditEvent.objects.exists()
    assert "no-cache" in response["Cache-Control"]


def test_no_worker_is_503_naming_the_worker(client):
    cache.delete(HEARTBEAT_KEY)  # a worker of an earlier transactional test may have beaten
    response = client.get(reverse("health"))
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["worker"] and body["worker"] == "no heartbeat" and body["database"] == "ok"


def test_a_worker_silent_too_long_is_503(client, settings):
    heartbeat_beat()
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 5)):
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["worker"].startswith("last heartbeat")


def test_an_unapplied_migration_is_503(client):
    heartbeat_beat()
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="records").order_by("-id").first()
    with triggers_suspended():
        recorder.migration_qs.filter(pk=last.pk).delete()
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["migrations"] == "1 not applied"


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_beats(client):
    cache.delete(HEARTBEAT_KEY)
    assert client.get(reverse("health")).status_code == 503
    call_command("task_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    assert client.get(reverse("health")).status_code == 200


def test_says_nothing_about_patients_or_people(client, patient, nurse):
    heartbeat_beat()
    body = json.dumps(client.get(reverse("health")).json())
    assert patient.mrn not in body and nurse.username not in body
