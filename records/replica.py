"""Reads that may lag, sent to a PostgreSQL streaming replica (settings.DATABASE_REPLICA_URL).

Only code that asks reads from the replica: the history, trends and audit-report pages
wrap their reads in `reads_from_replica(request)`, and a streamed export asks
`replica_alias(request)` for the alias to put on its queryset. Everything else, every
write and every audit event, is on the primary (records.db_routers.ReplicaRouter).

The replica is used only when all of these hold, checked in one cheap query:
- it is configured and answered within the last REPLICA_RETRY_SECONDS (a replica that
  did not answer is left alone that long: reads go to the primary, with one log line);
- no transaction is open on the primary (a read inside a write stays with the write);
- it has replayed the user's own last write: after each write request the primary's
  WAL position is kept in the user's session (ReadYourWritesMiddleware), and the
  replica must have replayed up to it, or the user's reads stay on the primary.
"""

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
SESSION_LSN_KEY = "_primary_lsn"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# The alias the ReplicaRouter gives reads to, inside reads_from_replica(); None elsewhere.
reading_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("reading_from", default=None)
# time.monotonic() when the replica last failed to answer, in this process.
_failed_at: float | None = None


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _mark_down(exc: Exception) -> None:
    global _failed_at
    _failed_at = time.monotonic()
    logger.warning(
        "Replica not answering (%s); reads go to the primary for %s s.",
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
        settings.REPLICA_RETRY_SECONDS,
    )
    with suppress(DatabaseError):
        connections[REPLICA].close()


def reset_replica_state() -> None:
    """Forget a failure (tests; a replica brought back by an operator is retried anyway)."""
    global _failed_at
    _failed_at = None


def replica_alias(request: HttpRequest | None = None) -> str:
    """The alias a read that may lag should use now: "replica" or, when it must not or cannot, "default"."""
    if not replica_configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    if _failed_at is not None and time.monotonic() - _failed_at < settings.REPLICA_RETRY_SECONDS:
        return DEFAULT_DB_ALIAS
    wrote_at = None
    session = getattr(request, "session", None)
    if session is not None:
        wrote_at = session.get(SESSION_LSN_KEY)
    try:
        with connections[REPLICA].cursor() as cursor:
            if wrote_at:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [wrote_at])
            else:
                cursor.execute("SELECT true")
            row = cursor.fetchone()
    except DatabaseError as exc:
        _mark_down(exc)
        return DEFAULT_DB_ALIAS
    return REPLICA if row and row[0] else DEFAULT_DB_ALIAS


@contextmanager
def reads_from_replica(request: HttpRequest | None = None) -> Iterator[str]:
    """Send the block's reads to the replica when it may be used (see the module); yields the alias used."""
    alias = replica_alias(request)
    token = reading_from.set(alias if alias != DEFAULT_DB_ALIAS else None)
    try:
        yield alias
    finally:
        reading_from.reset(token)


class ReadYourWritesMiddleware:
    """After a request that may have written, keep the primary's WAL position in the user's session.

    So that the user's next reads that may lag wait for nothing: until the replica has
    replayed that position, they go to the primary (replica_alias). One query, only on
    write requests, only when a replica is configured. Sits after the session middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if request.method in UNSAFE_METHODS and session is not None and replica_configured():
            primary = connections[DEFAULT_DB_ALIAS]
            if primary.vendor == "postgresql" and not primary.in_atomic_block:
                with primary.cursor() as cursor:
                    cursor.execute("SELECT pg_current_wal_lsn()::text")
                    row = cursor.fetchone()
                if row:
                    session[SESSION_LSN_KEY] = row[0]
        return response
