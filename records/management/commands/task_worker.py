"""The background-task worker: django-tasks-db's `db_worker`, with a heartbeat for /health/.

Runs until stopped (Ctrl-C or SIGTERM: the task in hand is finished first). Run one or
more, each as its own service (deploy/systemd/clinic-task-worker.service); `make run`
starts one beside the web server.
"""

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django_tasks_db.management.commands import db_worker

from records.tasks import heartbeat_beat

logger = logging.getLogger(__name__)


def _beat() -> None:
    try:
        heartbeat_beat()
    except DatabaseError:
        logger.warning(
            "Task worker: the heartbeat could not be written; trying again in %s s.", settings.WORKER_HEARTBEAT_SECONDS
        )


def _beat_until(stopped: threading.Event) -> None:
    # Its own database connection (this thread's), closed when the worker stops.
    try:
        while not stopped.wait(settings.WORKER_HEARTBEAT_SECONDS):
            _beat()
    finally:
        connections.close_all()


class Command(db_worker.Command):
    help = (
        "Run background tasks (audit verification, FHIR exports) from the database queue, "
        "writing a heartbeat that /health/ checks. Takes db_worker's options."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # A thread that only beats: the tasks run in the main thread, one at a time. A
        # task busy for minutes still beats, as the worker is alive; a dead process stops.
        _beat()  # at once, before the first task: the worker is up
        stopped = threading.Event()
        beater = threading.Thread(target=_beat_until, args=(stopped,), name="task-worker-heartbeat", daemon=True)
        beater.start()
        try:
            super().handle(*args, **options)
        finally:
            stopped.set()
            beater.join(timeout=5)
