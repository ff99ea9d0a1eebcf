"""One structured (JSON) log line per request, with the time spent in SQL.

Fields: method, path (without the query string, which may carry a name or an MRN
someone searched for), status, duration_ms, sql_ms, sql_queries, user_id, role.
Written to the logger "clinic.requests" (settings.LOGGING). No patient data: paths
carry only record numbers, which the audit log already ties to people.
"""

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger("clinic.requests")


class _SqlTimer:
    """A database execute wrapper (connection.execute_wrapper) adding up the queries and their time."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


class RequestLogMiddleware:
    """First in the middleware list, so that its time covers the whole request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timer = _SqlTimer()
        started = time.perf_counter()
        status = 500
        wrappers = [connections[alias].execute_wrapper(timer) for alias in connections]
        try:
            for wrapper in wrappers:
                wrapper.__enter__()
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
            if logger.isEnabledFor(logging.INFO):
                logger.info(json.dumps(self.fields(request, status, started, timer), separators=(",", ":")))

    @staticmethod
    def fields(request: HttpRequest, status: int, started: float, timer: _SqlTimer) -> dict[str, Any]:
        # Only what the request itself already loaded: logging never adds a query (a page
        # that never looked at its user, such as /health/, logs none).
        user = getattr(request, "user", None)
        if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
            user = None
        signed_in = user is not None and user.is_authenticated
        role = getattr(user, "_clinic_role", None) if signed_in else None
        return {
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "sql_ms": round(timer.seconds * 1000, 1),
            "sql_queries": timer.queries,
            "user_id": user.pk if user is not None and signed_in else None,
            "role": role.value if role else None,
        }
