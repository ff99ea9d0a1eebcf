"""The application's URLs plus one benchmark-only view: a bare authenticated INSERT.

The yardstick for the vitals POST (benchmarks/scale.py): the same server, the same
middleware and log-in, one row written, nothing else. Never part of the application.
"""

from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.urls import urlpatterns as app_urlpatterns

BARE_TABLE = "bench_bare_insert"


def create_bare_table() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY, at timestamptz, body text)"
            )
        else:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id integer PRIMARY KEY AUTOINCREMENT, at text, body text)"
            )


@require_POST
@login_required
def bare_insert(request):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (at, body) VALUES (%s, %s)",  # noqa: S608 (a constant)
            [timezone.now(), request.POST.get("systolic", "")],
        )
    return HttpResponse("ok")


urlpatterns = [path("bench/bare-insert/", bare_insert, name="bench_bare_insert"), *app_urlpatterns]
