"""The audit report's sorts by user, role, address and details read an index, not a sort of every event.

On PostgreSQL, with sorting made prohibitively expensive for the planner, the page's query
must still find a plan without a Sort: one that reads the sort's index in order
(migrations 0009_audit_report_indexes and 0010_audit_details_sort_index). Without the index the
plan sorts.
"""

import pytest
from django.db import connection, transaction

from records.selectors import audit_events

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="plans are PostgreSQL's"),
]


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("user", "audit_user_sort_idx"),
        ("-user", "audit_user_sort_idx"),
        ("role", "audit_role_sort_idx"),
        ("from", "audit_address_sort_idx"),
        ("-from", "audit_address_sort_idx"),
        ("details", "audit_details_sort_idx"),
        ("-details", "audit_details_sort_idx"),
    ],
)
def test_the_sort_reads_its_index(admin_user, sort, index):
    plan = page_plan(admin_user, sort)
    assert index in plan, plan
    assert "Sort" not in plan, plan


def test_a_sort_without_an_index_sorts(admin_user):
    """The check above can tell: the sort by patient (the MRN, through a join; not indexed) still sorts."""
    assert "Sort" in page_plan(admin_user, "patient")


def page_plan(user, sort: str) -> str:
    sql, params = audit_events(user=user, sort=sort, before_seq=10**9)[:50].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())
