"""Background tasks (Django's tasks framework, queued in the database by django-tasks-db).

They are enqueued only by actions (records.actions.audit.audit_chain_verify_enqueue,
records.actions.fhir.fhir_export_enqueue), which check the role and audit the start,
and run in `manage.py task_worker`, never in a web process. Each task acts as the
person who started it (their account, address and browser, as the audit log records
them) through the same actions a request would call, so its audit events read the same.

Progress and the worker's heartbeat are kept in the default cache, which is the
database's (settings.CACHES): every web process sees them. A task's result is its
row in the task table (DBTaskResult.return_value).
"""

import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.tasks import TaskContext, task

from records.actions.context import Actor
from records.models import User

PROGRESS_KEY = "tasks:progress:{}"
HEARTBEAT_KEY = "tasks:worker-heartbeat"
# Progress is kept a day after it was last written; the result itself stays in the task table.
PROGRESS_TTL = 24 * 60 * 60


@dataclass(frozen=True)
class Starter:
    """Who started a task, as the audit log records them, in a form a task's arguments can carry (JSON)."""

    user_id: int
    ip_address: str | None
    user_agent: str

    @classmethod
    def of(cls, actor: Actor) -> "Starter":
        return cls(user_id=actor.person.pk, ip_address=actor.ip_address, user_agent=actor.user_agent)

    def as_args(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "ip_address": self.ip_address, "user_agent": self.user_agent}


def _actor(starter: dict[str, Any]) -> Actor:
    user = User.objects.get(pk=starter["user_id"])
    return Actor.for_user(user, ip_address=starter["ip_address"], user_agent=starter["user_agent"])


def progress_set(task_id: str, stage: str, done: int | None = None, total: int | None = None) -> None:
    """Record how far a task has come, where the web processes see it at once.

    Inside a transaction (the verification walks the chain in one read-only transaction
    on PostgreSQL) a write would stay unseen until the end: it is written from a
    short-lived thread instead, which has a connection of its own. (On SQLite the walk
    holds no transaction.)
    """
    value = {"stage": stage, "done": done, "total": total}
    primary = connections[DEFAULT_DB_ALIAS]
    # SQLite has one writer at a time: a second connection would wait for this transaction.
    if not primary.in_atomic_block or primary.vendor != "postgresql":
        cache.set(PROGRESS_KEY.format(task_id), value, PROGRESS_TTL)
        return

    def write() -> None:
        try:
            cache.set(PROGRESS_KEY.format(task_id), value, PROGRESS_TTL)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write, name="task-progress")
    writer.start()
    writer.join()


def progress_get(task_id: str) -> dict[str, Any] | None:
    value = cache.get(PROGRESS_KEY.format(task_id))
    return value if isinstance(value, dict) else None


def heartbeat_beat() -> None:
    """The worker is alive: /health/ reads this (records.views.ops)."""
    cache.set(HEARTBEAT_KEY, time.time(), settings.WORKER_HEARTBEAT_MAX_AGE * 2)


def heartbeat_age() -> float | None:
    """Seconds since a worker last beat, or None when none has within the heartbeat's lifetime."""
    beat = cache.get(HEARTBEAT_KEY)
    return None if not isinstance(beat, float | int) else max(0.0, time.time() - beat)


@task(takes_context=True)
def audit_chain_verify_task(context: TaskContext, *, starter: dict[str, Any], events: int) -> dict[str, Any]:
    """Verify the whole audit chain and the signed sessions' seals, as the admin who started it."""
    from records.actions.audit import audit_chain_verify

    task_id = context.task_result.id
    progress_set(task_id, "Checking the chain", 0, events)
    run = audit_chain_verify(
        actor=_actor(starter), progress=lambda checked: progress_set(task_id, "Checking the chain", checked, events)
    )
    progress_set(task_id, "Finished", run.events_checked, events)
    return {
        "verification": run.pk,
        "result": run.result,
        "events_checked": run.events_checked,
        "sessions_checked": run.report.seals.sessions_checked if run.report.seals is not None else 0,
        "problem": run.problem,
    }


@task(takes_context=True)
def fhir_export_task(
    context: TaskContext,
    *,
    starter: dict[str, Any],
    name: str,
    patient_mrn: str,
    since: str | None,
    audit: bool,
    request_url: str,
) -> dict[str, Any]:
    """Write a FHIR bulk export under FHIR_EXPORT_DIR/<name> and its zip, as the admin who started it."""
    from records.fhir.export import ExportOptions, export_zip, fhir_export

    task_id = context.task_result.id
    options = ExportOptions(patient_mrn=patient_mrn, since=date.fromisoformat(since) if since else None, audit=audit)
    progress_set(task_id, "Writing the resources")
    result = fhir_export(_actor(starter), options, Path(settings.FHIR_EXPORT_DIR) / name, request_url=request_url)
    progress_set(task_id, "Zipping", result.total, result.total)
    export_zip(result.output_dir)
    progress_set(task_id, "Finished", result.total, result.total)
    return {"name": name, "total": result.total, "counts": result.counts}
