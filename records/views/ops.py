"""Operations: the load balancer's health check, and a background task's progress and result."""

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.tasks import TaskResultStatus
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from records.actions.context import actor_from_request
from records.actions.tasks import background_task_get, background_task_result_view
from records.tasks import heartbeat_age, progress_get

logger = logging.getLogger(__name__)

FINISHED = {TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED}


def _unapplied_migrations() -> int:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For a load balancer: 200 when this process can serve, 503 naming what is wrong.

    Checks the database answers, every migration is applied, and a task worker beat
    within WORKER_HEARTBEAT_MAX_AGE. Says nothing about patients or people; needs no
    log-in; writes nothing (not even an audit event: there is nothing to audit).
    """
    checks: dict[str, Any] = {}
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        checks["database"] = "unreachable"
    if checks["database"] == "ok":
        try:
            pending = _unapplied_migrations()
            checks["migrations"] = "ok" if pending == 0 else f"{pending} not applied"
            age = heartbeat_age()
            if age is None or age > settings.WORKER_HEARTBEAT_MAX_AGE:
                checks["worker"] = "no heartbeat" if age is None else f"last heartbeat {round(age)} s ago"
            else:
                checks["worker"] = "ok"
        except DatabaseError:
            logger.exception("Health check: a database read failed")
            checks["database"] = "failing"
    failed = [name for name, value in checks.items() if value != "ok"]
    body = {**checks, "status": "ok" if not failed else "failing", "failed": failed}
    return JsonResponse(body, status=503 if failed else 200)


@require_GET
def background_task(request, task_id: str) -> HttpResponse:
    """A task's progress, polled every 2 s (htmx) while it runs; its result when it has finished.

    Who may read it depends on the task (records.actions.tasks.TASK_KINDS). Showing a
    finished result is recorded as a view, as every page that shows a record is.
    """
    row, kind = background_task_get(user=request.user, task_id=str(task_id))
    finished = row.status in FINISHED
    if finished:
        background_task_result_view(actor=actor_from_request(request), task_id=str(row.pk), kind=kind)
    progress = progress_get(str(row.pk)) or {}
    done, total = progress.get("done"), progress.get("total")
    context = {
        "task": row,
        "kind": kind,
        "finished": finished,
        "succeeded": row.status == TaskResultStatus.SUCCESSFUL,
        "result": row.return_value or {},
        "stage": progress.get("stage") or ("Waiting for the worker" if row.status == "READY" else ""),
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if done is not None and total else None,
        "kind_name": row.task_path.rsplit(".", 1)[-1],
    }
    template = "records/tasks/_status.html" if request.htmx else "records/tasks/task.html"
    return render(request, template, context)
