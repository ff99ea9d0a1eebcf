"""Background tasks: started by an audited action, run by the worker (not the web process), shown on their page."""

import threading
import uuid

import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from records.actions.context import Actor
from records.actions.tasks import audit_chain_verify_enqueue
from records.models import AuditEvent, AuditVerification
from records.tasks import heartbeat_age, progress_get


def run_worker() -> None:
    """What `manage.py task_worker` does, until the queue is empty (--batch)."""
    call_command("task_worker", batch=True, reload=False, startup_delay=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_large_log_is_verified_by_the_worker_and_the_page_shows_it(client, admin_user, patient, settings):
    settings.AUDIT_VERIFY_IN_REQUEST_MAX = 3
    client.force_login(admin_user)
    events_before = AuditEvent.objects.count()

    response = client.post(reverse("audit_verify"))

    task = DBTaskResult.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("background_task", kwargs={"task_id": task.pk})
    # Nothing ran in the web process: the task waits for the worker.
    assert task.status == "READY" and not AuditVerification.objects.exists()
    start = AuditEvent.objects.get(record_type="background_task", action="create")
    assert (start.actor, start.record_id) == (admin_user, str(task.pk))
    assert start.changes["task"] == [None, "Audit log verification"]
    assert start.changes["events"] == [None, events_before]
    page = client.get(response.url).content.decode()
    assert "Queued" in page and 'hx-trigger="every 2s"' in page
    assert not AuditEvent.objects.filter(record_type="background_task", action="view").exists()

    run_worker()

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    run = AuditVerification.objects.get()
    assert (run.result, run.started_by_id) == ("intact", admin_user.pk)
    assert task.return_value["result"] == "intact" and task.return_value["verification"] == run.pk
    assert AuditEvent.objects.filter(action="verify", actor=admin_user).exists()
    assert progress_get(str(task.pk)) == {"stage": "Finished", "done": run.events_checked, "total": events_before}
    # The worker beat while it ran.
    assert heartbeat_age() is not None

    fragment = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert "Audit chain intact:" in fragment and "hx-trigger" not in fragment
    viewed = AuditEvent.objects.filter(record_type="background_task", action="view").get()
    assert (viewed.actor, viewed.record_id) == (admin_user, str(task.pk))
    assert "intact</strong>" in client.get(reverse("audit_log")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_failed_task_says_so(client, admin_user, patient, settings):
    actor = Actor.for_user(admin_user)
    task = audit_chain_verify_enqueue(actor=actor, events=1)
    # The account that started it is gone from the worker's view: the task fails, and says so.
    DBTaskResult.objects.filter(pk=task.id).update(args_kwargs={"args": [], "kwargs": {"events": 1}})
    run_worker()
    client.force_login(admin_user)
    page = client.get(reverse("background_task", kwargs={"task_id": task.id})).content.decode()
    assert "Failed" in page and "stopped with an error (builtins.TypeError)" in page
    assert not AuditVerification.objects.exists()


@pytest.mark.django_db
def test_only_the_role_that_may_start_a_task_reads_it(client, admin_user, nurse, physician):
    task = audit_chain_verify_enqueue(actor=Actor.for_user(admin_user), events=1)
    url = reverse("background_task", kwargs={"task_id": task.id})
    for person in (nurse, physician):
        client.force_login(person)
        assert client.get(url).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("background_task", kwargs={"task_id": uuid.uuid4()})).status_code == 404


@pytest.mark.django_db
def test_a_clinician_cannot_start_a_verification(nurse):
    from records.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        audit_chain_verify_enqueue(actor=Actor.for_user(nurse), events=1)
    assert not DBTaskResult.objects.exists()
    assert not AuditEvent.objects.filter(record_type="background_task").exists()


@pytest.mark.django_db(transaction=True)
def test_progress_written_inside_a_read_transaction_is_seen_at_once_on_postgresql():
    from django.db import connection, transaction

    from records.tasks import progress_set

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's walk holds no transaction")
    seen = {}
    with transaction.atomic():
        progress_set("walk", "Checking the chain", 50_000, 100_000)

        def look() -> None:
            try:
                seen["value"] = progress_get("walk")
            finally:
                connections.close_all()

        reader = threading.Thread(target=look)
        reader.start()
        reader.join()
    assert seen["value"] == {"stage": "Checking the chain", "done": 50_000, "total": 100_000}
